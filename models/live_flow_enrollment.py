import logging
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import format_date

_logger = logging.getLogger(__name__)

# Fans per job: one job's transaction stays short (coupons, activities and
# messages for a thousand fans), however many fans a rule matched.
BATCH_SIZE = 1000
# Enrollments claimed per dispatch round; each round commits.
DISPATCH_ROUND = 20000
JOB_CHANNEL = "root.live_automation"


class LiveFlowEnrollment(models.Model):
    """A fan's passage through a flow: the step to run next and when. One running
    enrollment per fan and flow (a partial unique index), so a rule matching a fan
    again while it is in the flow does nothing."""
    _name = "live.flow.enrollment"
    _description = "Live Flow Enrollment"
    _order = "id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    flow_id = fields.Many2one("live.flow", required=True, ondelete="cascade", index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    automation_id = fields.Many2one("base.automation", string="Automated Action", ondelete="set null",
                                    readonly=True)
    step_id = fields.Many2one("live.flow.step", string="Next Step", ondelete="set null", readonly=True)
    state = fields.Selection([("running", "Running"), ("done", "Done"), ("stopped", "Stopped")],
                             required=True, default="running", readonly=True)
    queued = fields.Boolean(readonly=True, help="Its next step waits in the job queue.")
    started_at = fields.Datetime(readonly=True)
    next_run_at = fields.Datetime(string="Next Run", readonly=True)
    ended_at = fields.Datetime(readonly=True)
    stop_reason = fields.Char(readonly=True)
    coupon_ids = fields.Many2many("loyalty.card", "live_flow_enrollment_coupon_rel", string="Coupons",
                                  readonly=True)

    def init(self):
        cr = self.env.cr
        cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS live_flow_enrollment_running_uniq
                ON live_flow_enrollment (flow_id, partner_id) WHERE state = 'running'
        """)
        cr.execute("""
            CREATE INDEX IF NOT EXISTS live_flow_enrollment_due_idx
                ON live_flow_enrollment (next_run_at) WHERE state = 'running' AND NOT queued
        """)

    @api.model
    def _cron_run(self, commit=False):
        """The scheduler's pass: evaluate the time-based automated actions that feed
        flows, then queue the due steps; with `commit`, each rule and each round of
        jobs in a transaction of its own."""
        self.env["res.partner"]._live_roll_birthdays()
        self.env["base.automation"]._live_evaluate(commit=commit)
        self._dispatch_due(commit=commit)

    @api.model
    def _dispatch_due(self, flows=None, commit=False):
        """Claim the due enrollments and queue one job per step, company and batch
        of fans. With the `live_flow_sync` context key (tests, demo) run them here."""
        sync = self.env.context.get("live_flow_sync")
        jobs = 0
        while True:
            self.env.flush_all()
            self.env.cr.execute("""
                UPDATE live_flow_enrollment e SET queued = TRUE
                  FROM (SELECT id FROM live_flow_enrollment
                         WHERE state = 'running' AND NOT queued AND next_run_at <= %s
                           AND (%s IS NULL OR flow_id = ANY(%s))
                         ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED) due
                 WHERE e.id = due.id
             RETURNING e.id, e.step_id, e.company_id
            """, (fields.Datetime.now(), flows.ids if flows else None, flows.ids if flows else None,
                  DISPATCH_ROUND))
            rows = self.env.cr.fetchall()
            if not rows:
                break
            groups = defaultdict(list)
            for enrollment_id, step_id, company_id in rows:
                groups[step_id, company_id].append(enrollment_id)
            self.invalidate_model(["queued"])
            for (step_id, company_id), ids in groups.items():
                step = self.env["live.flow.step"].browse(step_id)
                for start in range(0, len(ids), BATCH_SIZE):
                    batch = self.browse(sorted(ids[start:start + BATCH_SIZE])).with_company(company_id)
                    if sync:
                        batch._run_step()
                    else:
                        batch.with_delay(
                            channel=JOB_CHANNEL, priority=20,
                            description=_("%(flow)s: %(step)s for %(count)s fans", flow=step.flow_id.name,
                                          step=step.name, count=len(batch)),
                        )._run_step()
                    jobs += 1
            if commit:
                self.env.cr.commit()
        return jobs

    def _run_step(self):
        """Run the next step of these enrollments (one step, one company): re-check
        its condition, then act for all the fans still in, and move them on."""
        enrollments = self.filtered(lambda e: e.state == "running")
        if not enrollments:
            return
        now = fields.Datetime.now()
        for step, batch in enrollments.grouped("step_id").items():
            if not step:
                batch._finish(now)
                continue
            company = batch.company_id[:1]
            batch = batch.with_company(company)
            fans = batch.partner_id
            keep = self.env["res.partner"].with_context(active_test=False).search(
                [("id", "in", fans.ids)] + step._condition())
            gone = batch.filtered(lambda e: e.partner_id not in keep)
            gone._stop(_("Left %(flow)s before “%(step)s”: the condition no longer holds.",
                         flow=step.flow_id.name, step=step.name), now)
            batch -= gone
            if not batch:
                continue
            if step.mail_template_id:
                # Messages wait for the end of the company's quiet hours, and so does
                # the rest of the step (the coupon goes with its message).
                quiet_until = self.env["live.message"]._quiet_until(company, now)
                if quiet_until:
                    batch.write({"next_run_at": quiet_until, "queued": False})
                    continue
            batch._apply(step, now)
            following = step._next()
            if following:
                batch.write({"step_id": following.id, "next_run_at": now + following._delay(), "queued": False})
            else:
                batch.write({"step_id": False, "queued": False})
                batch._finish(now)
        next_due = self.search([("state", "=", "running"), ("queued", "=", False)], order="next_run_at", limit=1)
        if next_due:
            self.env.ref("live_commerce_crm.ir_cron_live_flows")._trigger(next_due.next_run_at)

    def _apply(self, step, now):
        """Do what the step says for these enrollments' fans, batch by batch."""
        fans = self.partner_id
        notes = {fan.id: [] for fan in fans}
        if step.tag_ids or step.remove_tag_ids:
            self._retag(fans, step)
        if step.activity_type_id:
            self._schedule_activities(step, notes)
        coupons = {}
        if step.loyalty_program_id:
            coupons = self._issue_coupons(step, notes)
        if step.pricelist_id:
            fans.write({"property_product_pricelist": step.pricelist_id.id})
        outcomes = {}
        if step.mail_template_id:
            # The message's outcome goes in the step's note: one note per fan and step.
            outcomes = self.env["live.message"]._send_batch(
                fans, step.mail_template_id, kind=step.message_kind, channels=step._channels(),
                values={fan_id: {"coupon": coupon} for fan_id, coupon in coupons.items()},
                origin=f"live.flow.step,{step.id}", note=False)._outcome_lines()
        if step.action_server_id:
            step.action_server_id.with_context(active_model="res.partner", active_ids=fans.ids,
                                               active_id=fans[:1].id).run()
        summary = step._summary()
        title = _("%(flow)s: “%(step)s” done", flow=step.flow_id.name, step=step.name)
        bodies = {}
        message_title = _("Message %s:", step.mail_template_id.name) if step.mail_template_id else ""
        for fan_id, extra in notes.items():
            lines = Markup("").join(Markup("<br/>%s") % line for line in extra)
            bodies[fan_id] = Markup("<p><b>%s</b> (%s)%s</p>") % (title, summary, lines)
            if fan_id in outcomes:
                bodies[fan_id] += Markup("<p>%s</p>%s") % (message_title, outcomes[fan_id])
        fans._message_log_batch(bodies)

    def _retag(self, fans, step):
        # As the tag rules do (live.fan.tag.runner): one statement for the batch.
        cr = self.env.cr
        if step.tag_ids:
            cr.execute("""
                INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
                SELECT f, t FROM unnest(%s::int[]) f, unnest(%s::int[]) t ORDER BY f, t
                ON CONFLICT DO NOTHING
            """, (fans.ids, step.tag_ids.ids))
        if step.remove_tag_ids:
            cr.execute("DELETE FROM res_partner_res_partner_category_rel WHERE partner_id = ANY(%s) "
                       "AND category_id = ANY(%s)", (fans.ids, step.remove_tag_ids.ids))
        fans.invalidate_recordset(["category_id"])

    def _schedule_activities(self, step, notes):
        """The step's activity for each fan's salesperson (else the step's user), with
        Odoo's activity_schedule, one batch per user."""
        deadline = fields.Date.context_today(self) + relativedelta(days=step.activity_days)
        summary = step.activity_summary or step.activity_type_id.summary or step.name
        for user, enrollments in self.grouped(lambda e: e.partner_id.user_id or step.activity_user_id).items():
            if not user:
                for fan in enrollments.partner_id:
                    notes[fan.id].append(_("No activity: the fan has no salesperson and the step names nobody."))
                continue
            enrollments.partner_id.sudo().activity_schedule(
                activity_type_id=step.activity_type_id.id, summary=summary, date_deadline=deadline, user_id=user.id)

    def _issue_coupons(self, step, notes):
        """One coupon per fan, as the loyalty module's generation wizard makes them,
        in one create. Returns {fan id: loyalty.card}."""
        program = step.loyalty_program_id
        valid_until = fields.Date.context_today(self) + relativedelta(days=step.coupon_validity_days) if step.coupon_validity_days else False
        wizard = self.env["loyalty.generate.wizard"].new({
            "program_id": program.id, "mode": "selected", "valid_until": valid_until,
            "description": step.flow_id.name,
        })
        vals_list = [wizard._get_coupon_values(enrollment.partner_id) for enrollment in self]
        for vals, code in zip(vals_list, self.env["loyalty.card"]._live_new_codes(len(vals_list))):
            vals["code"] = code
        # Without a creation note and tracking on each card: the fan's chatter says
        # which coupon it got (a thousand card notes would double the job's time).
        cards = self.env["loyalty.card"].sudo().with_context(tracking_disable=True).create(vals_list)
        self.env["loyalty.history"].sudo().create([{
            "description": step.flow_id.name, "card_id": card.id, "issued": wizard.points_granted,
        } for card in cards])
        self.env.cr.execute("""
            INSERT INTO live_flow_enrollment_coupon_rel (live_flow_enrollment_id, loyalty_card_id)
            SELECT unnest(%s::int[]), unnest(%s::int[]) ON CONFLICT DO NOTHING
        """, (self.ids, cards.ids))
        self.invalidate_recordset(["coupon_ids"])
        by_fan = {}
        expiry = _(", valid until %s", format_date(self.env, valid_until)) if valid_until else ""
        for enrollment, card in zip(self, cards):
            by_fan[enrollment.partner_id.id] = card
            notes[enrollment.partner_id.id].append(
                Markup("%s") % _("Coupon %(code)s (%(program)s%(expiry)s)", code=card.code,
                                 program=program.name, expiry=expiry))
        return by_fan

    def _stop(self, reason, now=None):
        if not self:
            return
        self.write({"state": "stopped", "queued": False, "ended_at": now or fields.Datetime.now(),
                    "stop_reason": reason})
        self.partner_id._message_log_batch({e.partner_id.id: Markup("<p>%s</p>") % escape(reason) for e in self})

    def _finish(self, now):
        self.write({"state": "done", "queued": False, "ended_at": now})

    def action_stop(self):
        self.filtered(lambda e: e.state == "running")._stop(
            _("Taken out of the flow by %s.", self.env.user.name))
