from odoo import api, fields, models

LIFECYCLE_STAGES = [
    ("passerby", "Passer-by"),
    ("first_order", "First Order"),
    ("repeat", "Repeat Buyer"),
    ("vip", "VIP"),
    ("dormant", "Dormant"),
    ("churned", "Churned"),
]

# RFM segments (metrics.md); written on the fan with the date it entered the
# segment, so automated rules can fire on entering one. "Customers Needing
# Attention", not "Needs Attention": that is the webhooks' queue.
RFM_SEGMENTS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential", "Potential Loyalist"),
    ("new", "New"),
    ("promising", "Promising"),
    ("needs_attention", "Customers Needing Attention"),
    ("at_risk", "At Risk"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
]
# By contribution to the paid amount of the RFM window (res.company settings).
VALUE_LAYERS = [
    ("high", "High Value"),
    ("medium", "Medium Value"),
    ("low", "Low Value"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_identity_ids = fields.One2many("live.fan.identity", "partner_id", string="Platform Identities")
    is_live_fan = fields.Boolean(
        string="Is a Fan", compute="_compute_is_live_fan", store=True, readonly=False, index=True,
        help="Set for contacts with a live-commerce platform identity, or added as fans by hand.")
    fan_since = fields.Datetime(
        string="Fan Since", compute="_compute_fan_since", store=True, readonly=False,
        help="When the first platform identity of this person was seen.")
    # Segment, lifecycle stage and value layer are computed set-based (live.fan.rfm),
    # after each processed batch and nightly: read-only to users.
    fan_lifecycle_stage = fields.Selection(
        LIFECYCLE_STAGES, string="Lifecycle Stage", index=True, readonly=True,
        help="Passer-by (interacted, never bought), first order, repeat buyer, VIP (lifetime spend); dormant and "
             "churned after the company's delays without interaction or order.")
    fan_lifecycle_date = fields.Date(string="Stage Since", readonly=True)
    fan_lifecycle_log_ids = fields.One2many("live.fan.lifecycle.log", "partner_id", string="Lifecycle History",
                                            readonly=True)
    fan_rfm_segment = fields.Selection(
        RFM_SEGMENTS, string="RFM Segment", index=True, readonly=True,
        help="From recency, frequency and monetary value of the paid orders in the company's RFM window.")
    fan_rfm_segment_date = fields.Date(string="In Segment Since", readonly=True)
    fan_value_layer = fields.Selection(
        VALUE_LAYERS, string="Value Layer", index=True, readonly=True,
        help="The fan's contribution to the paid amount of the RFM window, against the company's shares.")
    # Order figures and RFM scores, kept in live.fan.rfm by the recompute.
    live_fan_rfm_ids = fields.One2many("live.fan.rfm", "partner_id", string="Order Figures", readonly=True)
    fan_paid_order_count = fields.Integer(related="live_fan_rfm_ids.order_count")
    fan_paid_amount = fields.Monetary(related="live_fan_rfm_ids.paid_amount", currency_field="fan_currency_id")
    fan_refunded_amount = fields.Monetary(related="live_fan_rfm_ids.refunded_amount",
                                          currency_field="fan_currency_id")
    fan_live_order_count = fields.Integer(related="live_fan_rfm_ids.live_order_count")
    fan_live_paid_amount = fields.Monetary(related="live_fan_rfm_ids.live_paid_amount",
                                           currency_field="fan_currency_id")
    fan_first_order_at = fields.Datetime(related="live_fan_rfm_ids.first_order_at")
    fan_last_order_at = fields.Datetime(related="live_fan_rfm_ids.last_order_at")
    fan_last_activity_at = fields.Datetime(related="live_fan_rfm_ids.last_activity_at")
    fan_rfm_frequency = fields.Integer(related="live_fan_rfm_ids.window_order_count", string="Frequency (F)")
    fan_rfm_monetary = fields.Monetary(related="live_fan_rfm_ids.window_amount", string="Monetary (M)",
                                       currency_field="fan_currency_id")
    fan_rfm_method = fields.Selection(related="live_fan_rfm_ids.rfm_method")
    fan_rfm_recency_days = fields.Integer(
        string="Recency (R, Days)", compute="_compute_fan_order_ratios",
        help="Days since the last paid order.")
    fan_rfm_score = fields.Char(string="RFM Score", compute="_compute_fan_order_ratios",
                                help="R, F and M scored 1-5 (5 is best); with fixed thresholds, 5 or 1.")
    fan_average_order_value = fields.Monetary(string="Average Order Value", compute="_compute_fan_order_ratios",
                                              currency_field="fan_currency_id")
    fan_refund_rate = fields.Float(string="Refund Rate (%)", compute="_compute_fan_order_ratios",
                                   help="Refunded amount / GMV of the fan's paid orders.")
    fan_live_share = fields.Float(string="Live Channels' Share (%)", compute="_compute_fan_order_ratios",
                                  help="The share of the fan's paid amount that came through live channels.")
    fan_marketing_consent = fields.Boolean(
        string="Marketing Consent", tracking=True,
        help="The fan agreed to receive marketing messages (coupons, reactivation).")
    fan_consent_date = fields.Datetime(string="Consent Date", readonly=True)
    # The merge key of a phone (models/fan_phone.py): salted hash and masked form.
    fan_phone_hash = fields.Char(string="Phone Key", index="btree_not_null", readonly=True, copy=False)
    fan_phone_masked = fields.Char(string="Phone (Masked)", readonly=True, copy=False)
    # Running totals, kept in live.fan.stats by the webhook event processor.
    live_fan_stats_ids = fields.One2many("live.fan.stats", "partner_id", readonly=True)
    fan_session_count = fields.Integer(related="live_fan_stats_ids.session_count")
    fan_watch_seconds = fields.Integer(related="live_fan_stats_ids.watch_seconds")
    fan_comment_count = fields.Integer(related="live_fan_stats_ids.comment_count")
    fan_like_count = fields.Integer(related="live_fan_stats_ids.like_count")
    fan_gift_count = fields.Integer(related="live_fan_stats_ids.gift_count")
    fan_gift_value = fields.Monetary(related="live_fan_stats_ids.gift_value", currency_field="fan_currency_id")
    fan_currency_id = fields.Many2one("res.currency", compute="_compute_fan_currency_id")
    fan_follow_count = fields.Integer(related="live_fan_stats_ids.follow_count")
    fan_share_count = fields.Integer(related="live_fan_stats_ids.share_count")
    fan_last_interaction_at = fields.Datetime(related="live_fan_stats_ids.last_interaction_at")
    live_audience_ids = fields.One2many("live.session.fan", "partner_id", string="Sessions", readonly=True)
    live_comment_ids = fields.One2many("live.comment", "partner_id", string="Live Comments", readonly=True)
    live_order_count = fields.Integer(string="Live Orders", compute="_compute_live_order_count")

    @api.depends("live_identity_ids")
    def _compute_is_live_fan(self):
        for partner in self:
            partner.is_live_fan = partner.is_live_fan or bool(partner.live_identity_ids)

    @api.depends("live_identity_ids.first_seen")
    def _compute_fan_since(self):
        for partner in self:
            seen = partner.live_identity_ids.filtered("first_seen").mapped("first_seen")
            if seen and (not partner.fan_since or min(seen) < partner.fan_since):
                partner.fan_since = min(seen)

    @api.depends("company_id")
    def _compute_fan_currency_id(self):
        for partner in self:
            partner.fan_currency_id = (partner.company_id or self.env.company).currency_id

    @api.depends("live_fan_rfm_ids")
    def _compute_fan_order_ratios(self):
        today = fields.Date.context_today(self)
        for partner in self:
            figures = partner.live_fan_rfm_ids[:1]
            partner.fan_rfm_recency_days = (today - figures.last_order_at.date()).days \
                if figures.last_order_at else 0
            partner.fan_rfm_score = "".join(str(score) for score in (
                figures.recency_score, figures.frequency_score, figures.monetary_score)) \
                if figures.recency_score else False
            partner.fan_average_order_value = figures.gmv / figures.order_count if figures.order_count else 0.0
            partner.fan_refund_rate = 100.0 * figures.refunded_amount / figures.gmv if figures.gmv else 0.0
            partner.fan_live_share = 100.0 * figures.live_paid_amount / figures.paid_amount \
                if figures.paid_amount else 0.0

    def _compute_live_order_count(self):
        # Paid live orders, the session's definition (sale.order._live_figures).
        counts = dict(self.env["sale.order"].sudo()._read_group(
            [("partner_id", "in", self.ids), ("live_channel_id", "!=", False),
             *self.env["sale.order"]._live_paid_domain()], ["partner_id"], ["__count"]))
        for partner in self:
            partner.live_order_count = counts.get(partner, 0)

    @api.model
    def default_get(self, fields_list):
        # The event processor creates new fans by the hundred, all with the same
        # defaults: it computes them once per batch (see live.event.processor) and
        # marks the context; Odoo would otherwise compute them again per partner.
        if self.env.context.get("live_commerce_cached_defaults"):
            cached = self.env.cr.cache.get("live_commerce_partner_defaults")
            if cached is not None:
                return {name: cached[name] for name in fields_list if name in cached}
        return super().default_get(fields_list)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("fan_marketing_consent") and not vals.get("fan_consent_date"):
                vals["fan_consent_date"] = fields.Datetime.now()
        return super().create(vals_list)

    def write(self, vals):
        if "fan_marketing_consent" in vals and "fan_consent_date" not in vals:
            vals = dict(vals, fan_consent_date=fields.Datetime.now() if vals["fan_marketing_consent"] else False)
        result = super().write(vals)
        if vals.get("company_id"):
            # The other side of the identities' check_company on their fan: moving a
            # fan to another company would leave it with the first one's identities.
            self.sudo().live_identity_ids._check_company(["partner_id"])
        return result

    def action_view_live_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_orders")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id, "search_default_live_paid": 1}
        return action
