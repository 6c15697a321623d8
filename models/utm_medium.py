from odoo import fields, models


class UtmMedium(models.Model):
    _inherit = "utm.medium"

    live_paid_traffic = fields.Boolean(
        string="Paid Traffic",
        help="Orders with this medium were brought by paid traffic (ads): their GMV is the ad-attributed GMV of "
             "live sessions, divided by ad spend for the ad ROI.")
