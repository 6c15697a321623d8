from ast import literal_eval
from collections import defaultdict

from odoo import models


class CrmTeam(models.Model):
    _inherit = "crm.team"

    def _live_assign_intent_leads(self, leads):
        """Give each of `leads` (of this team) to a member, as CRM's own assignment
        would choose one, and return the leads left without one.

        CRM's member settings decide who may take a lead: not opted out of
        assignment, daily quota left (crm.team.member._get_assignment_quota(): the
        30-day capacity over 30 less the leads of the last 24 hours), assignment
        domain matching the lead. Among those, the member with the fewest open
        opportunities gets it, so a fan waits on the least busy salesperson. A
        salesperson who already let this lead's first-contact deadline pass is not
        given it again. CRM's _assign_and_convert_leads() is not called itself: it
        commits every 100 leads (inside an automated action's or the escalation
        job's transaction), takes every unassigned lead of the team, and shares
        them out in turns by quota rather than to the least busy.
        """
        self.ensure_one()
        members = self.crm_team_member_ids.filtered(lambda m: not m.assignment_optout and m.user_id.active)
        if not leads or not members:
            return leads
        members.invalidate_recordset(["lead_day_count"])  # leads given since it was read count too
        quota = {member: member._get_assignment_quota() for member in members}
        matching = {member: leads.filtered_domain(literal_eval(member.assignment_domain or "[]"))
                    for member in members}
        workload = self._live_open_workload(members.user_id)
        refused = {lead: lead.live_sla_ids.filtered(lambda c: c.outcome == "breached").user_id for lead in leads}
        by_user = defaultdict(lambda: self.env["crm.lead"])
        for lead in leads.sorted("id"):
            candidates = [member for member in members
                          if quota[member] > 0 and lead in matching[member] and member.user_id not in refused[lead]]
            if not candidates:
                continue
            best = min(candidates, key=lambda m: (workload[m.user_id.id], -quota[m], m.id))
            quota[best] -= 1
            workload[best.user_id.id] += 1
            by_user[best.user_id] |= lead
        # As CRM's assignment does: no "you have been assigned" email per opportunity;
        # the First Contact activity shows in the salesperson's activities.
        for user, user_leads in by_user.items():
            user_leads.with_context(mail_auto_subscribe_no_notify=True).write({"user_id": user.id})
        assigned = self.env["crm.lead"].union(*by_user.values())
        return leads - assigned

    def _live_open_workload(self, users):
        """Open opportunities (not lost, not won) per salesperson, all teams."""
        groups = self.env["crm.lead"].sudo()._read_group(
            [("user_id", "in", users.ids), ("type", "=", "opportunity"),
             "|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)],
            ["user_id"], ["__count"])
        workload = defaultdict(int)
        workload.update({user.id: count for user, count in groups})
        return workload
