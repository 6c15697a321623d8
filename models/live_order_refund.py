from datetime import timedelta

from odoo import _, api, fields, models
from odoo.osv import expression

REFUND_STATES = [
    ("requested", "Requested"),
    ("succeeded", "Refunded"),
    ("closed", "Closed"),
]
# models/platforms/orders.py AFTERSALE_KINDS / AFTERSALE_STAGES, labelled.
AFTERSALE_KINDS = [
    ("before_shipping", "Refund Before Shipping"),
    ("refund", "Refund Only"),
    ("return_refund", "Return and Refund"),
    ("exchange", "Exchange"),
    ("resend", "Resend"),
    ("price_protection", "Price Protection"),
    ("repair", "Repair"),
    ("other", "Other"),
]
AFTERSALE_STAGES = [
    ("seller", "Awaiting Seller"),
    ("buyer_return", "Awaiting Buyer's Return"),
    ("seller_receipt", "Awaiting Seller's Receipt"),
    ("buyer", "Awaiting Buyer"),
    ("platform", "Platform Handling"),
    ("refunding", "Refunding"),
    ("done", "Done"),
    ("closed", "Refused / Closed"),
]
# A deadline closer than this is shown as soon due.
DEADLINE_SOON = timedelta(hours=24)


class LiveOrderRefund(models.Model):
    """An after-sale request of a platform order (退款 / 退货退款 / 换货 ...), and what it
    did in Odoo once the platform refunded: a credit note, a return to receive, or the
    unshipped quantities cancelled. `state` follows the money (an exchange that
    succeeds is closed: nothing was refunded); `stage` says whose move it is."""
    _name = "live.order.refund"
    _description = "Platform After-sale"
    _order = "id desc"
    _rec_name = "refund_ref"

    order_id = fields.Many2one("sale.order", string="Order", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="order_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="order_id.currency_id")
    refund_ref = fields.Char(string="After-sale ID", required=True, readonly=True,
                             help="The platform's id of the after-sale request.")
    state = fields.Selection(REFUND_STATES, required=True, default="requested", readonly=True)
    amount = fields.Monetary(string="Refund Amount", readonly=True)
    return_goods = fields.Boolean(string="Goods Returned", readonly=True,
                                  help="Return and refund; otherwise a refund only.")
    reason = fields.Char(readonly=True)
    line_summary = fields.Char(string="Items", readonly=True, help="What the platform says is refunded.")
    applied = fields.Boolean(readonly=True, help="What the refund does in Odoo is done.")
    before_shipping = fields.Boolean(string="Before Shipping", readonly=True,
                                     help="Refunded before anything of it shipped: the quantities were cancelled.")
    credit_note_id = fields.Many2one("account.move", string="Credit Note", readonly=True)
    return_picking_id = fields.Many2one("stock.picking", string="Return", readonly=True)
    kind = fields.Selection(AFTERSALE_KINDS, string="After-sale Type", readonly=True,
                            help="What the buyer asks for, from the platform's type code.")
    platform_status = fields.Char(readonly=True, help="The platform's own status of the request, as it sends it.")
    stage = fields.Selection(AFTERSALE_STAGES, readonly=True, index=True,
                             help="Whose move it is, from the platform's status.")
    requested_at = fields.Datetime(string="Requested On", readonly=True)
    platform_updated_at = fields.Datetime(string="Platform Update", readonly=True,
                                          help="When the platform last changed the request.")
    deadline = fields.Datetime(string="Platform Deadline", readonly=True, index=True,
                               help="After it the platform decides for the seller (usually: refunds).")
    deadline_state = fields.Selection([("overdue", "Overdue"), ("soon", "Due Soon")], string="Deadline Status",
                                      compute="_compute_deadline_state", search="_search_deadline_state")
    return_carrier = fields.Char(readonly=True, help="The carrier of the buyer's parcel back.")
    return_tracking_ref = fields.Char(string="Return Tracking Number", readonly=True)
    channel_id = fields.Many2one(related="order_id.live_channel_id", store=True, index=True, string="Channel")
    partner_id = fields.Many2one(related="order_id.partner_id", store=True, index=True, string="Customer")

    _sql_constraints = [
        ("refund_unique", "unique(order_id, refund_ref)", "This after-sale is already recorded on the order."),
    ]

    @api.depends("deadline", "state")
    def _compute_deadline_state(self):
        now = fields.Datetime.now()
        for refund in self:
            if refund.state != "requested" or not refund.deadline:
                refund.deadline_state = False
            elif refund.deadline < now:
                refund.deadline_state = "overdue"
            else:
                refund.deadline_state = "soon" if refund.deadline - now < DEADLINE_SOON else False

    def _search_deadline_state(self, operator, value):
        if operator not in ("=", "!=") or value not in ("overdue", "soon"):
            raise NotImplementedError(_("Search the deadline status for Overdue or Due Soon."))
        now = fields.Datetime.now()
        domain = [("state", "=", "requested"), ("deadline", "<", now)] if value == "overdue" else [
            ("state", "=", "requested"), ("deadline", ">=", now), ("deadline", "<", now + DEADLINE_SOON)]
        return domain if operator == "=" else ["!", *expression.normalize_domain(domain)]
