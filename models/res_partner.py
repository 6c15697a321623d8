from odoo import api, fields, models

LIFECYCLE_STAGES = [
    ("passerby", "Passer-by"),
    ("first_order", "First Order"),
    ("repeat", "Repeat Buyer"),
    ("vip", "VIP"),
    ("dormant", "Dormant"),
    ("churned", "Churned"),
]

# RFM segments (metrics.md); written on the fan so automated rules can fire on
# entering a segment.
VALUE_LAYERS = [
    ("champions", "Champions"),
    ("loyal", "Loyal"),
    ("potential", "Potential Loyalist"),
    ("new", "New"),
    ("promising", "Promising"),
    ("needs_attention", "Needs Attention"),
    ("at_risk", "At Risk"),
    ("hibernating", "Hibernating"),
    ("lost", "Lost"),
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
    fan_lifecycle_stage = fields.Selection(LIFECYCLE_STAGES, string="Lifecycle Stage", index=True, tracking=True)
    fan_value_layer = fields.Selection(VALUE_LAYERS, string="Value Layer", index=True, tracking=True)
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
