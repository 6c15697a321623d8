from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests.common import freeze_time

from odoo.addons.queue_job.job import Job

from .test_fan_rfm import FanFiguresCase

NOW = datetime(2026, 6, 30, 12, 0, 0)


@freeze_time(NOW)
class FlowCase(FanFiguresCase):
    """The ready-made automated actions, end to end: the rule finds the records,
    the flow's steps act on their fans, each step re-checks its condition."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.salesperson = cls.env["res.users"].create({
            "name": "Xiao Li", "login": "flow-salesperson", "company_id": cls.company_a.id,
            "company_ids": [Command.set([cls.company_a.id])]})

    def rule(self, xmlid, last_run):
        automation = self.env.ref(f"live_commerce_crm.{xmlid}")
        automation.last_run = last_run
        return automation

    def run_rule(self, xmlid, last_run=None, now=None):
        """What the 5-minute scheduler does for one rule: evaluate it, then run the
        due steps (inline instead of through the job queue)."""
        automation = self.rule(xmlid, last_run or NOW - timedelta(minutes=5))
        records = automation._live_evaluate_one(now=now)
        self.run_due()
        return records

    def run_due(self):
        self.env["live.flow.enrollment"].with_context(live_flow_sync=True)._dispatch_due()

    def enrollments(self, fan, flow_xmlid):
        return self.env["live.flow.enrollment"].search([
            ("partner_id", "=", fan.id), ("flow_id", "=", self.env.ref(f"live_commerce_crm.{flow_xmlid}").id)])

    def coupons(self, fan, program_xmlid):
        return self.env["loyalty.card"].search([
            ("partner_id", "=", fan.id),
            ("program_id", "=", self.env.ref(f"live_commerce_crm.{program_xmlid}").id)])

    def notes(self, fan):
        return "\n".join(fan.message_ids.mapped("body"))


class TestDormantRule(FlowCase):

    def test_dormant_fan_is_tagged_and_gets_a_coupon(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        awake = self.fan("awake", interacted_days_ago=2)
        self.recompute()
        self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        self.assertIn(self.env.ref("live_commerce_crm.tag_to_reactivate"), fan.category_id)
        coupon = self.coupons(fan, "loyalty_program_comeback")
        self.assertEqual(len(coupon), 1)
        self.assertEqual(coupon.expiration_date, date(2026, 7, 14))
        self.assertIn(coupon.code, self.notes(fan))
        enrollment = self.enrollments(fan, "live_flow_dormant")
        self.assertEqual((enrollment.state, enrollment.step_id),
                         ("running", self.env.ref("live_commerce_crm.live_flow_dormant_step_2")))
        self.assertEqual(enrollment.next_run_at, NOW + timedelta(days=7))
        self.assertFalse(self.enrollments(awake, "live_flow_dormant"))
        self.assertFalse(self.coupons(awake, "loyalty_program_comeback"))

    def test_many_due_fans_are_enrolled_in_batches_and_a_crash_resumes(self):
        """A rule that finds many fans hands them to its actions in bounded batches
        (each its own transaction under the scheduler); a crash after some batches
        leaves the last run where it was, and the next pass enrolls the rest, nobody twice."""
        fans = [self.fan(f"sleeper-{n}", interacted_days_ago=31) for n in range(5)]
        self.recompute()
        automation = self.rule("automation_live_dormant", NOW - timedelta(days=2))
        due = automation._live_due_records(NOW)  # by id: these five fans come last
        self.assertEqual(due[-5:].partner_id.ids, [fan.id for fan in fans])
        size = len(due) - 3  # the crash falls after the second of the five
        Automation = type(automation)
        real_run = Automation._live_run_actions
        batches = []

        def crash_on_second(rule, records):
            batches.append(len(records))
            if len(batches) == 2:
                raise RuntimeError("worker killed")
            return real_run(rule, records)

        # Not assertRaises, whose savepoint would undo the batch the scheduler committed.
        with patch("odoo.addons.live_commerce_crm.models.base_automation.ENROLL_BATCH", size), \
                patch.object(Automation, "_live_run_actions", crash_on_second):
            try:
                automation._live_evaluate_one(now=NOW)
            except RuntimeError:
                pass
        self.assertEqual(batches, [size, 3])
        self.assertEqual(automation.last_run, NOW - timedelta(days=2))
        self.assertEqual([len(self.enrollments(fan, "live_flow_dormant")) for fan in fans], [1, 1, 0, 0, 0])
        with patch("odoo.addons.live_commerce_crm.models.base_automation.ENROLL_BATCH", size):
            automation._live_evaluate_one(now=NOW)
        self.assertEqual(automation.last_run, NOW)
        self.assertEqual([len(self.enrollments(fan, "live_flow_dormant")) for fan in fans], [1, 1, 1, 1, 1])

    def test_a_coupon_code_already_taken_is_drawn_again(self):
        """Odoo's codes (32 random bits) collide among 100,000 coupons, and one
        collision fails the batch's insert: the flow draws its own and skips taken ones."""
        program = self.env.ref("live_commerce_crm.loyalty_program_comeback")
        taken = self.env["loyalty.card"].create({"program_id": program.id, "code": "0440-0000-0000-0001"})
        fans = [self.fan(f"sleeper-{n}", interacted_days_ago=31) for n in range(3)]
        self.recompute()
        draws = iter(["0440-0000-0000-0001", "0440-0000-0000-0002", "0440-0000-0000-0002",
                      "0440-0000-0000-0003", "0440-0000-0000-0004"])
        with patch.object(type(self.env["loyalty.card"]), "_live_draw_code", lambda self: next(draws)):
            self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        codes = sorted(card.code for fan in fans for card in self.coupons(fan, "loyalty_program_comeback"))
        self.assertEqual(codes, ["0440-0000-0000-0002", "0440-0000-0000-0003", "0440-0000-0000-0004"])
        self.assertEqual(taken.partner_id, self.env["res.partner"])

    def test_the_coupon_goes_out_by_email_to_a_fan_who_consented(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        fan.write({"email": "sleeper@example.com", "fan_marketing_consent": True})
        silent = self.fan("no consent", interacted_days_ago=31)
        silent.email = "silent@example.com"
        self.recompute()
        self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        coupon = self.coupons(fan, "loyalty_program_comeback")
        message = self.env["live.message"].search([("partner_id", "=", fan.id)])
        self.assertEqual((message.state, message.channel, message.coupon_id), ("sent", "email", coupon))
        self.assertIn(coupon.code, message.mail_id.body_html)
        # No consent: the coupon is issued, the message is not sent, and the fan's chatter says why.
        blocked = self.env["live.message"].search([("partner_id", "=", silent.id)])
        self.assertEqual(blocked.state, "blocked")
        self.assertTrue(self.coupons(silent, "loyalty_program_comeback"))
        self.assertIn(blocked.reason, self.notes(silent))

    def test_quiet_hours_postpone_the_step_with_its_coupon(self):
        self.company_a.partner_id.tz = "Asia/Shanghai"
        fan = self.fan("sleeper", interacted_days_ago=31)
        fan.write({"email": "sleeper@example.com", "fan_marketing_consent": True})
        self.recompute()
        late = datetime(2026, 6, 30, 15, 30)  # 23:30 in Shanghai
        with freeze_time(late):
            self.run_rule("automation_live_dormant", last_run=late - timedelta(days=2))
        enrollment = self.enrollments(fan, "live_flow_dormant")
        self.assertEqual((enrollment.step_id.name, enrollment.next_run_at),
                         ("Come-back coupon", datetime(2026, 7, 1, 0, 0)))  # 08:00 in Shanghai
        self.assertFalse(self.coupons(fan, "loyalty_program_comeback"))
        self.assertFalse(self.env["live.message"].search([("partner_id", "=", fan.id)]))
        with freeze_time(datetime(2026, 7, 1, 0, 1)):
            self.run_due()
        self.assertTrue(self.coupons(fan, "loyalty_program_comeback"))
        self.assertEqual(self.env["live.message"].search([("partner_id", "=", fan.id)]).state, "sent")

    def test_a_fan_who_came_back_leaves_before_the_reminder(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        self.recompute()
        self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        with freeze_time(NOW + timedelta(days=7, minutes=1)):
            self.interact(fan, 1)
            self.recompute()
            self.run_due()
        enrollment = self.enrollments(fan, "live_flow_dormant")
        self.assertEqual(enrollment.state, "stopped")
        self.assertIn("Reminder", enrollment.stop_reason)
        self.assertIn("condition no longer holds", self.notes(fan))

    def test_a_fan_still_asleep_gets_the_reminder_and_finishes(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        self.recompute()
        self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        with freeze_time(NOW + timedelta(days=7, minutes=1)):
            self.run_due()
        enrollment = self.enrollments(fan, "live_flow_dormant")
        self.assertEqual(enrollment.state, "done")
        self.assertIn("Reminder", self.notes(fan))

    def test_a_fan_is_in_a_flow_once_at_a_time(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        self.recompute()
        flow = self.env.ref("live_commerce_crm.live_flow_dormant")
        self.assertEqual(flow._enroll(fan), 1)
        self.assertEqual(flow._enroll(fan), 0)
        self.assertEqual(len(self.enrollments(fan, "live_flow_dormant")), 1)

    def test_the_rule_only_picks_fans_who_fell_asleep_since_its_last_run(self):
        fan = self.fan("long asleep", interacted_days_ago=60)
        newly = self.fan("newly asleep", interacted_days_ago=31)
        self.recompute()
        self.run_rule("automation_live_dormant", last_run=NOW - timedelta(days=2))
        self.assertFalse(self.enrollments(fan, "live_flow_dormant"))
        self.assertTrue(self.enrollments(newly, "live_flow_dormant"))

    def test_odoo_scheduler_leaves_live_rules_to_the_live_scheduler(self):
        fan = self.fan("sleeper", interacted_days_ago=31)
        self.recompute()
        automation = self.rule("automation_live_dormant", NOW - timedelta(days=2))
        self.env["base.automation"]._check()
        self.assertFalse(self.enrollments(fan, "live_flow_dormant"))
        self.assertEqual(automation.last_run, NOW - timedelta(days=2))
        self.env["live.flow.enrollment"].with_context(live_flow_sync=True)._cron_run(commit=False)
        self.assertEqual(automation.last_run, NOW)
        self.assertEqual(len(self.enrollments(fan, "live_flow_dormant")), 1)
        self.assertTrue(self.coupons(fan, "loyalty_program_comeback"))


class TestRuleBatches(FlowCase):

    def test_steps_run_as_bounded_jobs_on_the_automation_channel(self):
        fans = self.env["res.partner"].create([
            {"name": f"fan {n}", "company_id": self.company_a.id, "is_live_fan": True} for n in range(2500)])
        flow = self.env.ref("live_commerce_crm.live_flow_winback")
        flow._enroll(fans)
        Enrollment = self.env["live.flow.enrollment"]
        Enrollment._dispatch_due()
        jobs = self.env["queue.job"].search([("model_name", "=", "live.flow.enrollment"),
                                             ("method_name", "=", "_run_step")])
        self.assertEqual(sorted(len(job.records) for job in jobs), [500, 1000, 1000])
        self.assertEqual(set(jobs.mapped("channel")), {"root.live_automation"})
        # Queued once: a second pass finds nothing due.
        Enrollment._dispatch_due()
        self.assertEqual(self.env["queue.job"].search_count([("model_name", "=", "live.flow.enrollment")]), 3)
        for job in jobs:
            Job.load(self.env, job.uuid).perform()
        self.env.invalidate_all()
        # The win-back step re-checks the segment: none of these fans is at risk.
        states = flow.enrollment_ids.filtered(lambda e: e.partner_id in fans)
        self.assertEqual(set(states.mapped("state")), {"stopped"}, [(j.state, j.exc_info) for j in jobs])


class TestNewFanRule(FlowCase):

    def test_new_fan_gets_a_first_contact_activity_for_its_salesperson(self):
        fan = self.fan("newcomer")
        fan.user_id = self.salesperson
        # A record's creation date is its transaction's (PostgreSQL's now), not frozen.
        created = fan.create_date
        self.run_rule("automation_live_new_fan", last_run=created - timedelta(minutes=5),
                      now=created + timedelta(minutes=1))
        activity = fan.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual((activity.user_id, activity.summary), (self.salesperson, "First contact"))
        self.assertEqual(self.enrollments(fan, "live_flow_welcome").state, "done")
        # Once per fan: even if the rule finds the fan again, nothing more happens.
        self.env.ref("live_commerce_crm.live_flow_welcome")._enroll(fan)
        self.assertEqual(len(self.enrollments(fan, "live_flow_welcome")), 1)

    def test_a_contact_who_is_not_a_fan_is_not_welcomed(self):
        contact = self.env["res.partner"].create({"name": "Supplier", "company_id": self.company_a.id})
        created = contact.create_date
        self.run_rule("automation_live_new_fan", last_run=created - timedelta(minutes=5),
                      now=created + timedelta(minutes=1))
        self.assertFalse(self.env["live.flow.enrollment"].search([("partner_id", "=", contact.id)]))


class TestHighIntentRule(FlowCase):

    def test_a_fan_tagged_high_intent_becomes_an_assigned_opportunity_with_its_clock(self):
        team = self.env["crm.team"].create({
            "name": "Live Sales A", "company_id": self.company_a.id,
            "crm_team_member_ids": [Command.create({"user_id": self.salesperson.id, "assignment_max": 300})]})
        self.company_a.live_intent_team_id = team
        fan = self.fan("wants the link")
        gifter = self.fan("big gifter")
        rule = self.env.ref("live_commerce_crm.rule_high_intent")
        reasons = self.env["live.fan.tag.reason"].sudo().create([{
            "partner_id": fan.id, "tag_id": rule.tag_id.id, "rule_id": rule.id, "company_id": self.company_a.id,
            "value": 3, "hits": 2, "date": NOW - timedelta(minutes=2)}, {
            "partner_id": gifter.id, "tag_id": self.env.ref("live_commerce_crm.tag_big_gifter").id,
            "rule_id": self.env.ref("live_commerce_crm.rule_big_gifter").id, "company_id": self.company_a.id,
            "value": 500, "hits": 1, "date": NOW - timedelta(minutes=2)}])
        self.assertEqual(len(reasons), 2)
        self.run_rule("automation_live_high_intent", last_run=NOW - timedelta(minutes=5))
        lead = self.env["crm.lead"].search([("partner_id", "=", fan.id), ("live_intent", "=", True)])
        self.assertEqual((lead.team_id, lead.user_id, lead.type), (team, self.salesperson, "opportunity"))
        self.assertEqual(lead.live_sla_deadline, NOW + timedelta(hours=2))
        self.assertFalse(self.env["crm.lead"].search([("partner_id", "=", gifter.id)]))
        # The rule finds the fan again (a new keyword comment): still one opportunity.
        reasons[0].date = NOW + timedelta(minutes=1)
        with freeze_time(NOW + timedelta(minutes=5)):
            self.run_rule("automation_live_high_intent", last_run=NOW)
        self.assertEqual(self.env["crm.lead"].search_count([("partner_id", "=", fan.id)]), 1)


class TestVipRule(FlowCase):

    def test_vip_upgrade_tags_and_sets_the_vip_pricelist(self):
        fan = self.fan("big spender")
        self.orders(fan, 3, 6000, 1)
        self.recompute()
        self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("vip", NOW.date() - timedelta(days=1)))
        self.run_rule("automation_live_vip", last_run=NOW - timedelta(days=2))
        self.assertIn(self.env.ref("live_commerce_crm.tag_vip"), fan.category_id)
        self.assertEqual(fan.with_company(self.company_a).property_product_pricelist,
                         self.env.ref("live_commerce_crm.pricelist_live_vip"))
        self.assertEqual(self.enrollments(fan, "live_flow_vip").state, "done")


class TestBirthdayRule(FlowCase):

    def test_birthday_coupon_three_days_before(self):
        fan = self._make_fan(self.channel_a, "oid-bday", "birthday girl", fan_birthday=date(1995, 7, 3))
        other = self._make_fan(self.channel_a, "oid-later", "later", fan_birthday=date(1990, 7, 10))
        self.assertEqual(fan.fan_next_birthday, date(2026, 7, 3))
        self.run_rule("automation_live_birthday", last_run=NOW - timedelta(days=1))
        self.assertEqual(len(self.coupons(fan, "loyalty_program_birthday")), 1)
        self.assertFalse(self.coupons(other, "loyalty_program_birthday"))

    def test_passed_birthdays_roll_to_next_year(self):
        fan = self._make_fan(self.channel_a, "oid-leap", "birthday boy", fan_birthday=date(1992, 2, 29))
        self.assertEqual(fan.fan_next_birthday, date(2027, 2, 28))
        with freeze_time(datetime(2027, 3, 1, 1, 0)):
            self.env["res.partner"]._live_roll_birthdays()
            self.assertEqual(fan.fan_next_birthday, date(2028, 2, 29))


class TestDeliveryRule(FlowCase):

    def test_follow_up_and_repurchase_coupon_15_days_after_delivery(self):
        fan = self.fan("buyer")
        fan.user_id = self.salesperson
        address = self.env["res.partner"].create({"name": "buyer, home", "parent_id": fan.id, "type": "delivery"})
        warehouse = self.env["stock.warehouse"].search([("company_id", "=", self.company_a.id)], limit=1)
        product = self.env["product.product"].create({"name": "Scarf", "type": "consu"})
        picking = self.env["stock.picking"].with_company(self.company_a).create({
            "partner_id": address.id, "picking_type_id": warehouse.out_type_id.id,
            "move_ids": [Command.create({"name": "Scarf", "product_id": product.id, "product_uom_qty": 1,
                                         "location_id": warehouse.lot_stock_id.id,
                                         "location_dest_id": self.env.ref("stock.stock_location_customers").id})],
        })
        picking.action_confirm()
        picking.move_ids.quantity = 1
        picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.run_rule("automation_live_delivered", last_run=NOW - timedelta(days=1))
        self.assertFalse(self.enrollments(fan, "live_flow_followup"), "not yet: delivered today")
        with freeze_time(NOW + timedelta(days=15, minutes=1)):
            self.run_rule("automation_live_delivered", last_run=NOW + timedelta(days=14))
        self.assertEqual(self.enrollments(fan, "live_flow_followup").state, "done")
        self.assertEqual(fan.activity_ids.user_id, self.salesperson)
        self.assertEqual(len(self.coupons(fan, "loyalty_program_repurchase")), 1)


class TestSegmentEntryRule(FlowCase):

    def test_entering_at_risk_gets_a_coupon_then_a_call_if_still_at_risk(self):
        self.company_a.live_rfm_monetary_amount = 500
        fan = self.fan("fading")
        fan.user_id = self.salesperson
        self.orders(fan, 2, 1000, 200)
        self.recompute()
        self.assertEqual((fan.fan_rfm_segment, fan.fan_rfm_segment_date), ("at_risk", NOW.date()))
        self.run_rule("automation_live_at_risk", last_run=NOW - timedelta(days=1))
        self.assertEqual(len(self.coupons(fan, "loyalty_program_winback")), 1)
        self.assertFalse(fan.activity_ids)
        with freeze_time(NOW + timedelta(days=3, minutes=1)):
            self.run_due()
        self.assertEqual(fan.activity_ids.summary, "Win-back call")
        self.assertEqual(self.enrollments(fan, "live_flow_winback").state, "done")


class TestFlowAccess(FlowCase):

    def test_managers_tune_the_rules_and_flows_others_only_read(self):
        from odoo.exceptions import AccessError  # noqa: PLC0415
        flow = self.env.ref("live_commerce_crm.live_flow_dormant")
        rule = self.env.ref("live_commerce_crm.automation_live_dormant")
        for role in ("host", "field_controller", "service"):
            user = self.users[role]
            self.assertTrue(flow.with_user(user).step_ids)
            with self.assertRaises(AccessError, msg=role):
                flow.with_user(user).step_ids[0].delay = 3
            with self.assertRaises(AccessError, msg=role):
                rule.with_user(user).trg_date_range = 45
        manager = self.users["manager"]
        flow.with_user(manager).step_ids[1].delay = 10
        rule.with_user(manager).write({"trg_date_range": 45, "active": False})
        self.assertEqual((rule.trg_date_range, rule.active), (45, False))

    def test_enrollments_stay_in_their_company(self):
        fan_a = self.fan("fan a")
        fan_b = self._make_fan(self.channel_b, "oid-b", "fan b")
        self.env.ref("live_commerce_crm.live_flow_winback")._enroll(fan_a | fan_b)
        Enrollment = self.env["live.flow.enrollment"]
        seen_by_b = Enrollment.with_user(self.user_b).search([("partner_id", "in", (fan_a | fan_b).ids)])
        self.assertEqual(seen_by_b.partner_id, fan_b)
        self.assertEqual(seen_by_b.company_id, self.company_b)
