import logging
import time
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from .sale_order import paid_sql

_logger = logging.getLogger(__name__)
# The duration of each step of the last recompute in this process (bench/rfm.py).
LAST_STEPS = {}

QUINTILES = [0.2, 0.4, 0.6, 0.8]
# Queued fans recomputed per transaction (_drain_queue).
QUEUE_CHUNK = 2000
TOUCHED_KEY = "live_fan_rfm.touched"
WAKE_KEY = "live_fan_rfm.wake"
FIGURE_COLUMNS = ["order_count", "gmv", "refunded_amount", "paid_amount", "live_order_count", "live_paid_amount",
                  "first_order_at", "last_order_at", "window_order_count", "window_amount", "last_activity_at",
                  "recency_score", "frequency_score", "monetary_score", "rfm_method"]

# RFM segments from the 1-5 scores (metrics.md: 555 Champions, 155/154/144 At Risk,
# 111/112 Hibernating). fm is the mean of F and M, rounded up. Buyers with no paid
# order in the window are Lost whatever their scores.
QUINTILE_SEGMENT_SQL = """
    CASE WHEN window_order_count = 0 THEN 'lost'
         WHEN r >= 4 AND fm >= 4 THEN 'champions'
         WHEN r >= 4 AND order_count = 1 THEN 'new'
         WHEN r >= 4 AND fm <= 2 THEN 'promising'
         WHEN r >= 4 THEN 'potential'
         WHEN r = 3 AND fm >= 3 AND f >= 2 THEN 'loyal'
         WHEN r = 3 THEN 'needs_attention'
         WHEN r = 2 AND fm >= 4 THEN 'at_risk'
         WHEN r = 2 AND fm >= 2 THEN 'needs_attention'
         WHEN r = 1 AND fm >= 3 THEN 'at_risk'
         ELSE 'hibernating' END"""
# Small shops: each of R, F and M is high (5) or low (1) against a fixed threshold,
# the Chinese 8-cell grid, named like the quintile segments: 重要价值 Champions,
# 一般价值 Loyal, 重要深耕 Potential Loyalist, 一般发展 New (first order) or
# Promising, 重要唤回 and 重要挽留 At Risk, 一般保持 Needs Attention, 一般挽留
# Hibernating.
FIXED_SEGMENT_SQL = """
    CASE WHEN window_order_count = 0 THEN 'lost'
         WHEN r = 5 AND f = 5 AND m = 5 THEN 'champions'
         WHEN r = 5 AND f = 5 THEN 'loyal'
         WHEN r = 5 AND m = 5 THEN 'potential'
         WHEN r = 5 AND order_count = 1 THEN 'new'
         WHEN r = 5 THEN 'promising'
         WHEN m = 5 THEN 'at_risk'
         WHEN f = 5 THEN 'needs_attention'
         ELSE 'hibernating' END"""


class LiveFanRfm(models.Model):
    """A fan's order figures and RFM scores, one row per fan, and the recompute
    that writes them with the fan's segment, lifecycle stage and value layer.

    Everything is computed set-based in SQL, per company: for the fans a processed
    batch touched (live.event.processor) and nightly for all (ir.cron). The figures
    live in this narrow table; the partner row only gets the segment, stage and
    value layer, and only when they change, so that a nightly run over a million
    fans rewrites the few that moved. Orders count across all of a person's paid
    sale orders (sale.order PAID_DOMAIN), live or not, the fan's own and those of its
    contacts (delivery addresses); amounts are in the company's currency, net of
    refunds.
    """
    _name = "live.fan.rfm"
    _description = "Fan Order Figures and RFM"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    order_count = fields.Integer(string="Paid Orders", readonly=True)
    gmv = fields.Monetary(string="GMV", readonly=True)
    refunded_amount = fields.Monetary(string="Refunded", readonly=True)
    paid_amount = fields.Monetary(string="Paid Amount", readonly=True, help="GMV less refunds, over all time.")
    live_order_count = fields.Integer(string="Paid Live Orders", readonly=True)
    live_paid_amount = fields.Monetary(string="Paid in Live Channels", readonly=True)
    first_order_at = fields.Datetime(string="First Order Date", readonly=True)
    last_order_at = fields.Datetime(string="Last Order Date", readonly=True)
    window_order_count = fields.Integer(string="Orders in Window", readonly=True)
    window_amount = fields.Monetary(string="Paid in Window", readonly=True)
    last_activity_at = fields.Datetime(string="Last Activity", readonly=True, index=True,
                                       help="The last interaction or paid order, whichever is later.")
    recency_score = fields.Integer(string="R Score", readonly=True)
    frequency_score = fields.Integer(string="F Score", readonly=True)
    monetary_score = fields.Integer(string="M Score", readonly=True)
    rfm_method = fields.Selection([("quintile", "Quintiles"), ("fixed", "Fixed Thresholds")],
                                  string="Scored By", readonly=True)

    _sql_constraints = [
        ("partner_unique", "unique(partner_id)", "A fan has one row of order figures."),
    ]

    def init(self):
        # Fans waiting for their recompute: what a processed batch or an order's
        # change touched. No key, no constraint: concurrent processors append
        # without ever waiting on each other; a fan queued twice is computed once.
        self.env.cr.execute("""
            CREATE TABLE IF NOT EXISTS live_fan_rfm_queue (
                company_id integer NOT NULL,
                partner_id integer NOT NULL,
                tx bigint NOT NULL DEFAULT txid_current()  -- the top-level transaction, even in a savepoint
            )
        """)

    # ------------------------------------------------------------------
    @api.model
    def _touch(self, partner_ids_by_company):
        """Mark fans ({company id: fan ids}) for recomputing. They are queued when
        the transaction commits (one insert per transaction, whatever marked them)
        and recomputed by the next drain of the queue, or at once by
        _recompute_touched."""
        touched = self.env.cr.precommit.data.get(TOUCHED_KEY)
        if touched is None:
            touched = self.env.cr.precommit.data[TOUCHED_KEY] = defaultdict(set)
            self.env.cr.precommit.add(self._queue_touched)
        if not self.env.context.get("live_fans_drained_by_processor"):
            # No processor call ends this work: the queue's own job drains it.
            self.env.cr.precommit.data[WAKE_KEY] = True
        for company_id, partner_ids in partner_ids_by_company.items():
            if company_id:
                touched[company_id].update(partner_id for partner_id in partner_ids if partner_id)

    def _queue_touched(self):
        touched = self.env.cr.precommit.data.pop(TOUCHED_KEY, None) or {}
        rows = [(company_id, partner_id) for company_id, partner_ids in touched.items() for partner_id in partner_ids]
        if rows:
            self.env.cr.execute(
                "INSERT INTO live_fan_rfm_queue (company_id, partner_id) SELECT * FROM unnest(%s::int[], %s::int[])",
                [[row[0] for row in rows], [row[1] for row in rows]])
            if self.env.cr.precommit.data.pop(WAKE_KEY, False):
                self.env.ref("live_commerce_crm.ir_cron_drain_fan_queue").sudo()._trigger()
                self.env.flush_all()  # the trigger's row, created after the transaction's flush

    @api.model
    def _cron_drain_queue(self):
        self.env.cr.commit()  # the cron framework's own transaction: each chunk gets its own
        self._drain_queue(time_budget=60)

    @api.model
    def _recompute_touched(self):
        """Recompute the fans this transaction marked, now, in it (events re-run by
        a user, tests): nothing is left to queue."""
        touched = self.env.cr.precommit.data.pop(TOUCHED_KEY, None) or defaultdict(set)
        self.env.cr.precommit.data.pop(WAKE_KEY, None)
        # A savepoint runs the precommit hooks: what they queued in this transaction.
        self.env.cr.execute("DELETE FROM live_fan_rfm_queue WHERE tx = txid_current() RETURNING company_id, partner_id")
        for company_id, partner_id in self.env.cr.fetchall():
            touched[company_id].add(partner_id)
        if touched:
            self._recompute_fans(touched)

    @api.model
    def _drain_queue(self, time_budget=None, chunk=QUEUE_CHUNK):
        """Recompute the queued fans, a chunk per transaction, until the queue is
        empty or the time budget is spent (what is left waits for the next call).
        Runs in the processor's cron call after its batches, never inside a batch:
        the events' lag does not wait for it, and processors never wait on each
        other's fans. Returns the number of queue rows taken."""
        cr = self.env.cr
        deadline = time.monotonic() + time_budget if time_budget is not None else None
        taken = 0
        while True:
            self.env["live.event"]._read_committed()
            # SKIP LOCKED: two processors draining at once take different rows.
            cr.execute("""
                DELETE FROM live_fan_rfm_queue
                 WHERE ctid = ANY(ARRAY(SELECT ctid FROM live_fan_rfm_queue LIMIT %s FOR UPDATE SKIP LOCKED))
             RETURNING company_id, partner_id
            """, [chunk])
            rows = cr.fetchall()
            if not rows:
                cr.commit()
                return taken
            taken += len(rows)
            touched = defaultdict(set)
            for company_id, partner_id in rows:
                touched[company_id].add(partner_id)
            try:
                with cr.savepoint():
                    self._recompute_fans(touched)
            except Exception:  # noqa: BLE001
                # The rows stay taken: the nightly recompute catches these fans up,
                # rather than a failing chunk blocking the queue forever.
                _logger.exception("Recomputing %s queued fan(s) failed; the nightly run will", len(rows))
            cr.commit()
            if deadline is not None and time.monotonic() >= deadline:
                return taken

    @api.model
    def _cron_recompute(self):
        """Nightly: every fan of every company (recency, dormancy and churn move
        with the calendar, and orders confirmed by hand are counted)."""
        each_company_nightly(self.env, self._recompute)

    @api.model
    def _recompute_fans(self, partner_ids_by_company):
        """After a processed batch: {company id: fan ids} touched by it."""
        each_touched_company(self.env, partner_ids_by_company, self._recompute)

    @api.model
    def _recompute(self, company, partner_ids=None):
        """Recompute the figures, segment, lifecycle stage and value layer of the
        company's fans (`partner_ids`, else all of them). Returns the number of fans
        whose segment, stage or value layer changed."""
        self = self.sudo()
        company = company.sudo()
        cr = self.env.cr
        started = time.monotonic()
        LAST_STEPS.clear()
        self.env.flush_all()
        cutoffs = company.live_rfm_cutoffs
        if partner_ids is not None and not cutoffs:
            partner_ids = None  # never scored: the whole company once, for its cut-offs
        full = partner_ids is None
        now = fields.Datetime.now()
        params = {
            "company": company.id, "all": full, "ids": list(partner_ids or []), "now": now,
            "today": now.date(), "window_start": now - timedelta(days=company.live_rfm_window_days),
            "uid": self.env.uid,
        }
        if full:
            cr.execute("SET LOCAL work_mem = '256MB'")
            # Every fan is computed: what was marked or queued before needs nothing more
            # (what commits after this point is queued again).
            (cr.precommit.data.get(TOUCHED_KEY) or {}).pop(company.id, None)
            cr.execute("DELETE FROM live_fan_rfm_queue WHERE company_id = %s", [company.id])
        cr.execute("DROP TABLE IF EXISTS lcc_fan_figures")
        cr.execute(f"""
            CREATE TEMP TABLE lcc_fan_figures AS
            WITH fans AS (
                SELECT p.id, p.fan_since, p.create_date FROM res_partner p
                 WHERE p.company_id = %(company)s AND p.is_live_fan AND p.active
                   AND (%(all)s OR p.id = ANY(%(ids)s::int[]))
            ), paid AS (
                SELECT fan_id, paid_at, live_channel_id, gmv / rate AS gmv, refunded / rate AS refunded
                  FROM ({fan_paid_orders_sql('fans')}) o
            ), orders AS (
                SELECT fan_id, count(*) AS order_count, sum(gmv) AS gmv, sum(refunded) AS refunded_amount,
                       count(*) FILTER (WHERE live_channel_id IS NOT NULL) AS live_order_count,
                       sum(gmv - refunded) FILTER (WHERE live_channel_id IS NOT NULL) AS live_paid_amount,
                       min(paid_at) AS first_order_at, max(paid_at) AS last_order_at,
                       count(*) FILTER (WHERE paid_at >= %(window_start)s) AS window_order_count,
                       sum(gmv - refunded) FILTER (WHERE paid_at >= %(window_start)s) AS window_amount
                  FROM paid GROUP BY fan_id
            )
            SELECT f.id AS partner_id,
                   COALESCE(o.order_count, 0)::int AS order_count,
                   COALESCE(o.gmv, 0)::numeric AS gmv,
                   COALESCE(o.refunded_amount, 0)::numeric AS refunded_amount,
                   (COALESCE(o.gmv, 0) - COALESCE(o.refunded_amount, 0))::numeric AS paid_amount,
                   COALESCE(o.live_order_count, 0)::int AS live_order_count,
                   COALESCE(o.live_paid_amount, 0)::numeric AS live_paid_amount,
                   o.first_order_at, o.last_order_at,
                   COALESCE(o.window_order_count, 0)::int AS window_order_count,
                   COALESCE(o.window_amount, 0)::numeric AS window_amount,
                   COALESCE(GREATEST(o.last_order_at, s.last_interaction_at), f.fan_since, f.create_date)
                       AS last_activity_at,
                   %(today)s::date - o.last_order_at::date AS recency_days
              FROM fans f
              LEFT JOIN orders o ON o.fan_id = f.id
              LEFT JOIN live_fan_stats s ON s.partner_id = f.id
        """, params)
        self._step("figures", started)
        if full:
            cr.execute("ANALYZE lcc_fan_figures")
            cutoffs = self._compute_cutoffs(company, now)
            self._step("cut-offs", started)
        quintile = cutoffs["buyers"] >= company.live_rfm_quintile_min_buyers
        r_cut, f_cut, m_cut = cutoffs["r"], cutoffs["f"], cutoffs["m"]
        if quintile:
            # A score counts the quintile cut-offs the value is beyond: ties share a
            # score, and the most common value (one order) scores 1, not 3.
            r_sql = "5 - (" + " + ".join(f"(recency_days > {float(c)!r})::int" for c in r_cut) + ")"
            f_sql = "1 + " + " + ".join(f"(window_order_count > {float(c)!r})::int" for c in f_cut)
            m_sql = "1 + " + " + ".join(f"(window_amount > {float(c)!r})::int" for c in m_cut)
            segment_sql = QUINTILE_SEGMENT_SQL
        else:
            r_sql = "CASE WHEN recency_days < %(recent_days)s THEN 5 ELSE 1 END"
            f_sql = "CASE WHEN window_order_count >= %(frequent_orders)s THEN 5 ELSE 1 END"
            m_sql = "CASE WHEN window_amount >= %(monetary_amount)s THEN 5 ELSE 1 END"
            segment_sql = FIXED_SEGMENT_SQL
        params.update({
            "recent_days": company.live_rfm_recent_days, "frequent_orders": company.live_rfm_frequent_orders,
            "monetary_amount": company.live_rfm_monetary_amount, "vip_amount": company.live_vip_amount,
            "dormant_days": company.live_dormant_days, "churned_days": company.live_churned_days,
            "high_cut": cutoffs["high"], "medium_cut": cutoffs["medium"],
            "method": "quintile" if quintile else "fixed",
        })
        cr.execute("DROP TABLE IF EXISTS lcc_fan_results")
        cr.execute(f"""
            CREATE TEMP TABLE lcc_fan_results AS
            WITH scored AS (
                SELECT x.*, (f + m + 1) / 2 AS fm, %(today)s::date - last_activity_at::date AS idle_days,
                       CASE WHEN order_count = 0 THEN 'passerby'
                            WHEN paid_amount >= %(vip_amount)s THEN 'vip'
                            WHEN order_count >= 2 THEN 'repeat'
                            ELSE 'first_order' END AS base_stage
                  FROM (SELECT g.*,
                               CASE WHEN window_order_count > 0 THEN {r_sql} END AS r,
                               CASE WHEN window_order_count > 0 THEN {f_sql} END AS f,
                               CASE WHEN window_order_count > 0 THEN {m_sql} END AS m
                          FROM lcc_fan_figures g) x
            )
            SELECT partner_id, order_count, gmv, refunded_amount, paid_amount, live_order_count, live_paid_amount,
                   first_order_at, last_order_at, window_order_count, window_amount, last_activity_at,
                   r AS recency_score, f AS frequency_score, m AS monetary_score,
                   CASE WHEN order_count > 0 THEN %(method)s END AS rfm_method,
                   CASE WHEN order_count > 0 THEN {segment_sql} END AS segment,
                   CASE WHEN window_amount <= 0 THEN NULL
                        WHEN window_amount >= %(high_cut)s THEN 'high'
                        WHEN window_amount >= %(medium_cut)s THEN 'medium'
                        ELSE 'low' END AS value_layer,
                   CASE WHEN idle_days >= %(churned_days)s THEN 'churned'
                        WHEN idle_days >= %(dormant_days)s THEN 'dormant'
                        ELSE base_stage END AS stage,
                   CASE WHEN idle_days >= %(churned_days)s THEN last_activity_at::date + %(churned_days)s
                        WHEN idle_days >= %(dormant_days)s THEN last_activity_at::date + %(dormant_days)s
                        ELSE COALESCE(LEAST(last_activity_at::date, %(today)s::date), %(today)s::date)
                   END AS stage_date
              FROM scored
        """, params)
        self._step("scores", started)
        changed = self._write_results(company, params, started)
        cr.execute("DROP TABLE lcc_fan_figures; DROP TABLE lcc_fan_results")
        self.env["live.fan.rfm"].invalidate_model()
        self.env["live.fan.lifecycle.log"].invalidate_model()
        # The partner's columns, and its fields related to these rows.
        self.env["res.partner"].invalidate_model()
        if full:
            _logger.info("Fan intelligence of %s recomputed in %.1f s: %s buyer(s) in the window, %s, %s fan(s) "
                         "changed", company.name, time.monotonic() - started, cutoffs["buyers"],
                         params["method"], changed)
        return changed

    def _compute_cutoffs(self, company, now):
        """Quintile cut-offs of R, F and M over the company's buyers in the window,
        and the value layers' amounts (the buyers who bring the first `high share`
        of the window's paid amount are high value, and so on), stored on the
        company for the recomputes after each batch."""
        cr = self.env.cr
        cr.execute("""
            SELECT count(*),
                   percentile_disc(%(q)s::float8[]) WITHIN GROUP (ORDER BY recency_days),
                   percentile_disc(%(q)s::float8[]) WITHIN GROUP (ORDER BY window_order_count),
                   percentile_disc(%(q)s::float8[]) WITHIN GROUP (ORDER BY window_amount)
              FROM lcc_fan_figures WHERE window_order_count > 0
        """, {"q": QUINTILES})
        buyers, r_cut, f_cut, m_cut = cr.fetchone()
        cr.execute("""
            SELECT min(window_amount) FILTER (WHERE before < %(high)s * total),
                   min(window_amount) FILTER (WHERE before < %(medium)s * total)
              FROM (SELECT window_amount,
                           sum(window_amount) OVER (ORDER BY window_amount DESC, partner_id
                                                    ROWS UNBOUNDED PRECEDING) - window_amount AS before,
                           sum(window_amount) OVER () AS total
                      FROM lcc_fan_figures WHERE window_amount > 0) c
        """, {"high": company.live_value_high_share / 100.0, "medium": company.live_value_medium_share / 100.0})
        high, medium = cr.fetchone()
        cutoffs = {
            "buyers": buyers, "r": [float(c) for c in r_cut or [0] * 4], "f": [float(c) for c in f_cut or [0] * 4],
            "m": [float(c) for c in m_cut or [0] * 4],
            "high": float(high or 0), "medium": float(medium or 0), "computed_at": fields.Datetime.to_string(now),
        }
        company.live_rfm_cutoffs = cutoffs
        company.flush_recordset(["live_rfm_cutoffs"])
        return cutoffs

    @staticmethod
    def _step(name, started):
        LAST_STEPS[name] = time.monotonic() - started - sum(LAST_STEPS.values())

    def _write_results(self, company, params, started):
        """Upsert the figures, then write the fans whose segment, stage or value layer
        changed and log their stage transitions. Rows are locked in id order, the
        same order as the processors'."""
        cr = self.env.cr
        columns = ", ".join(FIGURE_COLUMNS)
        # The rows that moved, then the new fans' (no ON CONFLICT DO UPDATE: a first
        # run inserts a million rows, and speculative insertion costs each of them).
        if not params["all"]:
            # Processors touching the same fans lock their rows in one order.
            cr.execute("SELECT 1 FROM live_fan_rfm WHERE partner_id = ANY(%(ids)s) ORDER BY partner_id FOR UPDATE",
                       params)
        cr.execute(f"""
            UPDATE live_fan_rfm t
               SET {", ".join(f"{c} = r.{c}" for c in FIGURE_COLUMNS)}, company_id = %(company)s,
                   write_uid = %(uid)s, write_date = %(now)s
              FROM lcc_fan_results r
             WHERE t.partner_id = r.partner_id
               AND (t.company_id, {", ".join(f"t.{c}" for c in FIGURE_COLUMNS)})
                   IS DISTINCT FROM (%(company)s, {", ".join(f"r.{c}" for c in FIGURE_COLUMNS)})
        """, params)
        cr.execute(f"""
            INSERT INTO live_fan_rfm (partner_id, company_id, {columns}, create_uid, create_date, write_uid, write_date)
            SELECT partner_id, %(company)s, {columns}, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM lcc_fan_results r
             WHERE NOT EXISTS (SELECT 1 FROM live_fan_rfm t WHERE t.partner_id = r.partner_id)
             ORDER BY partner_id
            ON CONFLICT (partner_id) DO NOTHING
        """, params)
        self._step("figures written", started)
        cr.execute("DROP TABLE IF EXISTS lcc_fan_changes")
        cr.execute("""
            CREATE TEMP TABLE lcc_fan_changes AS
            SELECT r.partner_id, r.segment, r.value_layer, r.stage, r.stage_date,
                   p.fan_lifecycle_stage AS old_stage,
                   -- a fan computed for the first time gets its stage, not a transition
                   p.fan_lifecycle_date IS NOT NULL AS known,
                   r.segment IS DISTINCT FROM p.fan_rfm_segment AS segment_changed,
                   r.stage IS DISTINCT FROM p.fan_lifecycle_stage AS stage_changed
              FROM lcc_fan_results r JOIN res_partner p ON p.id = r.partner_id
             WHERE (r.segment, r.value_layer, r.stage)
                   IS DISTINCT FROM (p.fan_rfm_segment, p.fan_value_layer, p.fan_lifecycle_stage)
                OR p.fan_lifecycle_date IS NULL
        """)
        changed = cr.rowcount
        self._step("changes", started)
        if changed:
            cr.execute("""
                SELECT 1 FROM res_partner WHERE id IN (SELECT partner_id FROM lcc_fan_changes)
                 ORDER BY id FOR NO KEY UPDATE
            """)
            if not params["all"]:
                # Another processor may have written these fans while we waited for
                # them: compare with what it committed, so a transition is logged once.
                cr.execute("""
                    UPDATE lcc_fan_changes c
                       SET old_stage = p.fan_lifecycle_stage, known = p.fan_lifecycle_date IS NOT NULL,
                           segment_changed = c.segment IS DISTINCT FROM p.fan_rfm_segment,
                           stage_changed = c.stage IS DISTINCT FROM p.fan_lifecycle_stage
                      FROM res_partner p WHERE p.id = c.partner_id
                """)
            self._step("partners locked", started)
            cr.execute("""
                UPDATE res_partner p
                   SET fan_rfm_segment = c.segment,
                       fan_rfm_segment_date = CASE WHEN NOT c.segment_changed THEN p.fan_rfm_segment_date
                                                   WHEN c.segment IS NOT NULL THEN %(today)s END,
                       fan_value_layer = c.value_layer,
                       fan_lifecycle_stage = c.stage,
                       fan_lifecycle_date = CASE WHEN c.stage_changed OR p.fan_lifecycle_date IS NULL
                                                 THEN c.stage_date ELSE p.fan_lifecycle_date END
                  FROM lcc_fan_changes c
                 WHERE p.id = c.partner_id
            """, params)
            self._step("partners written", started)
            cr.execute("""
                INSERT INTO live_fan_lifecycle_log (partner_id, company_id, date, stage_from, stage_to,
                                                    create_uid, create_date, write_uid, write_date)
                SELECT partner_id, %(company)s, stage_date, old_stage, stage, %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM lcc_fan_changes WHERE stage_changed AND known ORDER BY partner_id
            """, params)
            self._step("transitions logged", started)
        cr.execute("DROP TABLE lcc_fan_changes")
        return changed


def fan_paid_orders_sql(fans):
    """SQL of the paid orders of the fans in the relation `fans` (with an `id`
    column), in %(company)s, paid by %(now)s: the one definition the figures,
    the favourite categories and the tag rules share. A fan buys under its own
    name and under its contacts' (delivery addresses); paid is sale.order's
    PAID_DOMAIN. Rows: fan_id, order_id, paid_at, rate (of the order's currency),
    live_channel_id, gmv, refunded (in the order's currency)."""
    return f"""
        SELECT b.fan_id, so.id AS order_id, COALESCE(so.platform_paid_at, so.date_order) AS paid_at,
               COALESCE(NULLIF(so.currency_rate, 0), 1) AS rate, so.live_channel_id,
               COALESCE(so.live_gmv, 0) AS gmv, COALESCE(so.live_refunded_amount, 0) AS refunded
          FROM (SELECT id AS fan_id, id AS partner_id FROM {fans}
                UNION ALL
                SELECT c.parent_id, c.id FROM res_partner c
                 WHERE c.parent_id IN (SELECT id FROM {fans}) AND c.is_live_fan IS NOT TRUE) b
          JOIN sale_order so ON so.partner_id = b.partner_id
         WHERE so.company_id = %(company)s
           AND {paid_sql('so')}
           AND COALESCE(so.platform_paid_at, so.date_order) <= %(now)s
    """


def each_company_nightly(env, apply):
    """`apply(company)` for every company, each in a transaction of its own in READ
    COMMITTED, as the processors: a fan a processor has just written is waited
    for, not a serialization failure of the whole night's run."""
    for company in env["res.company"].sudo().search([]):
        env.cr.commit()
        env["live.event"]._read_committed()
        apply(company)
        env.cr.commit()


def each_touched_company(env, partner_ids_by_company, apply):
    """`apply(company, fan ids)` per company of {company id: fan ids}, the ids in
    order (concurrent runs lock the same fans in the same order)."""
    for company_id, partner_ids in partner_ids_by_company.items():
        if company_id and partner_ids:
            apply(env["res.company"].browse(company_id), sorted(partner_ids))


def touched_fans(works):
    """{company id: fan ids} of processor works (live.event.processor.Work)."""
    touched = defaultdict(set)
    for work in works:
        if work.partner_id:
            touched[work.channel.company_id.id].add(work.partner_id)
    return touched
