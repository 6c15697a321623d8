from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import LiveCommerceCase

T0 = datetime(2026, 11, 20, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestIntentSla(LiveCommerceCase):
    """High-intent fans become CRM opportunities of the company's sales team, given to
    the least busy member CRM's settings allow, with a first-contact clock that the
    escalation job warns on and escalates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.host, cls.service, cls.controller = (cls.users[r] for r in ("host", "service", "field_controller"))
        cls.leader = cls.users["manager"]
        cls.team = cls.env["crm.team"].create({
            "name": "Live Sales A", "company_id": cls.company_a.id, "user_id": cls.leader.id,
            "crm_team_member_ids": [(0, 0, {"user_id": user.id, "assignment_max": 300})
                                    for user in (cls.host, cls.service, cls.controller)],
        })
        cls.company_a.write({"live_intent_team_id": cls.team.id, "live_sla_hours": 2, "live_sla_warn_minutes": 15})
        cls.other_team = cls.env["crm.team"].create({"name": "Other", "company_id": cls.company_a.id})
        cls.session_old = cls._make_session(cls.channel_a, "Morning show")
        cls.session_new = cls._make_session(cls.channel_a, "Evening show")
        cls.fan = cls._make_fan(cls.channel_a, "oid-fan", "Fan One")
        cls.env["live.session.fan"].create([
            {"session_id": cls.session_old.id, "partner_id": cls.fan.id, "company_id": cls.company_a.id,
             "last_seen_at": "2026-11-19 09:00:00"},
            {"session_id": cls.session_new.id, "partner_id": cls.fan.id, "company_id": cls.company_a.id,
             "last_seen_at": "2026-11-19 20:00:00"},
        ])
        cls.Sla = cls.env["live.lead.sla"]

    def _fans(self, count, **vals):
        start = self.env["live.fan.identity"].search_count([])
        return self.env["res.partner"].union(*(
            self._make_fan(self.channel_a, f"oid-many-{start + i}", f"Fan {start + i}", **vals)
            for i in range(count)))

    def _workload(self, user, count):
        self.env["crm.lead"].create([{"name": f"Busy {i}", "type": "opportunity", "user_id": user.id,
                                      "team_id": self.other_team.id} for i in range(count)])

    def _open(self, fans, **kwargs):
        with freeze_time(T0):
            return fans._live_open_intent_leads(**kwargs)

    def _escalate(self, at):
        with freeze_time(at):
            self.Sla._cron_escalate()
        self.env.invalidate_all()

    def _notified(self, lead, partner):
        return lead.message_ids.filtered(lambda m: partner in m.partner_ids)

    # ------------------------------------------------------------ opportunities

    def test_intent_lead_linked_to_fan_and_latest_session(self):
        lead = self._open(self.fan)
        self.assertEqual(len(lead), 1)
        self.assertRecordValues(lead, [{
            "type": "opportunity", "partner_id": self.fan.id, "live_intent": True,
            "live_session_id": self.session_new.id, "team_id": self.team.id, "company_id": self.company_a.id,
            "source_id": self.env.ref("live_commerce_crm.utm_source_live_intent").id,
        }])
        self.assertIn("Fan One", lead.name)
        self.assertTrue(lead.user_id)

    def test_intent_lead_created_once_while_open(self):
        first = self._open(self.fan)
        again = self._open(self.fan, session=self.session_old)
        self.assertEqual(again, first)
        self.assertEqual(self.env["crm.lead"].search_count([("partner_id", "=", self.fan.id)]), 1)
        self.assertEqual(len(first.live_sla_ids), 1, "no second clock either")
        first.action_set_lost()
        reopened = self._open(self.fan, session=self.session_old)
        self.assertNotEqual(reopened, first, "a lost opportunity no longer blocks a new one")
        self.assertEqual(reopened.live_session_id, self.session_old)

    def test_only_fans_get_leads(self):
        not_fan = self.env["res.partner"].create({"name": "Supplier", "company_id": self.company_a.id})
        self.assertFalse(self._open(not_fan))

    # --------------------------------------------------------------- assignment

    def test_assignment_goes_to_lowest_open_workload(self):
        self._workload(self.host, 2)
        self._workload(self.service, 1)
        leads = self._open(self._fans(3))
        counts = {user: len(leads.filtered(lambda lead: lead.user_id == user))
                  for user in (self.host, self.service, self.controller)}
        # 2/1/0 open: the controller, then service and controller level up.
        self.assertEqual(counts, {self.host: 0, self.service: 1, self.controller: 2})

    def test_assignment_respects_capacity_domain_and_opt_out(self):
        members = {member.user_id: member for member in self.team.crm_team_member_ids}
        members[self.host].assignment_max = 30  # a daily quota of one
        members[self.service].assignment_domain = "[('partner_id.city', '=', 'Hangzhou')]"
        members[self.controller].assignment_optout = True
        fans = self._fans(1, city="Hangzhou") | self._fans(2)
        leads = self._open(fans).sorted("id")
        self.assertEqual(leads.mapped("user_id"), self.service | self.host)
        self.assertEqual(leads[0].user_id, self.service, "the only fan in Hangzhou")
        self.assertEqual(leads[1].user_id, self.host)
        self.assertFalse(leads[2].user_id, "no member has capacity left for it: it waits in the team")
        self.assertEqual(leads[2].team_id, self.team)
        self.assertFalse(leads[2].live_sla_ids)

    # -------------------------------------------------------------------- clock

    def test_clock_and_first_contact_activity_start_with_assignment(self):
        lead = self._open(self.fan)
        clock = lead.live_sla_ids
        self.assertRecordValues(clock, [{
            "user_id": lead.user_id.id, "team_id": self.team.id, "company_id": self.company_a.id,
            "started_at": T0, "deadline": T0 + timedelta(hours=2), "outcome": "running",
        }])
        self.assertRecordValues(clock.activity_id, [{
            "activity_type_id": self.env.ref("live_commerce_crm.mail_activity_type_first_contact").id,
            "user_id": lead.user_id.id, "res_id": lead.id, "date_deadline": T0.date(),
        }])

    def test_warned_once_when_deadline_near(self):
        lead = self._open(self.fan)
        user = lead.user_id
        self._escalate(T0 + timedelta(minutes=100))
        self.assertFalse(lead.live_sla_ids.warned_at, "25 minutes left: not yet")
        self.assertFalse(self._notified(lead, user.partner_id))
        self._escalate(T0 + timedelta(minutes=106))
        self.assertEqual(lead.live_sla_ids.warned_at, T0 + timedelta(minutes=106))
        self.assertEqual(len(self._notified(lead, user.partner_id)), 1)
        self._escalate(T0 + timedelta(minutes=111))
        self.assertEqual(len(self._notified(lead, user.partner_id)), 1, "warned once")
        self.assertEqual(lead.live_sla_ids.outcome, "running")

    def test_activity_done_in_time_is_met(self):
        lead = self._open(self.fan)
        user = lead.user_id
        with freeze_time(T0 + timedelta(minutes=45)):
            lead.live_sla_ids.activity_id.with_user(user).action_done()
        self._escalate(T0 + timedelta(hours=3))
        self.assertRecordValues(lead.live_sla_ids, [{
            "outcome": "met", "contacted_at": T0 + timedelta(minutes=45), "contact_minutes": 45.0,
            "met_rate": 100.0, "breached_rate": 0.0, "breached_at": False,
        }])
        self.assertEqual(lead.user_id, user, "met: no escalation")

    def test_message_to_customer_is_contact_internal_note_is_not(self):
        lead = self._open(self.fan)
        user = lead.user_id
        with freeze_time(T0 + timedelta(minutes=10)):
            lead.with_user(user).message_post(body="Checking stock", message_type="comment",
                                              subtype_xmlid="mail.mt_note")
        self.assertEqual(lead.live_sla_ids.outcome, "running")
        with freeze_time(T0 + timedelta(minutes=20)):
            lead.with_user(user).message_post(body="Hello! Your scarf is in stock.", message_type="comment",
                                              subtype_xmlid="mail.mt_comment")
        self.assertEqual(lead.live_sla_ids.outcome, "met")
        self.assertFalse(lead.live_sla_ids.activity_id, "the First Contact activity is done with it")

    def test_stage_move_is_contact(self):
        lead = self._open(self.fan)
        stage = self.env["crm.stage"].search([("id", "!=", lead.stage_id.id), ("is_won", "=", False)], limit=1)
        with freeze_time(T0 + timedelta(minutes=30)):
            lead.with_user(lead.user_id).stage_id = stage
        self.assertEqual(lead.live_sla_ids.outcome, "met")

    def test_breach_reassigns_and_notifies_team_leader(self):
        lead = self._open(self.fan)
        first_user, first_clock = lead.user_id, lead.live_sla_ids
        first_activity = first_clock.activity_id
        self._escalate(T0 + timedelta(hours=2, minutes=4))
        self.assertRecordValues(first_clock, [{
            "outcome": "breached", "breached_at": T0 + timedelta(hours=2, minutes=4), "contacted_at": False,
            "met_rate": 0.0, "breached_rate": 100.0,
        }])
        second_user = lead.user_id
        self.assertTrue(second_user)
        self.assertNotEqual(second_user, first_user)
        self.assertEqual(first_clock.reassigned_to_id, second_user)
        self.assertFalse(first_activity.exists(), "the breached salesperson's task is withdrawn")
        second_clock = lead.live_sla_ids - first_clock
        self.assertRecordValues(second_clock, [{
            "user_id": second_user.id, "outcome": "running", "started_at": T0 + timedelta(hours=2, minutes=4),
            "deadline": T0 + timedelta(hours=4, minutes=4),
        }])
        self.assertEqual(second_clock.activity_id.user_id, second_user)
        told = self._notified(self.team, self.leader.partner_id)
        self.assertEqual(len(told), 1, "the team leader is told, once for the run")
        self.assertIn(lead.name, told.body)
        self.assertIn(second_user.name, told.body)
        self.assertTrue(lead.message_ids.filtered(lambda m: second_user.name in m.body and first_user.name in m.body),
                        "the breach is noted on the opportunity")
        # The second salesperson lets it pass too: the third member gets it, not the first.
        self._escalate(T0 + timedelta(hours=4, minutes=5))
        self.assertEqual(lead.user_id, self.team.crm_team_member_ids.user_id - first_user - second_user)
        self.assertEqual(lead.live_sla_ids.mapped("outcome").count("breached"), 2)

    def test_breach_with_nobody_left_keeps_salesperson(self):
        self.team.crm_team_member_ids.filtered(lambda m: m.user_id != self.host).unlink()
        lead = self._open(self.fan)
        self._escalate(T0 + timedelta(hours=2, minutes=1))
        self.assertEqual(lead.user_id, self.host)
        self.assertEqual(lead.live_sla_ids.outcome, "breached")
        self.assertFalse(lead.live_sla_ids.reassigned_to_id)
        self.assertIn("no other salesperson", self._notified(self.team, self.leader.partner_id).body)

    def test_contact_after_deadline_is_breached(self):
        lead = self._open(self.fan)
        user = lead.user_id
        with freeze_time(T0 + timedelta(hours=2, minutes=2)):  # before the job came round
            lead.live_sla_ids.activity_id.with_user(user).action_done()
        self.assertRecordValues(lead.live_sla_ids, [{
            "outcome": "breached", "contacted_at": T0 + timedelta(hours=2, minutes=2),
            "breached_at": T0 + timedelta(hours=2), "breached_rate": 100.0}])
        self._escalate(T0 + timedelta(hours=2, minutes=5))
        self.assertEqual(lead.user_id, user, "contacted: nothing to escalate")

    def test_reassigned_by_hand_restarts_clock(self):
        lead = self._open(self.fan)
        first = lead.live_sla_ids
        other = (self.host | self.service | self.controller) - lead.user_id
        with freeze_time(T0 + timedelta(minutes=30)):
            lead.user_id = other[0]
        self.assertEqual(first.outcome, "cancelled", "before the deadline: not counted")
        self.assertFalse(first.activity_id)
        self.assertRecordValues(lead.live_sla_ids - first, [{
            "user_id": other[0].id, "outcome": "running", "deadline": T0 + timedelta(hours=2, minutes=30)}])

    def test_lost_before_deadline_cancels_clock(self):
        lead = self._open(self.fan)
        with freeze_time(T0 + timedelta(minutes=30)):
            lead.action_set_lost()
        self.assertEqual(lead.live_sla_ids.outcome, "cancelled")
        self._escalate(T0 + timedelta(hours=3))
        self.assertEqual(lead.live_sla_ids.outcome, "cancelled")

    # ------------------------------------------------------- companies, access

    def test_each_company_its_team_and_deadline(self):
        team_b = self.env["crm.team"].create({
            "name": "Live Sales B", "company_id": self.company_b.id,
            "crm_team_member_ids": [(0, 0, {"user_id": self.user_b.id, "assignment_max": 300})]})
        self.company_b.write({"live_intent_team_id": team_b.id, "live_sla_hours": 1, "live_sla_warn_minutes": 5})
        fan_b = self._make_fan(self.channel_b, "oid-b", "Fan B")
        lead_a, lead_b = self._open(self.fan), self._open(fan_b)
        self.assertRecordValues(lead_b, [{"team_id": team_b.id, "company_id": self.company_b.id,
                                          "user_id": self.user_b.id}])
        self.assertRecordValues(lead_b.live_sla_ids, [{"company_id": self.company_b.id,
                                                       "deadline": T0 + timedelta(hours=1)}])
        self._escalate(T0 + timedelta(minutes=50))
        self.assertFalse(lead_b.live_sla_ids.warned_at, "10 minutes left: company B warns at 5")
        self._escalate(T0 + timedelta(minutes=56))
        self.assertTrue(lead_b.live_sla_ids.warned_at, "company B warns 5 minutes before")
        self.assertFalse(lead_a.live_sla_ids.warned_at)
        self._escalate(T0 + timedelta(minutes=61))
        self.assertEqual(lead_b.live_sla_ids.outcome, "breached")
        self.assertEqual(lead_a.live_sla_ids.outcome, "running", "company A's deadline is 2 hours")
        # Each company's managers read its clocks, not the other's.
        clocks = (lead_a | lead_b).live_sla_ids
        for manager, own in ((self.leader, lead_a), (self.user_b, lead_b)):
            self.assertEqual(self.Sla.with_user(manager).search([("id", "in", clocks.ids)]), own.live_sla_ids)
            with self.assertRaises(AccessError):
                (clocks - own.live_sla_ids).with_user(manager).read(["outcome"])

    def test_salespeople_see_their_own_leads_and_clocks_managers_all(self):
        self.team.crm_team_member_ids.filtered(lambda m: m.user_id == self.controller).unlink()
        leads = self._open(self._fans(2))
        self.assertEqual(leads.user_id, self.host | self.service)
        host_lead = leads.filtered(lambda lead: lead.user_id == self.host)
        Lead, Sla = self.env["crm.lead"], self.env["live.lead.sla"]
        self.assertEqual(Lead.with_user(self.host).search([("live_intent", "=", True)]), host_lead)
        self.assertEqual(Sla.with_user(self.host).search([]), host_lead.live_sla_ids)
        self.assertEqual(Sla.with_user(self.service).search([]), (leads - host_lead).live_sla_ids)
        self.assertEqual(Sla.with_user(self.leader).search([]), leads.live_sla_ids, "managers see every clock")
        self.assertFalse(Sla.with_user(self.user_b).search([]), "another company's manager sees none")
        self.assertFalse(Sla.with_user(self.host).has_access("write"))


@tagged("post_install", "-at_install")
class TestIntentSlaDemo(LiveCommerceCase):

    def test_demo_has_met_running_and_breached_clocks(self):
        team = self.env.ref("live_commerce_crm.demo_team_live_sales")
        self.assertEqual(self.env.ref("live_commerce_crm.demo_company").live_intent_team_id, team)
        # The demo's three opportunities (the high-intent rule opens more, running).
        clocks = self.env["live.lead.sla"].search([("team_id", "=", team.id), ("lead_id.live_intent", "=", True)])
        self.assertEqual(set(clocks.mapped("outcome")), {"breached", "met", "running"})
        breached = clocks.filtered(lambda c: c.outcome == "breached")
        self.assertTrue(breached.reassigned_to_id)
        self.assertEqual(breached.lead_id.user_id, breached.reassigned_to_id)
