from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    live_rfm_window_days = fields.Integer(related="company_id.live_rfm_window_days", readonly=False)
    live_rfm_quintile_min_buyers = fields.Integer(related="company_id.live_rfm_quintile_min_buyers", readonly=False)
    live_rfm_recent_days = fields.Integer(related="company_id.live_rfm_recent_days", readonly=False)
    live_rfm_frequent_orders = fields.Integer(related="company_id.live_rfm_frequent_orders", readonly=False)
    live_rfm_monetary_amount = fields.Monetary(related="company_id.live_rfm_monetary_amount", readonly=False)
    live_vip_amount = fields.Monetary(related="company_id.live_vip_amount", readonly=False)
    live_dormant_days = fields.Integer(related="company_id.live_dormant_days", readonly=False)
    live_churned_days = fields.Integer(related="company_id.live_churned_days", readonly=False)
    live_value_high_share = fields.Float(related="company_id.live_value_high_share", readonly=False)
    live_value_medium_share = fields.Float(related="company_id.live_value_medium_share", readonly=False)
