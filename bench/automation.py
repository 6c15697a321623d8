"""Automated actions benchmark: the dormant rule over a million fans, and the
coupons of 100,000 of them, each beside its baseline measured in the same run.

Usage (bench/run.sh automation does it): python bench/automation.py -c ODOO_CONF -d DB [--fans N] [--hit N]

The fans are those of the RFM benchmark's company ("RFM Bench"), made by it when
they are not there (bench/rfm.py's setup and a first recompute: every fan gets its
last activity). Then, each timed on its own and committed:

  * baseline: one search_count on live.fan.rfm with the dormant rule's domain
    and its due window, the least any evaluation of the rule must do;
  * the rule's evaluation as the 5-minute scheduler runs it when nothing is due,
    and when --hit fans (default 100,000) fell dormant since its last run: the
    search, then their enrollment in the flow in batches of 1,000, each committed
    (the longest of those transactions is printed too);
  * baseline: the loyalty module's own batch generation (loyalty.generate.wizard,
    mode "selected") of one coupon for each of those fans, 1,000 per wizard (its
    codes collide at this scale: a colliding batch is made again, and counted);
  * the flow's coupons for them, batch after batch of 1,000 as its jobs make them
    (the same values as the wizard);
  * the whole first step (condition, tag, coupon, chatter note, message) for
    --step-fans of them (default 10,000), to give its rate in fans per second.
"""
from datetime import timedelta

import time

import psycopg2

from odoo import SUPERUSER_ID, api, fields

# bench/, the script's folder
from odoo_bench import bench_parser, open_registry
from rfm import analyze, setup, timed

RULE = "live_commerce_crm.automation_live_dormant"
FLOW = "live_commerce_crm.live_flow_dormant"


def forget_runs(env, company):
    """What an earlier run of this benchmark left: enrollments, coupons, notes."""
    cr = env.cr
    cr.execute("DELETE FROM live_flow_enrollment WHERE company_id = %s", [company.id])
    cr.execute("""DELETE FROM loyalty_card WHERE program_id = %s AND partner_id IN
                  (SELECT id FROM res_partner WHERE company_id = %s)""",
               [env.ref("live_commerce_crm.loyalty_program_comeback").id, company.id])
    cr.execute("""DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN
                  (SELECT id FROM res_partner WHERE company_id = %s AND name LIKE 'rfm-bench-%%')""", [company.id])
    env.cr.commit()


def main():
    parser = bench_parser()
    parser.add_argument("--fans", type=int, default=1_000_000)
    parser.add_argument("--hit", type=int, default=100_000, help="fans the dormant rule finds due")
    parser.add_argument("--step-fans", type=int, default=10_000, help="fans the whole first step is timed on")
    parser.add_argument("--reuse", action="store_true", help="keep the fans of a previous run")
    args = parser.parse_args()
    registry = open_registry(args)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        company, _orders = setup(env, args.fans, args.reuse)
        analyze(env)
        cr.execute("SELECT count(*) FROM live_fan_rfm WHERE company_id = %s", [company.id])
        if cr.fetchone()[0] < args.fans:
            seconds, _changed = timed(env, lambda: env["live.fan.rfm"]._recompute(company))
            print(f"Fans' figures computed in {seconds:.0f} s", flush=True)
        forget_runs(env, company)
        analyze(env)
        env.cr.execute("ANALYZE live_flow_enrollment")
        rule = env.ref(RULE)
        flow = env.ref(FLOW)
        env["base.automation"].search([("live_flow_rule", "=", True), ("id", "!=", rule.id)]).active = False
        now = fields.Datetime.now()
        # The last run that leaves --hit fans due: the hit-th latest activity older than the delay.
        cr.execute("""SELECT last_activity_at FROM live_fan_rfm
                       WHERE company_id = %s AND last_activity_at < %s
                       ORDER BY last_activity_at DESC OFFSET %s LIMIT 1""",
                   [company.id, now - timedelta(days=rule.trg_date_range), args.hit - 1])
        last_run = cr.fetchone()[0] + timedelta(days=rule.trg_date_range)

        def baseline_count(since):
            start, end = since - timedelta(days=rule.trg_date_range), now - timedelta(days=rule.trg_date_range)
            return env["live.fan.rfm"].search_count([("company_id", "=", company.id),
                                                     ("last_activity_at", ">=", start),
                                                     ("last_activity_at", "<", end)])

        batch_seconds = []
        Automation = type(rule)
        run_actions = Automation._live_run_actions

        def timed_batch(automation, records):
            # A batch's transaction: its actions, then the scheduler's commit.
            started = time.monotonic()
            run_actions(automation, records)
            env.cr.commit()
            batch_seconds.append(time.monotonic() - started)

        def evaluate(since):
            rule.last_run = since
            env.cr.commit()
            batch_seconds.clear()
            Automation._live_run_actions = timed_batch
            try:
                return len(rule._live_evaluate_one(now=now, commit=True))
            finally:
                Automation._live_run_actions = run_actions

        quiet_since = now - timedelta(minutes=5)
        base_quiet, _count = timed(env, lambda: baseline_count(quiet_since))
        eval_quiet, found_quiet = timed(env, lambda: evaluate(quiet_since))
        base_hit, count = timed(env, lambda: baseline_count(last_run))
        eval_hit, found = timed(env, lambda: evaluate(last_run))
        longest = max(batch_seconds, default=0.0)
        batches = len(batch_seconds)
        enrolled = env["live.flow.enrollment"].search_count([("flow_id", "=", flow.id), ("state", "=", "running")])

        # The loyalty module's own generation, for the same fans, then undone.
        fans = env["live.flow.enrollment"].search([("flow_id", "=", flow.id), ("state", "=", "running")]).partner_id
        program = env.ref("live_commerce_crm.loyalty_program_comeback")

        collisions = []

        def wizard():
            # In batches of 1,000 as our jobs make them. Odoo's codes carry 32 random
            # bits: over 100,000 coupons a code collides more often than not, which
            # fails the wizard's whole insert; a batch that collides is made again.
            for start in range(0, len(fans), 1000):
                while True:
                    try:
                        with env.cr.savepoint():
                            env["loyalty.generate.wizard"].create({
                                "program_id": program.id, "mode": "selected",
                                "customer_ids": [(6, 0, fans[start:start + 1000].ids)],
                                "valid_until": fields.Date.today() + timedelta(days=14),
                            }).generate_coupons()
                        break
                    except psycopg2.errors.UniqueViolation:
                        collisions.append(start)
                        env.invalidate_all()
                env.cr.commit()
            return env["loyalty.card"].search_count([("program_id", "=", program.id)])

        base_coupons, made = timed(env, wizard)
        cr.execute("DELETE FROM loyalty_card WHERE program_id = %s", [program.id])
        env.cr.commit()
        env.invalidate_all()

        # Our coupons for the same fans, as the flow's jobs make them: 1,000 a batch.
        enrollments = env["live.flow.enrollment"].search([("flow_id", "=", flow.id), ("state", "=", "running")],
                                                         order="id")
        step = flow.step_ids[0]

        def our_coupons():
            for start in range(0, len(enrollments), 1000):
                batch = enrollments[start:start + 1000].with_company(company)
                batch._issue_coupons(step, {fan_id: [] for fan_id in batch.partner_id.ids})
                env.cr.commit()
            return env["loyalty.card"].search_count([("program_id", "=", program.id)])

        coupon_seconds, issued = timed(env, our_coupons)
        cr.execute("DELETE FROM loyalty_card WHERE program_id = %s", [program.id])
        env.cr.commit()
        env.invalidate_all()

        # The whole first step (condition, tag, coupon, chatter note, message) for a
        # sample, as the jobs run it.
        sample = enrollments[:args.step_fans].with_company(company)

        def run_step():
            for start in range(0, len(sample), 1000):
                sample[start:start + 1000]._run_step()
                env.cr.commit()
            return len(sample)

        step_seconds, stepped = timed(env, run_step)
        jobs = -(-stepped // 1000)
        print(f"Automated actions, {args.fans:,} fans: the dormant rule ({rule.trg_date_range} days)")
        print(f"{'search_count, same domain, nothing due':<52} {base_quiet * 1000:>8.0f} ms  (baseline)")
        print(f"{'rule evaluated, nothing due (every 5 minutes)':<52} {eval_quiet * 1000:>8.0f} ms  "
              f"{found_quiet} found  {eval_quiet / base_quiet:.1f} x baseline")
        print(f"{'search_count, same domain, ' + format(count, ',') + ' due':<52} {base_hit * 1000:>8.0f} ms  "
              "(baseline)")
        print(f"{'rule evaluated, fans found and enrolled':<52} {eval_hit * 1000:>8.0f} ms  {found:,} found, "
              f"{enrolled:,} enrolled  {eval_hit / base_hit:.1f} x baseline")
        print(f"{'  longest transaction among the ' + format(batches, ',') + ' batches':<52} {longest * 1000:>8.0f} ms")
        print(f"{'loyalty.generate.wizard, batches of 1,000':<52} {base_coupons:>8.1f} s  {made:,} coupons "
              f"(baseline; {len(collisions)} batch(es) made again after a code collision)")
        print(f"{'flow coupons, batches of 1,000 (as the jobs)':<52} {coupon_seconds:>8.1f} s  {issued:,} coupons  "
              f"{coupon_seconds / base_coupons:.2f} x baseline")
        print(f"{'flow step, all of it, ' + format(stepped, ',') + ' fans':<52} {step_seconds:>8.1f} s  {jobs} jobs  "
              f"{stepped / step_seconds:,.0f} fans/s (condition, tag, coupon, note, message)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
