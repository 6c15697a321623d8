import base64

from odoo import api, fields, models


class LiveFanExportWizard(models.TransientModel):
    """Export this fan's data: a JSON file of everything kept about the person
    (res.partner._live_export_data). Managers only; the file lives in the wizard's
    row (not an attachment), which Odoo deletes with the other transient rows."""
    _name = "live.fan.export.wizard"
    _description = "Export Fan Data"

    partner_id = fields.Many2one("res.partner", string="Fan", required=True)
    data = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "partner_id" in fields_list and self.env.context.get("active_model") == "res.partner":
            values["partner_id"] = self.env.context.get("active_id")
        return values

    def action_export(self):
        self.ensure_one()
        filename, content = self.partner_id._live_export_file()
        self.write({"data": base64.b64encode(content), "filename": filename})
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
            "view_mode": "form", "target": "new", "name": self.env._("Export Fan Data"),
        }
