from odoo import fields, models

REFUND_STATES = [
    ("requested", "Requested"),
    ("succeeded", "Refunded"),
    ("closed", "Closed"),
]


class LiveOrderRefund(models.Model):
    """An after-sale request of a platform order (退款 / 退货退款), and what it did
    in Odoo once the platform refunded: a credit note, a return to receive, or the
    unshipped quantities cancelled."""
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

    _sql_constraints = [
        ("refund_unique", "unique(order_id, refund_ref)", "This after-sale is already recorded on the order."),
    ]
