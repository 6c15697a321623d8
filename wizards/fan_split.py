from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

SERVICE_GROUP = "live_commerce_crm.group_live_service"


class LiveFanSplitWizard(models.TransientModel):
    """Split a fan: identities that belong to someone else move to a new fan, with
    what came through them (res.partner._live_split_fan). Customer service and
    managers only (ir.model.access.csv and the method)."""
    _name = "live.fan.split.wizard"
    _description = "Split a Fan"

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, readonly=True)
    identity_ids = fields.Many2many(
        "live.fan.identity", string="Identities to Move", required=True,
        domain="[('partner_id', '=', partner_id)]")
    new_name = fields.Char(string="New Fan's Name", required=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "res.partner" and self.env.context.get("active_id"):
            partner = self.env["res.partner"].browse(self.env.context["active_id"])
            values["partner_id"] = partner.id
            if "new_name" in fields_list:
                values["new_name"] = partner.name
        return values

    def action_split(self):
        self.ensure_one()
        if not self.env.user.has_group(SERVICE_GROUP):
            raise AccessError(_("Only customer service and managers split fans."))
        self.partner_id.check_access("write")
        identities = self.identity_ids.filtered(lambda identity: identity.partner_id == self.partner_id)
        if not identities or identities != self.identity_ids:
            raise UserError(_("Pick identities of this fan."))
        if identities == self.partner_id.live_identity_ids:
            raise UserError(_("Leave at least one identity with the fan: the others move to the new one."))
        new_fan = self.partner_id._live_split_fan(identities, self.new_name)
        return {
            "type": "ir.actions.act_window", "res_model": "res.partner", "res_id": new_fan.id,
            "view_mode": "form", "target": "current",
        }
