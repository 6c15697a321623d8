from odoo import _, api, fields, models
from odoo.exceptions import AccessError

PLATFORM_STATUSES = [
    ("created", "Created"),
    ("paid", "Paid"),
    ("shipped", "Shipped"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
]
# How far an order has gone: an event never moves it back (events arrive twice, or
# out of order). Cancelled ends it from any status before shipping.
STATUS_RANK = {"created": 0, "paid": 1, "shipped": 2, "completed": 3, "cancelled": 4}
# What counts as an order and as money, everywhere (session card and form, smart
# buttons, lists, reports). metrics.md: GMV = the paid orders' amount, net GMV =
# GMV - refunds. An order is paid when the platform says it was (a refund that
# cancels it later is a refund, not an unpaid order), or, made in Odoo, confirmed.
PAID_DOMAIN = ["|", ("platform_paid_at", "!=", False), ("state", "=", "sale")]


def paid_sql(alias):
    """PAID_DOMAIN as an SQL condition on the sale_order row `alias`, for the
    queries that aggregate orders set-wise (board, figures, RFM)."""
    return f"({alias}.platform_paid_at IS NOT NULL OR {alias}.state = 'sale')"

# What a fan's order figures read (live.fan.rfm): a change queues the buyer's fan.
FAN_FIGURE_FIELDS = {"state", "partner_id", "company_id", "platform_paid_at", "date_order", "currency_rate",
                     "live_channel_id"}


class SaleOrder(models.Model):
    _inherit = "sale.order"

    live_channel_id = fields.Many2one(
        "live.channel", string="Live Channel", index=True, check_company=True, copy=False, tracking=True)
    live_session_id = fields.Many2one(
        "live.session", string="Live Session", index=True, check_company=True, copy=False, tracking=True,
        domain="[('channel_id', '=?', live_channel_id)]")
    live_host_id = fields.Many2one(
        "res.users", string="Host", related="live_session_id.host_id", store=True, index=True,
        help="The host of the live session the order was placed in.")
    platform_order_ref = fields.Char(
        string="Platform Order", copy=False, index=True,
        help="The order number on the platform. Kept as text: some platforms use ids beyond 2^53.")
    platform_status = fields.Selection(
        PLATFORM_STATUSES, string="Platform Status", copy=False, readonly=True, tracking=True,
        help="The order's status on the platform, as its pushes and order API say.")
    platform_paid_at = fields.Datetime(string="Paid on Platform", copy=False, readonly=True)
    platform_paid_amount = fields.Monetary(
        string="Buyer Paid", copy=False, readonly=True,
        help="What the buyer paid on the platform: the order total less the platform's discount.")
    platform_discount_amount = fields.Monetary(
        string="Platform Discount", copy=False, readonly=True,
        help="Discounts funded by the platform: the buyer did not pay them, the platform owes them to the shop. "
             "Included in the order total.")
    live_amount_difference = fields.Monetary(
        string="Amount Difference", copy=False, readonly=True,
        help="What the platform says the buyer paid, less what the order's lines add up to. The lines are never "
             "adjusted to hide it: check the order against the platform.")
    live_stock_short = fields.Boolean(
        string="Short of Stock", compute="_compute_live_stock_short", store=True,
        help="Confirmed, but some of what it sells is neither reserved nor produced yet.")
    live_gmv = fields.Monetary(
        string="GMV", compute="_compute_live_gmv", store=True,
        help="The order's amount when it was paid: what the buyer paid plus the platform's discounts. Refunds "
             "do not change it: they are counted apart (net GMV = GMV - refunds).")
    live_refund_ids = fields.One2many("live.order.refund", "order_id", string="After-sales", copy=False)
    live_refunded_amount = fields.Monetary(
        string="Refunded", compute="_compute_live_refunded_amount", store=True,
        help="What the platform refunded to the buyer.")
    live_attention = fields.Boolean(
        string="Needs Attention", compute="_compute_live_attention", store=True,
        help="Short of stock, or its amounts differ from the platform's.")

    _sql_constraints = [
        ("platform_order_ref_unique", "unique(live_channel_id, platform_order_ref)",
         "This platform order already exists for the channel."),
    ]

    @api.depends("order_line.move_ids.state", "state")
    def _compute_live_stock_short(self):
        for order in self:
            order.live_stock_short = order.state == "sale" and any(
                move.state in ("confirmed", "waiting", "partially_available")
                and move.picking_code == "outgoing"
                for move in order.order_line.move_ids)

    @api.depends("amount_total", "platform_paid_amount", "platform_discount_amount", "live_channel_id")
    def _compute_live_gmv(self):
        for order in self:
            if order.live_channel_id and (order.platform_paid_amount or order.platform_discount_amount):
                order.live_gmv = order.platform_paid_amount + order.platform_discount_amount
            else:
                order.live_gmv = order.amount_total
        self._live_touch_fans()

    @api.depends("live_refund_ids.state", "live_refund_ids.amount")
    def _compute_live_refunded_amount(self):
        for order in self:
            order.live_refunded_amount = sum(
                order.live_refund_ids.filtered(lambda refund: refund.state == "succeeded").mapped("amount"))
        self._live_touch_fans()

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        orders._live_touch_fans()
        return orders

    def write(self, vals):
        changed = FAN_FIGURE_FIELDS.intersection(vals)
        if "partner_id" in changed:
            self._live_touch_fans()  # the former buyer loses the order
        result = super().write(vals)
        if changed:
            self._live_touch_fans()
        return result

    def _live_touch_fans(self):
        """Queue the buyers' fans for their figures (a fan buys under its own name
        and its delivery contacts'): recomputed after the transaction, set-based."""
        touched = {}
        for order in self:
            partner = order.partner_id
            if order.company_id and partner:
                touched.setdefault(order.company_id.id, set()).update(
                    partner_id for partner_id in (partner.id, partner.parent_id.id) if partner_id)
        if touched:
            self.env["live.fan.rfm"].sudo()._touch(touched)

    @api.depends("live_stock_short", "live_amount_difference")
    def _compute_live_attention(self):
        for order in self:
            order.live_attention = bool(order.live_stock_short or order.live_amount_difference)

    @api.model
    def _live_paid_domain(self):
        return list(PAID_DOMAIN)

    @api.model
    def _live_figures(self, field_name, ids):
        """{record id: (paid orders, GMV, refunds)} for the live orders grouped by
        `field_name` (live_session_id, partner_id...): the one definition every
        figure uses. Read as superuser: a host sees her session's GMV without
        reading every order."""
        groups = self.sudo()._read_group(
            [(field_name, "in", ids), *PAID_DOMAIN],
            [field_name], ["__count", "live_gmv:sum", "live_refunded_amount:sum"])
        return {record.id: (count, gmv, refunds) for record, count, gmv, refunds in groups}

    @api.onchange("live_session_id")
    def _onchange_live_session_id(self):
        session = self.live_session_id
        if session:
            self.live_channel_id = session.channel_id
            self.campaign_id = session.campaign_id or self.campaign_id
            self.source_id = session.source_id or self.source_id
            self.medium_id = session.medium_id or self.medium_id

    @api.onchange("live_channel_id")
    def _onchange_live_channel_id(self):
        channel = self.live_channel_id
        if channel:
            if self.live_session_id.channel_id != channel:
                self.live_session_id = False
            if channel.team_id:
                self.team_id = channel.team_id
            if channel.warehouse_id:
                self.warehouse_id = channel.warehouse_id
            if channel.pricelist_id:
                self.pricelist_id = channel.pricelist_id
            if not self.source_id:
                self.source_id = channel.source_id

    def action_live_rerun_events(self):
        """Apply this order's events again (after a SKU mapping or stock was fixed)."""
        if not self.env.user.has_group("live_commerce_crm.group_live_manager"):
            raise AccessError(_("Only live commerce managers re-run platform events."))
        events = self.env["live.event"].sudo().search([
            ("channel_id", "in", self.live_channel_id.ids), ("order_ref", "in", self.mapped("platform_order_ref")),
            ("state", "in", ("failed", "pending"))])
        if not events:
            return {"type": "ir.actions.client", "tag": "display_notification", "params": {
                "type": "info", "message": _("No event of these orders waits for a re-run.")}}
        return events.action_rerun()
