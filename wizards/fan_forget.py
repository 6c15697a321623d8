from odoo import api, fields, models
from odoo.exceptions import UserError

from .fan_selection import with_selected_fans


class LiveFanForgetWizard(models.TransientModel):
    """Forget this fan: confirm, then erase the person and keep the books
    (res.partner._live_forget). Managers only (ir.model.access.csv and the method)."""
    _name = "live.fan.forget.wizard"
    _description = "Forget Fans"

    partner_ids = fields.Many2many("res.partner", string="Fans", required=True)
    confirm = fields.Boolean(string="I understand this cannot be undone")

    @api.model
    def default_get(self, fields_list):
        return with_selected_fans(self.env, fields_list, super().default_get(fields_list))

    def action_forget(self):
        self.ensure_one()
        if not self.confirm:
            raise UserError(self.env._("Tick the confirmation first: forgetting a fan cannot be undone."))
        self.partner_ids._live_forget()
        return {"type": "ir.actions.act_window_close"}
