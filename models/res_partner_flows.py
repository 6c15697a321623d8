from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_flow_enrollment_ids = fields.One2many("live.flow.enrollment", "partner_id", string="Flows",
                                               readonly=True)
