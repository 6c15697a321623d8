from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class IrActionsServer(models.Model):
    """A server action type for automated actions: put the records' fans into a
    live flow (live.flow), all of them at once."""
    _inherit = "ir.actions.server"

    state = fields.Selection(selection_add=[("live_flow", "Enroll in a Live Flow")],
                             ondelete={"live_flow": "cascade"})
    live_flow_id = fields.Many2one("live.flow", string="Live Flow", ondelete="restrict", index="btree_not_null")

    @api.constrains("state", "live_flow_id")
    def _check_live_flow(self):
        if self.filtered(lambda action: action.state == "live_flow" and not action.live_flow_id):
            raise ValidationError(_("Choose the live flow the records' fans enter."))

    def _run_action_live_flow_multi(self, eval_context=None):
        records = eval_context.get("records") or eval_context.get("record")
        if records:
            automation = self.base_automation_id
            self.live_flow_id.sudo()._enroll(records.sudo(), automation=automation)
        return False
