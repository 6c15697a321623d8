"""Fans' privacy (PIPL): least privilege on fans and raw payloads, marketing consent
per channel, and "Export this fan's data" / "Forget this fan" for managers only,
each use logged. Tested as a user of each role."""
import base64
import json

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tests.common import freeze_time
from odoo.tools import mute_logger

from ..models.platforms.base import InboxEvent
from .common import GROUPS, LiveCommerceCase, generic_event
from .order_common import T0, OrderCase

READERS = ("user", "host", "field_controller")  # read fans, may only tag them


@tagged("post_install", "-at_install")
class TestFanAccess(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fan = cls._make_fan(cls.channel_a, "oid-privacy", "小鹿 Xiaolu", phone="13800001111",
                                fan_lifecycle_stage="first_order")
        cls.delivery = cls.env["res.partner"].create({
            "name": "张*", "type": "delivery", "parent_id": cls.fan.id, "street": "文三路**号"})
        cls.tag = cls.env["res.partner.category"].create({"name": "High Intent"})
        cls.other_tag = cls.env["res.partner.category"].create({"name": "Big Gifter"})

    def test_hosts_and_field_controllers_cannot_edit_fans(self):
        for role in READERS:
            fan = self.fan.with_user(self.users[role])
            for vals in ({"fan_lifecycle_stage": "vip"}, {"name": "Renamed"}, {"phone": "1"},
                         {"category_id": [Command.link(self.tag.id)], "fan_lifecycle_stage": "vip"},
                         {"category_id": [Command.create({"name": "Made up"})]}):
                with self.subTest(role=role, vals=vals), self.assertRaises(AccessError):
                    fan.write(vals)
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.delivery.with_user(self.users[role]).write({"street": "Elsewhere"})
            with self.subTest(role=role), self.assertRaises(AccessError):
                fan.unlink()
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.env["res.partner"].with_user(self.users[role]).create({"name": "New fan", "is_live_fan": True})
        self.assertEqual((self.fan.fan_lifecycle_stage, self.fan.name, self.fan.phone),
                         ("first_order", "小鹿 Xiaolu", "13800001111"))
        self.assertFalse(self.fan.category_id)
        self.assertEqual(self.delivery.street, "文三路**号")

    def test_hosts_and_field_controllers_tag_fans(self):
        for role in READERS:
            with self.subTest(role=role):
                fan = self.fan.with_user(self.users[role])
                fan.write({"category_id": [Command.link(self.tag.id)]})
                self.assertEqual(self.fan.category_id, self.tag)
                fan.write({"category_id": [Command.unlink(self.tag.id)]})
                self.assertFalse(self.fan.category_id)

    def test_tag_wizard_adds_and_removes_tags_as_a_host(self):
        other_fan = self._make_fan(self.channel_a, "oid-privacy-2")
        other_fan.category_id = self.other_tag
        host = self.users["host"]
        fans = (self.fan | other_fan).with_user(host)
        action = fans.action_live_tag_fans()
        wizard = self.env["live.fan.tag.wizard"].with_user(host).with_context(action["context"]).create({
            "add_category_ids": [Command.set(self.tag.ids)], "remove_category_ids": [Command.set(self.other_tag.ids)]})
        self.assertEqual(wizard.partner_ids, self.fan | other_fan)
        wizard.action_apply()
        self.assertEqual(self.fan.category_id, self.tag)
        self.assertEqual(other_fan.category_id, self.tag)

    def test_contact_creation_right_does_not_let_a_host_edit_fans(self):
        # New users get Contact Creation by default: the fans stay tag-only for them.
        host = new_test_user(self.env, login="test_host_contacts", groups=f"{GROUPS['host']},base.group_partner_manager",
                             company_id=self.company_a.id, company_ids=[Command.set(self.company_a.ids)])
        with self.assertRaises(AccessError):
            self.fan.with_user(host).write({"fan_lifecycle_stage": "vip"})
        with self.assertRaises(AccessError):
            self.delivery.with_user(host).write({"street": "Elsewhere"})
        self.fan.with_user(host).write({"category_id": [Command.link(self.tag.id)]})
        supplier = self.env["res.partner"].create({"name": "Yarn supplier"})
        supplier.with_user(host).write({"phone": "0571-1234"})  # other contacts: Odoo's rights as usual
        self.assertEqual((self.fan.fan_lifecycle_stage, supplier.phone), ("first_order", "0571-1234"))

    def test_customer_service_and_managers_edit_fans(self):
        for role, stage in (("service", "repeat"), ("manager", "vip")):
            with self.subTest(role=role):
                fan = self.fan.with_user(self.users[role])
                fan.write({"fan_lifecycle_stage": stage, "phone": f"138-{role}",
                           "category_id": [Command.link(self.tag.id)]})
                self.assertEqual((self.fan.fan_lifecycle_stage, self.fan.phone), (stage, f"138-{role}"))
                self.delivery.with_user(self.users[role]).write({"street": f"{role} street"})
                new = self.env["res.partner"].with_user(self.users[role]).create(
                    {"name": f"Fan by {role}", "is_live_fan": True, "company_id": self.company_a.id})
                self.assertTrue(new.is_live_fan)

    def test_only_managers_read_raw_payloads(self):
        relay = self.env["live.channel"].create({
            "name": "Relay A", "code": "relay-a", "platform": "generic", "company_id": self.company_a.id})
        creds = self.env["live.channel"]._webhook_credentials("relay-a")
        raw = generic_event("pay-1", "order.paid", "buyer-secret-id", order_ref="O-1",
                            address={"name": "张三", "phone": "13812345678", "street": "文三路 1 号"})
        self.env["live.event"]._store(creds, [InboxEvent.make("pay-1", "order.paid", raw)])
        event = self.env["live.event"].search([("channel_id", "=", relay.id)])
        event.write({"state": "failed", "error": "Unknown SKU"})
        for role in ("user", "host", "field_controller", "service"):
            with self.subTest(role=role):
                as_role = event.with_user(self.users[role])
                for field in ("payload", "payload_display"):
                    with self.assertRaises(AccessError):
                        as_role.read([field])
                self.assertFalse({"payload", "payload_display"} & set(as_role.fields_get()))
                self.assertEqual(as_role.read(["event_type", "state", "error"])[0]["error"], "Unknown SKU")
                self.assertNotIn("13812345678", str(as_role.web_read({"event_type": {}, "state": {}, "error": {}})))
        manager_event = event.with_user(self.users["manager"])
        self.assertEqual(manager_event.payload["fan"]["id"], "buyer-secret-id")
        self.assertIn("13812345678", manager_event.payload_display)

    def test_views_show_each_role_its_actions_and_no_payload(self):
        partner_form = self.env.ref("base.view_partner_form").id
        event_form = self.env.ref("live_commerce_crm.live_event_view_form").id
        for role, manager in (("host", False), ("field_controller", False), ("service", False), ("manager", True)):
            with self.subTest(role=role):
                user = self.users[role]
                arch = self.env["res.partner"].with_user(user).get_views([(partner_form, "form")])["views"]["form"]["arch"]
                self.assertIn("action_live_tag_fans", arch)
                self.assertIn("live_consent_ids", arch)
                self.assertEqual("action_live_forget_fan" in arch, manager)
                self.assertEqual("action_live_export_fan" in arch, manager)
                arch = self.env["live.event"].with_user(user).get_views([(event_form, "form")])["views"]["form"]["arch"]
                self.assertEqual("payload_display" in arch, manager)
                self.assertIn('name="error"', arch)

    def test_failed_events_and_rfm_segment_have_distinct_names(self):
        states = dict(self.env["live.event"]._fields["state"]._description_selection(self.env))
        layers = dict(self.env["res.partner"]._fields["fan_rfm_segment"]._description_selection(self.env))
        self.assertEqual(states["failed"], "Failed")
        self.assertEqual(self.env.ref("live_commerce_crm.menu_live_inbox_failed").name, "Failed Events")
        self.assertNotIn(states["failed"], layers.values())
        self.assertNotIn("Failed Events", layers.values())
        # In Chinese too (make test loads zh_CN): 待处理 was both.
        env_zh = self.env(context=dict(self.env.context, lang="zh_CN"))
        menu_zh = env_zh.ref("live_commerce_crm.menu_live_inbox_failed").name
        state_zh = dict(env_zh["live.event"]._fields["state"]._description_selection(env_zh))["failed"]
        layers_zh = dict(env_zh["res.partner"]._fields["fan_rfm_segment"]._description_selection(env_zh))
        self.assertNotEqual(menu_zh, "Failed Events", "translated")
        self.assertNotIn(menu_zh, layers_zh.values())
        self.assertNotIn(state_zh, layers_zh.values())
        self.assertNotEqual(layers_zh["needs_attention"], "待处理")


@tagged("post_install", "-at_install")
class TestFanConsent(LiveCommerceCase):

    def test_consent_per_channel_recorded_with_date_and_source(self):
        service = self.users["service"]
        fan = self._make_fan(self.channel_a, "oid-consent")
        sms_shop = self.env["live.channel"].create({
            "name": "Kuaishou A", "code": "kuaishou-a", "platform": "kuaishou_shop", "company_id": self.company_a.id})
        Consent = self.env["live.fan.consent"].with_user(service)
        with freeze_time("2026-11-20 10:00:00"):
            douyin = Consent.create({"partner_id": fan.id, "channel_id": self.channel_a.id, "source": "live_room",
                                     "source_note": "扣1 in the evening show"})
            Consent.create({"partner_id": fan.id, "channel_id": sms_shop.id, "state": "opted_out",
                            "source": "customer_service"})
        self.assertEqual(fan.live_consent_ids.mapped(lambda c: (c.channel_id, c.state, str(c.date), c.source)), [
            (self.channel_a, "opted_in", "2026-11-20 10:00:00", "live_room"),
            (sms_shop, "opted_out", "2026-11-20 10:00:00", "customer_service"),
        ])
        with freeze_time("2026-11-25 08:30:00"):
            douyin.write({"state": "opted_out", "source": "platform"})
        self.assertEqual((douyin.state, str(douyin.date), douyin.source), ("opted_out", "2026-11-25 08:30:00", "platform"))
        notes = fan.message_ids.filtered(lambda m: "Marketing consent on Douyin A" in (m.body or ""))
        self.assertEqual(len(notes), 2, "each answer is kept on the fan's chatter")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            Consent.create({"partner_id": fan.id, "channel_id": self.channel_a.id})
            self.env.flush_all()

    def test_hosts_read_consents_but_do_not_record_them(self):
        fan = self._make_fan(self.channel_a, "oid-consent-host")
        consent = self.env["live.fan.consent"].create({"partner_id": fan.id, "channel_id": self.channel_a.id})
        host = self.users["host"]
        self.assertEqual(consent.with_user(host).state, "opted_in")
        with self.assertRaises(AccessError):
            consent.with_user(host).write({"state": "opted_out"})
        with self.assertRaises(AccessError):
            self.env["live.fan.consent"].with_user(host).create({"partner_id": fan.id, "channel_id": self.channel_a.id})


@tagged("post_install", "-at_install")
class TestForgetAndExport(OrderCase):
    """A buyer with interactions and a completed order, invoiced, paid and posted."""

    BUYER = "buyer-forget-1"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.company
        cls.users = {role: new_test_user(cls.env, login=f"privacy_{role}", groups=group, company_id=company.id,
                                         company_ids=[Command.set(company.ids)])
                     for role, group in GROUPS.items()}

    def setUp(self):
        super().setUp()
        interactions = [
            {"id": f"{kind}-{self.BUYER}", "type": kind, "occurred_at": T0 - 60 + n, "room_id": "room-orders",
             "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": self.BUYER, "nickname": "小鹿"},
             "data": data}
            for n, (kind, data) in enumerate((("fan.entered", {}), ("comment", {"content": "想要，我的电话 13812345678"}),
                                               ("like", {"count": 5})))]
        self.push(*interactions)
        self.push(self.paid("F-1", buyer=self.BUYER))
        self.push(self.event("order.shipped", "F-1", buyer=self.BUYER, carrier="SF Express", tracking_ref="SF-F-1"))
        self.push(self.event("order.completed", "F-1", buyer=self.BUYER))
        # A push naming the buyer that failed before its fan was known (an unknown SKU).
        self.push(self.paid("F-2", buyer=self.BUYER, lines=[{"sku": "NOPE", "quantity": 1, "unit_price": 10000}]))
        self.unapplied = self.Event.search([("channel_id", "=", self.channel.id), ("state", "!=", "done")])
        self.order = self.order("F-1")
        self.fan = self.order.partner_id
        self.invoice = self.order.invoice_ids.filtered(lambda move: move.state == "posted")
        # What customer service typed, tracked in the chatter.
        self.fan.with_user(self.users["service"]).write({"email": "xiaolu@example.com", "phone": "13812345678"})
        self.env.flush_all()
        self.cr.flush()  # the chatter's tracking values, as at the end of the request

    def _raw_payloads(self):
        events = self.Event.search([("channel_id", "=", self.channel.id)])
        return events, [json.dumps(event.payload, ensure_ascii=False) for event in events if event.payload]

    def test_setup_is_a_buyer_with_interactions_and_a_posted_invoice(self):
        self.assertTrue(self.fan.is_live_fan)
        self.assertEqual(self.fan.live_identity_ids.value, self.BUYER)
        self.assertTrue(self.fan.live_comment_ids)
        self.assertTrue(self.fan.live_audience_ids)
        self.assertEqual((self.invoice.state, self.invoice.payment_state), ("posted", "paid"))
        self.assertNotEqual(self.order.partner_shipping_id, self.fan)
        self.assertTrue(any(self.BUYER in payload for payload in self._raw_payloads()[1]))
        tracked = self.env["mail.tracking.value"].search([
            ("mail_message_id.model", "=", "res.partner"), ("mail_message_id.res_id", "=", self.fan.id)])
        self.assertIn("xiaolu@example.com", tracked.mapped("new_value_char"))
        self.assertEqual(len(self.unapplied), 1)
        self.assertIn("NOPE", self.unapplied.error)
        self.assertFalse(self.unapplied.partner_id, "not linked to its fan: found by the identity in its payload")

    def test_export_contains_profile_identities_interactions_and_orders(self):
        manager = self.users["manager"]
        action = self.fan.with_user(manager).action_live_export_fan()
        wizard = self.env["live.fan.export.wizard"].with_user(manager).with_context(action["context"]).create({})
        self.assertEqual(wizard.partner_id, self.fan)
        wizard.action_export()
        self.assertEqual(wizard.filename, f"fan-{self.fan.id}-data.json")
        data = json.loads(base64.b64decode(wizard.data))
        self.assertEqual(data["profile"]["email"], "xiaolu@example.com")
        self.assertEqual(data["profile"]["phone"], "13812345678")
        self.assertEqual([(i["platform"], i["type"], i["value"], i["nickname"]) for i in data["identities"]],
                         [(self.fan.live_identity_ids.platform, "open_id", self.BUYER,
                           self.fan.live_identity_ids.nickname)])
        self.assertTrue(data["identities"][0]["nickname"])
        self.assertEqual([c["content"] for c in data["comments"]], ["想要，我的电话 13812345678"])
        self.assertEqual([s["session"] for s in data["sessions"]], ["Winter live"])
        self.assertEqual(data["sessions"][0]["likes"], 5)
        [order] = data["orders"]
        self.assertEqual((order["reference"], order["platform_order"], order["channel"], order["amount_total"]),
                         (self.order.name, "F-1", "Relay Shop", self.order.amount_total))
        self.assertEqual(order["delivery_address"]["street"], "文三路**号")
        self.assertIn(("[T-SCARF] Scarf", 2.0), [(line["product"], line["quantity"]) for line in order["lines"]])
        self.assertEqual([(i["reference"], i["state"]) for i in order["invoices"]], [(self.invoice.name, "posted")])
        self.assertEqual([c["type"] for c in data["contacts"]], ["delivery"])
        log = self.env["live.fan.privacy.log"].search([("partner_id", "=", self.fan.id)])
        self.assertEqual((log.action, log.user_id), ("export", manager))
        self.assertTrue(self.fan.message_ids.filtered(lambda m: "Personal data exported by" in (m.body or "")))

    def test_forget_anonymizes_the_person_and_keeps_orders_and_accounting(self):
        order, invoice, fan = self.order, self.invoice, self.fan
        delivery = order.partner_shipping_id
        kept = (order.state, order.amount_total, order.platform_order_ref, invoice.name, invoice.state,
                invoice.payment_state, invoice.amount_total, invoice.line_ids.mapped(lambda l: (l.debit, l.credit)),
                order.picking_ids.mapped("state"))
        stats = fan.live_fan_stats_ids.mapped(lambda s: (s.comment_count, s.like_count))
        manager = self.users["manager"]
        action = fan.with_user(manager).action_live_forget_fan()
        wizard = self.env["live.fan.forget.wizard"].with_user(manager).with_context(action["context"]).create({})
        with self.assertRaises(UserError):
            wizard.action_forget()  # not confirmed
        wizard.confirm = True
        wizard.action_forget()
        self.env.invalidate_all()

        # The books: the same order, deliveries and posted, paid invoice, on the same (anonymized) contact.
        self.assertEqual((order.state, order.amount_total, order.platform_order_ref, invoice.name, invoice.state,
                          invoice.payment_state, invoice.amount_total,
                          invoice.line_ids.mapped(lambda l: (l.debit, l.credit)), order.picking_ids.mapped("state")),
                         kept)
        self.assertEqual((order.partner_id, invoice.partner_id, order.partner_shipping_id), (fan, fan, delivery))
        self.assertEqual(fan.live_fan_stats_ids.mapped(lambda s: (s.comment_count, s.like_count)), stats)
        # The person: gone.
        self.assertEqual(fan.name, f"Forgotten fan {fan.id}")
        self.assertTrue(fan.fan_forgotten_at)
        self.assertFalse(fan.email or fan.phone or fan.street or fan.city)
        self.assertEqual(delivery.name, f"Forgotten contact {delivery.id}")
        self.assertFalse(delivery.phone or delivery.street or delivery.street2 or delivery.city or delivery.zip)
        self.assertEqual(invoice.invoice_partner_display_name, fan.display_name)
        identity = fan.live_identity_ids
        self.assertEqual((identity.value, identity.nickname, identity.avatar_url),
                         (f"forgotten-{identity.id}", False, False))
        self.assertEqual(fan.live_comment_ids.mapped("content"), [False])
        events, payloads = self._raw_payloads()
        self.assertFalse([payload for payload in payloads if self.BUYER in payload or "小鹿" in payload
                          or "文三路" in payload])
        self.assertEqual(self.unapplied.mapped(lambda e: (e.state, e.payload_purged)), [("ignored", True)],
                         "the push that failed on an unknown SKU: nothing left to apply")
        tracked = self.env["mail.tracking.value"].search([
            ("mail_message_id.model", "=", "res.partner"), ("mail_message_id.res_id", "=", fan.id)])
        self.assertFalse([v for v in tracked if "xiaolu" in f"{v.old_value_char}{v.new_value_char}"
                          or "13812345678" in f"{v.old_value_char}{v.new_value_char}"])
        # Logged, once, on the log and the fan's chatter.
        log = self.env["live.fan.privacy.log"].search([("partner_id", "=", fan.id)])
        self.assertEqual((log.action, log.user_id), ("forget", manager))
        self.assertTrue(fan.message_ids.filtered(lambda m: "Personal data erased by" in (m.body or "")))
        # A new push from the same platform id is a new, unknown person.
        self.push({"id": "after-forget", "type": "like", "occurred_at": T0 + 3600, "room_id": "room-orders",
                   "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": self.BUYER}, "data": {"count": 1}})
        newcomer = self.env["live.fan.identity"].search([("value", "=", self.BUYER)]).partner_id
        self.assertTrue(newcomer)
        self.assertNotEqual(newcomer, fan)

    def test_customer_service_and_hosts_cannot_export_or_forget(self):
        for role in ("service", "host", "field_controller", "user"):
            user = self.users[role]
            fan = self.fan.with_user(user)
            with self.subTest(role=role):
                for call in (fan._live_export_data, fan._live_export_file, fan._live_forget,
                             fan.action_live_export_fan, fan.action_live_forget_fan):
                    with self.assertRaises(AccessError):
                        call()
                for model, vals in (("live.fan.export.wizard", {"partner_id": self.fan.id}),
                                    ("live.fan.forget.wizard", {"partner_ids": [Command.set(self.fan.ids)]})):
                    with self.assertRaises(AccessError):
                        self.env[model].with_user(user).create(vals)
                with self.assertRaises(AccessError):
                    self.env["live.fan.privacy.log"].with_user(user).search([])
        self.assertEqual(self.fan.live_identity_ids.value, self.BUYER)
        self.assertFalse(self.env["live.fan.privacy.log"].search([("partner_id", "=", self.fan.id)]))

    def test_only_fans_are_forgotten(self):
        supplier = self.env["res.partner"].create({"name": "Yarn supplier"})
        with self.assertRaises(UserError):
            supplier.with_user(self.users["manager"])._live_forget()
        self.assertEqual(supplier.name, "Yarn supplier")
