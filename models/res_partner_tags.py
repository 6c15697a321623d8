from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_tag_reason_ids = fields.One2many("live.fan.tag.reason", "partner_id", string="Tag Reasons",
                                          readonly=True)


class ResPartnerCategory(models.Model):
    _inherit = "res.partner.category"

    # Which rules give this tag: filters find "high intent" fans by the rule's
    # kind, whatever the tag is called in the user's language.
    live_tag_rule_ids = fields.One2many("live.fan.tag.rule", "tag_id", string="Tag Rules", readonly=True)
