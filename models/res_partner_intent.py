from collections import defaultdict

from odoo import models
from odoo.tools import SQL

# The open high-intent opportunities of fans: not lost (archived), not won.
OPEN_INTENT_DOMAIN = [("live_intent", "=", True), ("type", "=", "opportunity"),
                      "|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]


class ResPartner(models.Model):
    _inherit = "res.partner"

    def _live_open_intent_leads(self, session=None):
        """Open a CRM opportunity for each fan of `self` tagged high intent that has
        no open one yet, in its company's high-intent sales team, and give it to a
        member (crm.team._live_assign_intent_leads); the salesperson's first-contact
        clock starts with it (live.lead.sla). Called by the automated actions on the
        fans (base.automation), so it works as the system: the caller need not see
        the team nor other salespeople's opportunities.

        :param session: the live.session (or its id) where the intent showed; by
            default each fan's latest session.
        :return: the fans' open high-intent opportunities, new and existing.
        """
        if isinstance(session, int):
            session = self.env["live.session"].browse(session)
        fans = self.filtered("is_live_fan")
        Lead = self.env["crm.lead"].sudo()
        if not fans:
            return Lead
        existing = Lead.search([("partner_id", "in", fans.ids)] + OPEN_INTENT_DOMAIN)
        todo = fans - existing.partner_id
        if not todo:
            return existing
        latest = {} if session else todo._live_latest_sessions()
        source = self.env.ref("live_commerce_crm.utm_source_live_intent", raise_if_not_found=False)
        vals_list = []
        for fan in todo:
            company = fan.company_id or self.env.company
            vals_list.append({
                "name": self.env._("High intent: %(fan)s", fan=fan.name),
                "type": "opportunity",
                "partner_id": fan.id,
                "company_id": company.id,
                "team_id": company.live_intent_team_id.id,
                "user_id": False,
                "live_intent": True,
                "live_session_id": session.id if session else latest.get(fan.id, False),
                "source_id": source.id if source else False,
            })
        leads = Lead.create(vals_list)
        by_team = defaultdict(lambda: Lead)
        for lead in leads:
            by_team[lead.team_id] |= lead
        for team, team_leads in by_team.items():
            if team:
                team.with_company(team_leads.company_id[:1])._live_assign_intent_leads(team_leads)
        return existing | leads

    def _live_latest_sessions(self):
        """{fan id: id of the session the fan was last seen in}, from the audiences."""
        self.env["live.session.fan"].flush_model(["partner_id", "session_id", "last_seen_at"])
        self.env.cr.execute(SQL("""
            SELECT DISTINCT ON (partner_id) partner_id, session_id
              FROM live_session_fan
             WHERE partner_id = ANY(%s)
          ORDER BY partner_id, last_seen_at DESC NULLS LAST, id DESC""", self.ids))
        return dict(self.env.cr.fetchall())
