from datetime import timedelta

from odoo import api, fields, models

XMLID = "live_commerce_crm.%s"


class LiveFlow(models.Model):
    _inherit = "live.flow"

    @api.model
    def _live_demo_automation(self):
        """Let the ready-made rules act on the demo shop as if they had been on for a
        year: each rule looks back over the past once, then its due steps run."""
        today = fields.Date.context_today(self)
        # Two fans with a birthday in the next days, and a delivery of a fortnight ago.
        for number, days in (("03", 2), ("06", 3)):
            fan = self.env.ref(XMLID % f"demo_fan_{number}")
            fan.fan_birthday = (today + timedelta(days=days)).replace(year=1996)
        picking = self.env["stock.picking"].search([
            ("picking_type_code", "=", "outgoing"), ("state", "=", "done"),
            ("sale_id.live_channel_id", "!=", False)], limit=1)
        if picking:
            picking.date_done = fields.Datetime.now() - timedelta(days=16)
        company = self.env.ref(XMLID % "demo_company")
        company.partner_id.tz = company.partner_id.tz or "Asia/Shanghai"
        # Whatever the hour of the install, the demo shows the messages sent: quiet
        # hours are lifted while the rules catch up, then put back.
        quiet = company.live_quiet_hour_start, company.live_quiet_hour_end
        company.live_quiet_hour_end = company.live_quiet_hour_start
        automations = self.env["base.automation"].search([("live_flow_rule", "=", True)])
        automations.last_run = fields.Datetime.now() - timedelta(days=365)
        self.env["base.automation"]._live_evaluate()
        self.env["live.flow.enrollment"].with_context(live_flow_sync=True)._dispatch_due()
        company.live_quiet_hour_start, company.live_quiet_hour_end = quiet
