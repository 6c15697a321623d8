from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_flow_enrollment_ids = fields.One2many("live.flow.enrollment", "partner_id", string="Flows",
                                               readonly=True)
    live_flow_running_count = fields.Integer(compute="_compute_live_flow_running_count", string="Running Flows")

    def _compute_live_flow_running_count(self):
        counts = dict(self.env["live.flow.enrollment"]._read_group(
            [("partner_id", "in", self.ids), ("state", "=", "running")], ["partner_id"], ["__count"]))
        for partner in self:
            partner.live_flow_running_count = counts.get(partner, 0)

    def action_view_live_flows(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_flow_enrollment")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {}
        return action
