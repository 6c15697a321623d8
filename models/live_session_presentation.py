from odoo import api, fields, models


class LiveSessionPresentation(models.Model):
    """A period during which the host presented (讲解) one featured product.

    "Present now" on a featured product closes the session's open period and opens
    one for that product: at most one period is open per session (a partial unique
    index keeps it so when two screens click at once). The orders of the session
    placed during a product's periods are that product's presentation figures
    (live.session.product).
    """
    _name = "live.session.presentation"
    _description = "Live Product Presentation"
    _order = "date_start desc, id desc"
    _rec_name = "product_id"
    _check_company_auto = True

    session_id = fields.Many2one("live.session", required=True, ondelete="cascade", index=True, readonly=True)
    session_product_id = fields.Many2one(
        "live.session.product", string="Featured Product", required=True, ondelete="cascade", index=True,
        readonly=True, check_company=True)
    product_id = fields.Many2one(related="session_product_id.product_id", store=True)
    company_id = fields.Many2one(related="session_id.company_id", store=True, index=True)
    date_start = fields.Datetime(string="Start", required=True, readonly=True)
    date_end = fields.Datetime(string="End", readonly=True, help="Empty while the product is being presented.")
    user_id = fields.Many2one("res.users", string="Marked By", readonly=True, default=lambda self: self.env.user)
    duration_minutes = fields.Float(string="Duration (Minutes)", compute="_compute_duration_minutes")

    _sql_constraints = [
        ("end_after_start", "CHECK(date_end IS NULL OR date_end >= date_start)",
         "A presentation cannot end before it starts."),
    ]

    def init(self):
        self.env.cr.execute("""CREATE UNIQUE INDEX IF NOT EXISTS live_session_presentation_one_open_idx
                                   ON live_session_presentation (session_id) WHERE date_end IS NULL""")

    @api.depends("date_start", "date_end")
    def _compute_duration_minutes(self):
        now = fields.Datetime.now()
        for period in self:
            end = period.date_end or now
            period.duration_minutes = (end - period.date_start).total_seconds() / 60.0 if period.date_start else 0.0
