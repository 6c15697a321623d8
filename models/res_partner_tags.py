from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_tag_reason_ids = fields.One2many("live.fan.tag.reason", "partner_id", string="Tag Reasons",
                                          readonly=True)
