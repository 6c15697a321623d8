import logging
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import format_datetime

_logger = logging.getLogger(__name__)

SLA_OUTCOMES = [
    ("running", "Running"),
    ("met", "Met"),
    ("breached", "Breached"),
    ("cancelled", "Cancelled"),
]
ESCALATION_BATCH = 500


class LiveLeadSla(models.Model):
    """The first-contact clock of one salesperson on one high-intent opportunity.

    Started whenever a high-intent opportunity gets a salesperson (assignment,
    escalation, or by hand), with a "First Contact" activity for them. Met when the
    fan is contacted in time (the activity marked done, a message sent to the
    customer from the chatter, or the opportunity moved to another stage); breached
    when the escalation job finds the deadline passed, which hands the opportunity
    to the next salesperson. Kept, so met and breached rates read per salesperson.
    """
    _name = "live.lead.sla"
    _description = "First-Contact SLA"
    _order = "started_at desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Opportunity", required=True, ondelete="cascade", index=True,
                              readonly=True)
    partner_id = fields.Many2one(related="lead_id.partner_id", string="Fan")
    user_id = fields.Many2one("res.users", string="Salesperson", required=True, index=True, readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    started_at = fields.Datetime(string="Assigned At", required=True, readonly=True)
    deadline = fields.Datetime(string="Contact Deadline", required=True, readonly=True)
    warned_at = fields.Datetime(string="Warned At", readonly=True)
    contacted_at = fields.Datetime(string="Contacted At", readonly=True)
    breached_at = fields.Datetime(string="Escalated At", readonly=True,
                                  help="When the escalation job found the deadline passed, or the late contact.")
    outcome = fields.Selection(SLA_OUTCOMES, required=True, default="running", index=True, readonly=True)
    reassigned_to_id = fields.Many2one("res.users", string="Reassigned To", readonly=True)
    activity_id = fields.Many2one("mail.activity", string="Activity", ondelete="set null", readonly=True,
                                  index="btree_not_null")
    # 100 or 0 per decided clock: averaged in the pivot, the met and breached rates.
    met_rate = fields.Float(string="Met (%)", aggregator="avg", readonly=True)
    breached_rate = fields.Float(string="Breached (%)", aggregator="avg", readonly=True)
    contact_minutes = fields.Float(string="Minutes to Contact", aggregator="avg", readonly=True)

    _sql_constraints = [
        ("deadline_after_start", "CHECK(deadline >= started_at)", "The deadline cannot come before the assignment."),
    ]

    def init(self):
        # The escalation job's two searches: a company's running clocks by deadline.
        self.env.cr.execute("""CREATE INDEX IF NOT EXISTS live_lead_sla_running_deadline_idx
                                   ON live_lead_sla (company_id, deadline) WHERE outcome = 'running'""")

    # ------------------------------------------------------------------ clocks

    @api.model
    def _start(self, leads):
        """A running clock and a "First Contact" activity for each lead's salesperson."""
        leads = leads.filtered(lambda lead: lead.user_id and lead.active)
        if not leads:
            return self.browse()
        now = fields.Datetime.now()
        clocks = self.sudo().create([{
            "lead_id": lead.id, "user_id": lead.user_id.id, "team_id": lead.team_id.id,
            "company_id": lead.company_id.id or self.env.company.id, "started_at": now,
            "deadline": now + timedelta(hours=(lead.company_id or self.env.company).live_sla_hours),
        } for lead in leads])
        activity_type = self.env.ref("live_commerce_crm.mail_activity_type_first_contact")
        model_id = self.env["ir.model"]._get_id("crm.lead")
        activities = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True).create([{
            "res_model_id": model_id, "res_id": clock.lead_id.id, "activity_type_id": activity_type.id,
            "user_id": clock.user_id.id,
            "summary": self.env._("Contact the fan by %(deadline)s", deadline=clock._deadline_text()),
            "date_deadline": fields.Date.context_today(clock.with_context(tz=clock.user_id.tz), clock.deadline),
        } for clock in clocks])
        for clock, activity in zip(clocks, activities):
            clock.activity_id = activity
        return clocks

    def _record_contact(self):
        """The fan was contacted now: met if within the deadline."""
        now = fields.Datetime.now()
        running = self.filtered(lambda c: c.outcome == "running")
        for clock in running:
            late = now > clock.deadline
            clock.write({
                "contacted_at": now, "outcome": "breached" if late else "met",
                "breached_at": clock.deadline if late else False,
                "met_rate": 0.0 if late else 100.0, "breached_rate": 100.0 if late else 0.0,
                "contact_minutes": (now - clock.started_at).total_seconds() / 60.0,
            })

    def _close_unattended(self):
        """The opportunity left the salesperson (lost, or given to someone else by
        hand) before any contact: breached when the deadline had passed, else the
        clock does not count."""
        now = fields.Datetime.now()
        running = self.filtered(lambda c: c.outcome == "running")
        late = running.filtered(lambda c: c.deadline < now)
        late.write({"outcome": "breached", "breached_at": now, "met_rate": 0.0, "breached_rate": 100.0})
        (running - late).write({"outcome": "cancelled"})
        (running.activity_id).sudo().unlink()

    def _deadline_text(self):
        return format_datetime(self.env, self.deadline, tz=self.user_id.tz or "UTC", dt_format="short")

    # --------------------------------------------------------------- escalation

    @api.model
    def _cron_escalate(self, batch_size=ESCALATION_BATCH):
        """Every 5 minutes: warn the salespeople whose deadline is near, escalate the
        breached clocks. Each company with its own settings, in bounded batches; a
        full batch calls the job back at once."""
        groups = self.sudo()._read_group([("outcome", "=", "running")], ["company_id"], ["__count"])
        full = False
        for company, _count in groups:
            clocks = self.sudo().with_company(company)
            warned = clocks._warn_due(company, batch_size)
            breached = clocks._escalate_due(company, batch_size)
            full = full or len(warned) == batch_size or len(breached) == batch_size
        if full:
            self.env.ref("live_commerce_crm.ir_cron_live_lead_sla_escalate")._trigger()

    def _warn_due(self, company, limit):
        """A note on each opportunity whose deadline is near, its salesperson as
        recipient; once per clock. The emails go out with the mail queue, not in
        the job."""
        now = fields.Datetime.now()
        clocks = self.search([
            ("company_id", "=", company.id), ("outcome", "=", "running"), ("warned_at", "=", False),
            ("deadline", ">", now), ("deadline", "<=", now + timedelta(minutes=company.live_sla_warn_minutes)),
        ], order="deadline", limit=limit)
        clocks.write({"warned_at": now})
        for clock in clocks:
            clock.lead_id.with_context(mail_notify_force_send=False).message_post(
                body=self.env._("First contact with %(fan)s is due by %(deadline)s.",
                                fan=clock.lead_id.partner_id.display_name, deadline=clock._deadline_text()),
                partner_ids=clock.user_id.partner_id.ids, subtype_xmlid="mail.mt_note", message_type="comment")
        return clocks

    def _escalate_due(self, company, limit):
        """Breached clocks: recorded, the opportunity given to the next salesperson
        (a new clock for them), a note on it, and one message per team and run to
        its leader listing the breaches (not one email per opportunity)."""
        now = fields.Datetime.now()
        clocks = self.search([
            ("company_id", "=", company.id), ("outcome", "=", "running"), ("deadline", "<=", now),
        ], order="deadline", limit=limit)
        if not clocks:
            return clocks
        clocks.write({"outcome": "breached", "breached_at": now, "met_rate": 0.0, "breached_rate": 100.0})
        clocks.activity_id.unlink()
        by_team = defaultdict(lambda: self.env["crm.lead"])
        for lead in clocks.lead_id.filtered("active"):
            by_team[lead.team_id] |= lead
        for team, team_leads in by_team.items():
            if team:
                team._live_assign_intent_leads(team_leads)
        bodies, lines = {}, defaultdict(list)
        for clock in clocks:
            lead = clock.lead_id
            new_user = lead.user_id if lead.user_id != clock.user_id else self.env["res.users"]
            clock.reassigned_to_id = new_user
            if new_user:
                body = self.env._("%(user)s did not contact %(fan)s by %(deadline)s: the opportunity goes to "
                                  "%(new_user)s.", user=clock.user_id.name, fan=lead.partner_id.display_name,
                                  deadline=clock._deadline_text(), new_user=new_user.name)
            else:
                body = self.env._("%(user)s did not contact %(fan)s by %(deadline)s, and no other salesperson of "
                                  "the team can take the opportunity.", user=clock.user_id.name,
                                  fan=lead.partner_id.display_name, deadline=clock._deadline_text())
            bodies[lead.id] = Markup("<p>%s</p>") % body
            lines[lead.team_id].append(Markup("<li>%s: %s</li>") % (lead._get_html_link(), body))
        self.env["crm.lead"].browse(bodies)._message_log_batch(bodies=bodies)
        for team, team_lines in lines.items():
            if not team:
                continue
            team.with_context(mail_notify_force_send=False).message_post(
                body=Markup("<p>%s</p><ul>%s</ul>") % (
                    self.env._("First-contact deadlines missed in %(team)s:", team=team.name),
                    Markup("").join(team_lines)),
                partner_ids=team.user_id.partner_id.ids, subtype_xmlid="mail.mt_note", message_type="comment")
        _logger.info("First-contact SLA: %s clock(s) breached in %s, %s reassigned", len(clocks), company.name,
                     len(clocks.filtered("reassigned_to_id")))
        return clocks
