from odoo import api, fields, models


class LiveSessionProduct(models.Model):
    _name = "live.session.product"
    _description = "Live Session Featured Product"
    _order = "session_id, sequence, id"
    _check_company_auto = True

    session_id = fields.Many2one("live.session", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="session_id.currency_id")
    product_id = fields.Many2one(
        "product.product", required=True, check_company=True, domain=[("sale_ok", "=", True)])
    list_price = fields.Float(related="product_id.lst_price", string="List Price", digits="Product Price")
    live_price = fields.Monetary(
        string="Live Price", compute="_compute_live_price", store=True, readonly=False,
        help="The price announced in the live room.")
    quantity_sold = fields.Float(
        string="Sold", compute="_compute_quantity_sold", digits="Product Unit of Measure",
        help="Quantity on the confirmed orders attributed to the session.")

    _sql_constraints = [
        ("product_unique", "unique(session_id, product_id)", "A product is featured once per session."),
        ("live_price_positive", "CHECK(live_price >= 0)", "The live price cannot be negative."),
    ]

    @api.depends("product_id")
    def _compute_live_price(self):
        for line in self:
            if not line.live_price:
                line.live_price = line.product_id.lst_price

    def _compute_quantity_sold(self):
        groups = self.env["sale.order.line"].sudo()._read_group(
            [("order_id.live_session_id", "in", self.session_id.ids), ("order_id.state", "=", "sale"),
             ("product_id", "in", self.product_id.ids)],
            ["order_id", "product_id"], ["product_uom_qty:sum"])
        sold = {}
        for order, product, qty in groups:
            key = (order.live_session_id.id, product.id)
            sold[key] = sold.get(key, 0.0) + qty
        for line in self:
            line.quantity_sold = sold.get((line.session_id.id, line.product_id.id), 0.0)
