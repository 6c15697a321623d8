"""The demo's high-intent opportunities (demo/crm_intent_demo.xml), at installation only."""
from datetime import timedelta

from odoo import api, fields, models

XMLID = "live_commerce_crm.%s"


class LiveEvent(models.Model):
    _inherit = "live.event"

    @api.model
    def _live_demo_intent_leads(self, met_fan, running_fan, breached_fan):
        """Three fans tagged high intent in the demo shop's last sessions, through
        the same path as the automated actions: one contacted in time, one waiting
        on its salesperson, one whose deadline passed and that the escalation job
        gave to the next salesperson, the team leader told."""
        Partner = self.env["res.partner"]
        fans = {key: self.env.ref(XMLID % xmlid)
                for key, xmlid in (("met", met_fan), ("running", running_fan), ("breached", breached_fan))}
        leads = {key: Partner.browse(fan.id)._live_open_intent_leads() for key, fan in fans.items()}
        now = fields.Datetime.now()
        # Backdate the met and breached clocks, as if assigned during the last show.
        for key, started in (("met", now - timedelta(minutes=50)), ("breached", now - timedelta(hours=2, minutes=10))):
            clock = leads[key].sudo()._live_sla_running()
            clock.write({"started_at": started,
                         "deadline": started + timedelta(hours=clock.company_id.live_sla_hours)})
        leads["met"].with_user(leads["met"].user_id).message_post(
            body="您好！看到您在直播间咨询围巾的颜色，我们有米白和藏青两色现货。"
                 " Hello! You asked about the scarf's colours on the stream: we have cream and navy in stock.",
            message_type="comment", subtype_xmlid="mail.mt_comment")
        company = leads["breached"].company_id
        self.env["live.lead.sla"].sudo().with_company(company)._escalate_due(company, limit=100)
