from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    live_intent_team_id = fields.Many2one(related="company_id.live_intent_team_id", readonly=False,
                                          domain="[('company_id', 'in', [company_id, False])]")
    live_sla_hours = fields.Float(related="company_id.live_sla_hours", readonly=False)
    live_sla_warn_minutes = fields.Integer(related="company_id.live_sla_warn_minutes", readonly=False)
