from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    live_quiet_hour_start = fields.Float(related="company_id.live_quiet_hour_start", readonly=False)
    live_quiet_hour_end = fields.Float(related="company_id.live_quiet_hour_end", readonly=False)
    live_message_cap_count = fields.Integer(related="company_id.live_message_cap_count", readonly=False)
    live_message_cap_days = fields.Integer(related="company_id.live_message_cap_days", readonly=False)
