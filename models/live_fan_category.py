from odoo import api, fields, models

from .live_fan_rfm import fan_paid_orders_sql

# How many favourite categories a fan keeps (the profile shows them all).
TOP_CATEGORIES = 3


class LiveFanCategory(models.Model):
    """A fan's favourite product categories: what it paid for, per category, the
    first TOP_CATEGORIES by amount.

    Written set-based right after the fan's order figures (live.fan.rfm), after
    each processed batch and nightly, never per order: one narrow row per fan and
    category rather than a column on the partner row.
    """
    _name = "live.fan.category"
    _description = "Fan Favourite Product Category"
    _order = "partner_id, rank"
    _rec_name = "category_id"

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    category_id = fields.Many2one("product.category", string="Product Category", required=True,
                                  ondelete="cascade", readonly=True)
    rank = fields.Integer(readonly=True, help="1 is the category the fan paid the most for.")
    amount = fields.Monetary(string="Paid Amount", readonly=True,
                             help="What the fan's paid orders' lines of this category came to (taxes included).")
    order_count = fields.Integer(string="Paid Orders", readonly=True)

    _sql_constraints = [
        ("partner_category_unique", "unique(partner_id, category_id)", "A category is ranked once per fan."),
    ]

    @api.model
    def _recompute(self, company, partner_ids=None):
        """Rank the product categories of the company's fans (`partner_ids`, else
        all of them) by the amount of their paid order lines, the orders counted
        as live.fan.rfm counts them (the fan's and its contacts', live or not)."""
        cr = self.env.cr
        self.env.flush_all()
        params = {"company": company.id, "all": partner_ids is None, "ids": list(partner_ids or []),
                  "now": fields.Datetime.now(), "top": TOP_CATEGORIES}
        # Rows that stay are updated in place (their ids too: a fan's favourites do
        # not churn each time its figures are recomputed); the others go.
        cr.execute(f"""
            CREATE TEMP TABLE lcc_fan_categories ON COMMIT DROP AS
            WITH fans AS (
                SELECT p.id FROM res_partner p
                 WHERE p.company_id = %(company)s AND p.is_live_fan AND p.active
                   AND (%(all)s OR p.id = ANY(%(ids)s::int[]))
            ), amounts AS (
                SELECT o.fan_id, t.categ_id, sum(l.price_total / o.rate) AS amount,
                       count(DISTINCT o.order_id) AS order_count
                  FROM ({fan_paid_orders_sql('fans')}) o
                  JOIN sale_order_line l ON l.order_id = o.order_id
                  JOIN product_product pp ON pp.id = l.product_id
                  JOIN product_template t ON t.id = pp.product_tmpl_id
                 WHERE t.categ_id IS NOT NULL AND l.display_type IS NULL
                 GROUP BY o.fan_id, t.categ_id
            ), ranked AS (
                SELECT *, row_number() OVER (PARTITION BY fan_id ORDER BY amount DESC, order_count DESC, categ_id)
                       AS rank
                  FROM amounts WHERE amount > 0
            )
            SELECT fan_id, categ_id, rank, amount, order_count FROM ranked WHERE rank <= %(top)s
        """, params)
        cr.execute("""
            DELETE FROM live_fan_category c
             WHERE c.company_id = %(company)s AND (%(all)s OR c.partner_id = ANY(%(ids)s::int[]))
               AND NOT EXISTS (SELECT 1 FROM lcc_fan_categories n
                                WHERE n.fan_id = c.partner_id AND n.categ_id = c.category_id)
        """, params)
        cr.execute("""
            INSERT INTO live_fan_category (partner_id, company_id, category_id, rank, amount, order_count,
                                           create_uid, write_uid, create_date, write_date)
            SELECT fan_id, %(company)s, categ_id, rank, amount, order_count,
                   %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM lcc_fan_categories ORDER BY fan_id, categ_id
            ON CONFLICT (partner_id, category_id) DO UPDATE
               SET rank = EXCLUDED.rank, amount = EXCLUDED.amount, order_count = EXCLUDED.order_count,
                   write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
             WHERE (live_fan_category.rank, live_fan_category.amount, live_fan_category.order_count)
                   IS DISTINCT FROM (EXCLUDED.rank, EXCLUDED.amount, EXCLUDED.order_count)
        """, dict(params, uid=self.env.uid))
        cr.execute("DROP TABLE lcc_fan_categories")
        self.invalidate_model()
        self.env["res.partner"].invalidate_model(["fan_favourite_category_ids"])


class LiveFanRfm(models.Model):
    _inherit = "live.fan.rfm"

    @api.model
    def _recompute(self, company, partner_ids=None):
        # After each processed batch, nightly and for the demo: the favourite
        # categories follow the order figures, over the same fans.
        changed = super()._recompute(company, partner_ids)
        self.env["live.fan.category"].sudo()._recompute(company.sudo(), partner_ids)
        return changed
