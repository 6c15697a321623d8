from odoo import api, fields, models, tools

from ..models.live_session_figures import _ratio
from ..models.live_session_fan import watch_seconds_sql
from ..models.sale_order import paid_sql


class LiveSessionBoard(models.Model):
    """The board: one row per session with summable numerators and denominators,
    read from the same aggregates as the session's figures (live.session.minute,
    live.session.fan, the paid orders), so pivots by host, channel or week add up.
    Ratios are computed per row for the list; in a pivot, divide the sums."""
    _name = "live.session.board"
    _description = "Session Board"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "session_id"

    session_id = fields.Many2one("live.session", string="Session", readonly=True)
    host_id = fields.Many2one("res.users", string="Host", readonly=True)
    channel_id = fields.Many2one("live.channel", string="Channel", readonly=True)
    platform = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Datetime(string="Date", readonly=True, help="The actual start, else the scheduled start.")
    state = fields.Selection(
        [("scheduled", "Scheduled"), ("live", "Live"), ("ended", "Ended"), ("reviewed", "Reviewed")], readonly=True)
    pv = fields.Integer(string="PV (visits)", readonly=True)
    uv = fields.Integer(string="UV (unique viewers)", readonly=True)
    interacting_count = fields.Integer(string="Interacting Viewers (people)", readonly=True)
    new_follower_count = fields.Integer(string="New Followers", readonly=True)
    watch_seconds = fields.Integer(string="Watch Time (s)", readonly=True,
                                   help="Capped at the session's length per viewer.")
    buyer_count = fields.Integer(string="Buyers (people, per session)", readonly=True)
    order_count = fields.Integer(string="Paid Orders", readonly=True)
    gmv = fields.Monetary(string="GMV", readonly=True)
    refund_amount = fields.Monetary(string="Refunds", readonly=True)
    net_gmv = fields.Monetary(string="Net GMV", readonly=True)
    ad_spend = fields.Monetary(string="Ad Spend", readonly=True)
    conversion_people = fields.Float(string="Conversion (buyers / UV)", compute="_compute_ratios", aggregator=None)
    gpm = fields.Monetary(string="GPM (GMV × 1000 / PV)", compute="_compute_ratios", aggregator=None)
    uv_value = fields.Monetary(string="UV Value (GMV / UV)", compute="_compute_ratios", aggregator=None)
    roi = fields.Float(string="ROI (GMV / ad spend)", compute="_compute_ratios", aggregator=None)
    avg_watch_seconds = fields.Float(string="Average Watch Time (s, total / UV)", compute="_compute_ratios",
                                     aggregator=None)
    interaction_rate = fields.Float(string="Interaction Rate (interacting viewers / UV)",
                                    compute="_compute_ratios", aggregator=None)

    @api.depends("pv", "uv", "gmv", "buyer_count", "ad_spend", "watch_seconds", "interacting_count")
    def _compute_ratios(self):
        for row in self:
            row.conversion_people = _ratio(row.buyer_count, row.uv)
            row.gpm = _ratio(row.gmv * 1000, row.pv)
            row.uv_value = _ratio(row.gmv, row.uv)
            row.roi = _ratio(row.gmv, row.ad_spend)
            row.avg_watch_seconds = _ratio(row.watch_seconds, row.uv)
            row.interaction_rate = _ratio(row.interacting_count, row.uv)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # PV, UV: the platform's figures when it reports them (as on the session).
        # Watch time: as live.session._live_audience_figures. Paid: as PAID_DOMAIN.
        watch = watch_seconds_sql("f", "fs", "e.end_at")[1]
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
            SELECT s.id, s.id AS session_id, s.host_id, s.channel_id, s.platform, s.company_id,
                   coalesce(s.date_start, s.date_scheduled_start) AS date, s.state,
                   CASE WHEN s.stat_view_count > 0 THEN s.stat_view_count ELSE coalesce(m.enters, 0) END AS pv,
                   CASE WHEN s.stat_viewer_count > 0 THEN s.stat_viewer_count ELSE coalesce(m.viewers, 0) END AS uv,
                   coalesce(m.interacting, 0) AS interacting_count,
                   coalesce(m.follows, 0) AS new_follower_count,
                   coalesce(a.watch, 0)::int AS watch_seconds,
                   coalesce(o.buyers, 0) AS buyer_count, coalesce(o.orders, 0) AS order_count,
                   coalesce(o.gmv, 0) AS gmv, coalesce(o.refunds, 0) AS refund_amount,
                   coalesce(o.gmv, 0) - coalesce(o.refunds, 0) AS net_gmv,
                   coalesce(s.ad_spend, 0) AS ad_spend
              FROM live_session s
              LEFT JOIN (SELECT session_id, sum(enter_count) AS enters, sum(new_viewer_count) AS viewers,
                                sum(new_interacting_count) AS interacting, sum(follow_count) AS follows
                           FROM live_session_minute GROUP BY session_id) m ON m.session_id = s.id
              LEFT JOIN (SELECT f.session_id, sum({watch}) AS watch
                           FROM live_session_fan f
                           JOIN live_session fs ON fs.id = f.session_id
                          CROSS JOIN LATERAL (SELECT LEAST(coalesce(fs.date_end, now() AT TIME ZONE 'UTC'),
                                                           now() AT TIME ZONE 'UTC') AS end_at) e
                          GROUP BY f.session_id) a ON a.session_id = s.id
              LEFT JOIN (SELECT live_session_id, count(*) AS orders, count(DISTINCT partner_id) AS buyers,
                                sum(live_gmv) AS gmv, sum(live_refunded_amount) AS refunds
                           FROM sale_order
                          WHERE live_session_id IS NOT NULL AND {paid_sql('sale_order')}
                          GROUP BY live_session_id) o ON o.live_session_id = s.id
            )
        """)
