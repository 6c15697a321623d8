from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .live_channel import MANAGER_GROUP


class LiveSession(models.Model):
    _name = "live.session"
    _description = "Live Session"
    _inherit = ["mail.thread", "mail.activity.mixin", "utm.mixin"]
    _order = "date_scheduled_start desc, id desc"
    _check_company_auto = True

    name = fields.Char(string="Title", required=True, tracking=True)
    channel_id = fields.Many2one(
        "live.channel", required=True, index=True, tracking=True, check_company=True,
        default=lambda self: self.env["live.channel"].search(
            [("company_id", "in", self.env.companies.ids)], limit=1))
    platform = fields.Selection(related="channel_id.platform", store=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True, precompute=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    room_id = fields.Char(
        string="Room ID", copy=False, index=True,
        help="The live room id the platform gives this stream; pushes are matched to the session by it.")
    host_id = fields.Many2one(
        "res.users", string="Host", tracking=True, index=True,
        domain=lambda self: [("groups_id", "in", self.env.ref("live_commerce_crm.group_live_host").id)])
    field_controller_id = fields.Many2one(
        "res.users", string="Field Controller", tracking=True,
        domain=lambda self: [("groups_id", "in", self.env.ref("live_commerce_crm.group_live_field_controller").id)])
    date_scheduled_start = fields.Datetime(string="Scheduled Start", required=True, default=fields.Datetime.now)
    date_scheduled_end = fields.Datetime(string="Scheduled End")
    date_start = fields.Datetime(string="Actual Start", copy=False, readonly=True)
    date_end = fields.Datetime(string="Actual End", copy=False, readonly=True)
    duration = fields.Float(string="Duration (hours)", compute="_compute_duration")
    state = fields.Selection(
        [("scheduled", "Scheduled"), ("live", "Live"), ("ended", "Ended"), ("reviewed", "Reviewed")],
        required=True, default="scheduled", tracking=True, copy=False, index=True)
    color = fields.Integer()
    product_line_ids = fields.One2many("live.session.product", "session_id", string="Featured Products", copy=True)
    ad_spend = fields.Monetary(string="Ad Spend", tracking=True, help="Paid traffic bought for this stream.")
    review_notes = fields.Html(string="Review Notes")

    # Figures the platform reports (session.stats); the latest report wins.
    stat_view_count = fields.Integer(string="Views (PV)", readonly=True)
    stat_viewer_count = fields.Integer(string="Viewers (UV)", readonly=True)
    stat_peak_viewers = fields.Integer(string="Peak Concurrent Viewers", readonly=True)
    stat_like_count = fields.Integer(string="Likes (platform)", readonly=True)
    stat_updated_at = fields.Datetime(string="Stats Updated", readonly=True)
    audience_ids = fields.One2many("live.session.fan", "session_id", string="Audience", readonly=True)
    audience_count = fields.Integer(string="Fans Seen", compute="_compute_audience")
    comment_ids = fields.One2many("live.comment", "session_id", string="Comments", readonly=True)

    sale_order_ids = fields.One2many("sale.order", "live_session_id", string="Orders")
    order_count = fields.Integer(
        string="Paid Orders", compute="_compute_sales",
        help="Confirmed orders attributed to this session (quotations and cancelled orders are not counted).")
    gmv = fields.Monetary(
        string="GMV", compute="_compute_sales",
        help="Total of the paid orders attributed to this session (what buyers paid plus the platforms' "
             "discounts).")
    refund_amount = fields.Monetary(
        string="Refunds", compute="_compute_sales", help="What the platforms refunded on this session's paid orders.")
    net_gmv = fields.Monetary(string="Net GMV", compute="_compute_sales", help="GMV less refunds.")
    roi = fields.Float(string="ROI", compute="_compute_sales", help="GMV divided by ad spend.")

    _sql_constraints = [
        ("room_unique", "unique(channel_id, room_id)", "A channel cannot have two sessions with the same room id."),
        ("ad_spend_positive", "CHECK(ad_spend >= 0)", "Ad spend cannot be negative."),
    ]

    @api.constrains("date_scheduled_start", "date_scheduled_end")
    def _check_schedule(self):
        for session in self:
            if session.date_scheduled_end and session.date_scheduled_end < session.date_scheduled_start:
                raise ValidationError(_("The scheduled end of '%s' is before its start.", session.name))

    @api.depends("date_start", "date_end")
    def _compute_duration(self):
        now = fields.Datetime.now()
        for session in self:
            if session.date_start:
                end = session.date_end or now
                session.duration = (end - session.date_start).total_seconds() / 3600.0
            else:
                session.duration = 0.0

    def _compute_audience(self):
        counts = dict(self.env["live.session.fan"]._read_group(
            [("session_id", "in", self.ids)], ["session_id"], ["__count"]))
        for session in self:
            session.audience_count = counts.get(session, 0)

    def _compute_sales(self):
        # One definition of orders and money (sale.order._live_figures), the same on
        # the card, the form, the smart button's list and the reports.
        figures = self.env["sale.order"]._live_figures("live_session_id", self.ids)
        for session in self:
            count, gmv, refunds = figures.get(session.id, (0, 0.0, 0.0))
            session.order_count = count
            session.gmv = gmv
            session.refund_amount = refunds
            session.net_gmv = gmv - refunds
            session.roi = gmv / session.ad_spend if session.ad_spend else 0.0

    @api.onchange("channel_id")
    def _onchange_channel_id(self):
        if self.channel_id.source_id:
            self.source_id = self.channel_id.source_id

    @api.model_create_multi
    def create(self, vals_list):
        channels = self.env["live.channel"].browse(
            [vals["channel_id"] for vals in vals_list if vals.get("channel_id")])
        source_by_channel = {channel.id: channel.source_id.id for channel in channels}
        for vals in vals_list:
            if not vals.get("source_id") and vals.get("channel_id"):
                vals["source_id"] = source_by_channel.get(vals["channel_id"]) or False
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("state") == "scheduled" and self.filtered(lambda session: session.state != "scheduled"):
            # Here rather than in the button's action: hosts and field controllers
            # may write sessions, so a plain write over RPC would reset them too.
            if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
                raise AccessError(_("Only managers can reset a session to scheduled."))
        return super().write(vals)

    def action_start(self):
        if self.filtered(lambda s: s.state != "scheduled"):
            raise UserError(_("Only scheduled sessions can go live."))
        self.write({"state": "live", "date_start": fields.Datetime.now()})

    def action_end(self):
        if self.filtered(lambda s: s.state != "live"):
            raise UserError(_("Only live sessions can be ended."))
        self.write({"state": "ended", "date_end": fields.Datetime.now()})

    def action_mark_reviewed(self):
        if self.filtered(lambda s: s.state != "ended"):
            raise UserError(_("Only ended sessions can be marked as reviewed."))
        self.write({"state": "reviewed"})

    def action_reset_to_scheduled(self):
        # Managers only: write() checks the group.
        self.write({"state": "scheduled", "date_start": False, "date_end": False})

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_orders")
        action["domain"] = [("live_session_id", "=", self.id)]
        action["context"] = {"default_live_session_id": self.id, "default_live_channel_id": self.channel_id.id,
                             "search_default_live_paid": 1}
        return action
