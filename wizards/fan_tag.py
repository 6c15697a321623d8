from odoo import api, fields, models
from odoo.fields import Command

from .fan_selection import with_selected_fans


class LiveFanTagWizard(models.TransientModel):
    """Tag fans: what hosts and field controllers may change on a fan (they read
    contacts only; res.partner.write lets tag-only changes of fans through)."""
    _name = "live.fan.tag.wizard"
    _description = "Tag Fans"

    partner_ids = fields.Many2many("res.partner", string="Fans", required=True)
    add_category_ids = fields.Many2many(
        "res.partner.category", "live_fan_tag_wizard_add_rel", string="Add Tags")
    remove_category_ids = fields.Many2many(
        "res.partner.category", "live_fan_tag_wizard_remove_rel", string="Remove Tags")

    @api.model
    def default_get(self, fields_list):
        return with_selected_fans(self.env, fields_list, super().default_get(fields_list))

    def action_apply(self):
        self.ensure_one()
        commands = [Command.link(tag.id) for tag in self.add_category_ids]
        commands += [Command.unlink(tag.id) for tag in self.remove_category_ids - self.add_category_ids]
        if commands:
            self.partner_ids.write({"category_id": commands})
        return {"type": "ir.actions.act_window_close"}
