from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .sale_order import paid_sql


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
    presentation_ids = fields.One2many("live.session.presentation", "session_product_id", string="Presentations",
                                       readonly=True)
    is_presenting = fields.Boolean(string="Presenting Now", compute="_compute_presentation_figures")
    presentation_minutes = fields.Float(string="Presented (Minutes)", compute="_compute_presentation_figures")
    presentation_order_count = fields.Integer(
        string="Orders While Presented", compute="_compute_presentation_figures",
        help="Paid orders of the session placed while this product was being presented (any product on them).")
    presentation_gmv = fields.Monetary(
        string="GMV While Presented", compute="_compute_presentation_figures",
        help="GMV of the paid orders of the session placed while this product was being presented.")

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

    def _compute_presentation_figures(self):
        # One query for every line: the session's paid orders (sale.order's
        # PAID_DOMAIN) whose date falls in one of the product's periods, an open
        # period running until the session's end, or now. Periods of one session never
        # overlap (one open at a time, half-open intervals): an order counts once.
        figures = {}
        # In the session form's onchanges the lines are new records: read their origin's.
        ids = [line._origin.id for line in self if line._origin.id]
        if ids:
            self.env["live.session.presentation"].flush_model(["session_id", "session_product_id", "date_start",
                                                               "date_end"])
            self.env["live.session"].flush_model(["date_end"])
            self.env["sale.order"].flush_model(["live_session_id", "date_order", "platform_paid_at", "state",
                                                "live_gmv"])
            self.env.cr.execute(f"""
                WITH periods AS (
                    SELECT p.session_product_id, p.session_id, p.date_start, p.date_end IS NULL AS is_open,
                           coalesce(p.date_end, s.date_end, now() AT TIME ZONE 'UTC') AS date_stop
                      FROM live_session_presentation p
                      JOIN live_session s ON s.id = p.session_id
                     WHERE p.session_product_id = ANY(%s)
                ), orders AS (
                    SELECT DISTINCT pr.session_product_id, o.id, o.live_gmv
                      FROM periods pr
                      JOIN sale_order o ON o.live_session_id = pr.session_id
                       AND o.date_order >= pr.date_start AND o.date_order < pr.date_stop
                       AND {paid_sql('o')}
                ), order_figures AS (
                    SELECT session_product_id, count(*) AS order_count, sum(live_gmv) AS gmv
                      FROM orders GROUP BY session_product_id
                )
                SELECT pr.session_product_id, bool_or(pr.is_open),
                       sum(extract(epoch FROM pr.date_stop - pr.date_start)) / 60,
                       coalesce(max(f.order_count), 0), coalesce(max(f.gmv), 0)
                  FROM periods pr
                  LEFT JOIN order_figures f ON f.session_product_id = pr.session_product_id
                 GROUP BY pr.session_product_id
            """, [ids])
            figures = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for line in self:
            presenting, minutes, count, gmv = figures.get(line._origin.id, (False, 0.0, 0, 0.0))
            line.is_presenting = bool(presenting)
            line.presentation_minutes = float(minutes or 0.0)
            line.presentation_order_count = count
            line.presentation_gmv = float(gmv)

    def action_present_now(self):
        """Close the session's open presentation and open one for this product."""
        self._start_presentation()
        return True

    def action_stop_presenting(self):
        """The host stops presenting this product: its open period ends now, and
        the orders that follow are no longer its presentation's."""
        self.ensure_one()
        self.check_access("write")
        current = self.env["live.session.presentation"].sudo().search(
            [("session_product_id", "=", self.id), ("date_end", "=", False)])
        if current:
            current.date_end = fields.Datetime.now()
            self.session_id._workbench_notify()
        return True

    def _start_presentation(self):
        self.ensure_one()
        session = self.session_id
        if session.state != "live":
            raise UserError(_("Products are presented while the session is live."))
        # Writing the presentations needs the host's rights on the featured product.
        self.check_access("write")
        Presentation = self.env["live.session.presentation"].sudo()
        # Two screens clicking at once: the second waits here, then closes the first's period.
        self.env.cr.execute("SELECT id FROM live_session WHERE id = %s FOR NO KEY UPDATE", [session.id])
        now = fields.Datetime.now()
        current = Presentation.search([("session_id", "=", session.id), ("date_end", "=", False)])
        if current.session_product_id == self:
            return current
        current.write({"date_end": now})
        current.flush_recordset()
        presentation = Presentation.create({
            "session_id": session.id, "session_product_id": self.id, "date_start": now,
            "user_id": self.env.user.id})
        session._workbench_notify()
        return presentation
