import json
from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..models.live_session_workbench import BUS_NOTIFICATION, workbench_channel
from ..models.platforms import Credentials
from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase, TourCase, generic_event

T0 = datetime(2026, 11, 20, 12, 0, 0)


class WorkbenchCase(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.scarf = cls.env["product.product"].create({"name": "Scarf", "list_price": 100.0})
        cls.gloves = cls.env["product.product"].create({"name": "Gloves", "list_price": 50.0})
        cls.session = cls._make_session(
            cls.channel_a, state="live", date_start=T0, host_id=cls.users["host"].id,
            product_line_ids=[(0, 0, {"product_id": cls.scarf.id}), (0, 0, {"product_id": cls.gloves.id})])
        cls.scarf_line, cls.gloves_line = cls.session.product_line_ids
        cls.buyer = cls._make_fan(cls.channel_a, "buyer-1", "Buyer One")

    def _paid_order(self, when, amount, ref):
        return self.env["sale.order"].create({
            "partner_id": self.buyer.id, "company_id": self.company_a.id, "live_channel_id": self.channel_a.id,
            "live_session_id": self.session.id, "platform_order_ref": ref, "date_order": when,
            "platform_paid_at": when,
            "order_line": [(0, 0, {"product_id": self.gloves.id, "product_uom_qty": 1, "price_unit": amount,
                                   "tax_id": False})],
        })

    def _period(self, line, start, end):
        return self.env["live.session.presentation"].create({
            "session_id": self.session.id, "session_product_id": line.id, "date_start": start, "date_end": end})


@tagged("post_install", "-at_install")
class TestPresentation(WorkbenchCase):

    def test_orders_during_a_presentation_count_for_it_and_outside_not(self):
        self._period(self.scarf_line, T0 + timedelta(minutes=10), T0 + timedelta(minutes=20))
        self._period(self.gloves_line, T0 + timedelta(minutes=20), T0 + timedelta(minutes=30))
        self._paid_order(T0 + timedelta(minutes=5), 11.0, "BEFORE")          # before any presentation
        self._paid_order(T0 + timedelta(minutes=10), 20.0, "SCARF-START")    # the period's first second
        self._paid_order(T0 + timedelta(minutes=19), 30.0, "SCARF-END")
        self._paid_order(T0 + timedelta(minutes=20), 40.0, "GLOVES-START")   # the next period's first second
        self._paid_order(T0 + timedelta(minutes=45), 50.0, "AFTER")
        self.session.product_line_ids.invalidate_recordset()
        self.assertEqual((self.scarf_line.presentation_order_count, self.scarf_line.presentation_gmv), (2, 50.0))
        self.assertEqual((self.gloves_line.presentation_order_count, self.gloves_line.presentation_gmv), (1, 40.0))
        self.assertAlmostEqual(self.scarf_line.presentation_minutes, 10.0)

    def test_unpaid_orders_do_not_count(self):
        self._period(self.scarf_line, T0, T0 + timedelta(minutes=10))
        order = self._paid_order(T0 + timedelta(minutes=1), 20.0, "UNPAID")
        order.platform_paid_at = False
        self.scarf_line.invalidate_recordset()
        self.assertEqual(self.scarf_line.presentation_order_count, 0)

    def test_present_now_closes_the_open_period_and_opens_one(self):
        host_line = self.scarf_line.with_user(self.users["host"])
        host_line.action_present_now()
        self.assertTrue(self.scarf_line.is_presenting)
        self.gloves_line.with_user(self.users["field_controller"]).action_present_now()
        periods = self.env["live.session.presentation"].search([("session_id", "=", self.session.id)],
                                                             order="id")
        self.assertEqual(periods.session_product_id, self.scarf_line | self.gloves_line)
        self.assertTrue(periods[0].date_end, "the scarf's period is closed")
        self.assertFalse(periods[1].date_end, "the gloves' period is open")
        self.assertEqual(periods.user_id, self.users["host"] | self.users["field_controller"])
        self.session.product_line_ids.invalidate_recordset()
        self.assertEqual(self.session.product_line_ids.mapped("is_presenting"), [False, True])
        self.session.action_end()
        self.assertTrue(periods[1].date_end, "ending the session ends its presentation")

    def test_stop_presenting_ends_the_period_and_later_orders_are_not_its(self):
        Session = self.env["live.session"].with_user(self.users["host"])
        Session.workbench_present(self.session.id, self.scarf_line.id)
        period = self.env["live.session.presentation"].search([("session_product_id", "=", self.scarf_line.id)])
        Session.workbench_stop_presenting(self.session.id, self.scarf_line.id)
        self.assertTrue(period.date_end)
        self.assertFalse(self.env["live.session.presentation"].search(
            [("session_id", "=", self.session.id), ("date_end", "=", False)]))
        self._paid_order(period.date_end + timedelta(minutes=1), 30.0, "AFTER-STOP")
        self.session.product_line_ids.invalidate_recordset()
        self.assertFalse(self.scarf_line.is_presenting)
        self.assertEqual(self.scarf_line.presentation_order_count, 0)
        with self.assertRaises(AccessError):
            self.env["live.session"].with_user(self.users["service"]).workbench_stop_presenting(
                self.session.id, self.scarf_line.id)

    def test_service_cannot_mark_a_product_presented(self):
        with self.assertRaises(AccessError):
            self.scarf_line.with_user(self.users["service"]).action_present_now()


@tagged("post_install", "-at_install")
class TestWorkbenchData(WorkbenchCase):

    def _comment(self, partner, content):
        return self.env["live.comment"].create({
            "session_id": self.session.id, "partner_id": partner.id, "channel_id": self.channel_a.id,
            "company_id": self.company_a.id, "content": content, "occurred_at": T0})

    def test_workbench_data_reads_tiles_comments_and_products_in_one_call(self):
        first = self._comment(self.buyer, "link please")
        second = self._comment(self.buyer, "how much")
        self.buyer.fan_lifecycle_stage = "vip"
        self._paid_order(T0 + timedelta(minutes=1), 70.0, "P1").action_confirm()
        data = self.env["live.session"].with_user(self.users["host"]).workbench_data(self.session.id)
        tiles = {tile["key"]: tile for tile in data["tiles"]}
        self.assertEqual(list(tiles), [name for name, _denominator in self.env["live.session"]._workbench_tile_fields()])
        self.assertEqual((tiles["gmv"]["value"], tiles["order_count"]["value"]), (70.0, 1))
        self.assertTrue(all(tile["label"] and "denominator" in tile for tile in data["tiles"]))
        self.assertEqual([c["id"] for c in data["comments"]], [second.id, first.id], "newest first")
        self.assertEqual(data["comments"][0]["badges"][0]["key"], "vip")
        self.assertIn("keywords", data)
        gloves = next(p for p in data["products"] if p["id"] == self.gloves_line.id)
        self.assertEqual((gloves["quantity_sold"], gloves["gmv"]), (1.0, 70.0))
        self.assertTrue(data["can_operate"])
        # Incremental: only what came after the last comment seen, and no choices again.
        third = self._comment(self.buyer, "size?")
        later = self.env["live.session"].with_user(self.users["host"]).workbench_data(self.session.id, second.id)
        self.assertEqual([c["id"] for c in later["comments"]], [third.id])
        self.assertNotIn("tags", later)

    def test_service_reads_the_workbench_but_does_not_act_on_the_stream(self):
        self._comment(self.buyer, "link please")
        Session = self.env["live.session"].with_user(self.users["service"])
        data = Session.workbench_data(self.session.id)
        self.assertEqual(len(data["comments"]), 1)
        self.assertFalse(data["can_operate"])
        program = self.env.ref("live_commerce_crm.loyalty_program_comeback")
        with self.assertRaises(AccessError):
            Session.workbench_present(self.session.id, self.scarf_line.id)
        with self.assertRaises(AccessError):
            Session.workbench_send_coupon(self.session.id, self.buyer.id, program.id)
        with self.assertRaises(AccessError):
            Session.workbench_assign_fan(self.session.id, self.buyer.id)

    def test_another_company_cannot_read_the_session(self):
        with self.assertRaises(AccessError):
            self.env["live.session"].with_user(self.user_b).workbench_data(self.session.id)

    def test_host_tags_assigns_and_gives_a_coupon(self):
        tag = self.env["res.partner.category"].create({"name": "Hot Lead"})
        Session = self.env["live.session"].with_user(self.users["host"])
        result = Session.workbench_tag_fan(self.session.id, self.buyer.id, tag.id)
        self.assertIn(tag, self.buyer.category_id)
        self.assertIn("Hot Lead", result["tags"])
        result = Session.workbench_assign_fan(self.session.id, self.buyer.id)
        activity = self.buyer.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("live_commerce_crm.mail_activity_type_live_followup"))
        self.assertEqual(activity.user_id, self.users["service"], "a service user, not the manager")
        self.assertFalse(result["existing"])
        self.assertTrue(Session.workbench_assign_fan(self.session.id, self.buyer.id)["existing"])
        program = self.env.ref("live_commerce_crm.loyalty_program_comeback")
        program.company_id = False
        coupon = Session.workbench_send_coupon(self.session.id, self.buyer.id, program.id)
        card = self.env["loyalty.card"].search([("code", "=", coupon["code"])])
        self.assertEqual((card.partner_id, card.program_id), (self.buyer, program))
        queue = self.env["res.partner"].with_user(self.users["service"]).live_service_workbench_data()["queue"]
        self.assertIn(self.buyer.id, [item["partner_id"] for item in queue])

    def test_workbench_present_refuses_another_sessions_product(self):
        other = self._make_session(self.channel_a, "Other", state="live",
                                   product_line_ids=[(0, 0, {"product_id": self.scarf.id})])
        with self.assertRaises(UserError):
            self.env["live.session"].with_user(self.users["host"]).workbench_present(
                self.session.id, other.product_line_ids.id)

    def test_host_cannot_open_the_service_workbench(self):
        with self.assertRaises(AccessError):
            self.env["res.partner"].with_user(self.users["host"]).live_service_workbench_data()


@tagged("post_install", "-at_install")
class TestWorkbenchBus(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Relay", "code": "relay-wb", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, "relay-wb", "generic", cls.channel.company_id.id, app_secret="s")

    def _receive(self, *events):
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        return self.env["live.event"]._store(self.creds, inbox)

    def _notifications(self, session):
        # bus.bus rows are written when the transaction is about to commit.
        self.env.cr.precommit.run()
        channel = json.dumps([self.env.cr.dbname, "live.session", session.id], separators=(",", ":"))
        rows = self.env["bus.bus"].sudo().search([("channel", "=", channel)])
        return [json.loads(row.message) for row in rows]

    def test_workbench_subscribes_only_to_sessions_its_user_reads(self):
        session_a = self._make_session(self.channel_a)
        session_b = self._make_session(self.channel_b)
        asked = [workbench_channel(session_a.id), workbench_channel(session_b.id)]
        channels = self.env["ir.websocket"].with_user(self.users["host"])._live_session_channels(asked)
        self.assertIn(session_a, channels)
        self.assertNotIn(session_b, channels)
        self.assertFalse(set(asked) & {c for c in channels if isinstance(c, str)})

    def test_one_bus_notification_per_session_per_batch(self):
        self._receive(
            generic_event("b1", "comment", "f1", room_id="room-1", content="hi"),
            generic_event("b2", "like", "f1", room_id="room-1", count=3),
            generic_event("b3", "comment", "f2", room_id="room-1", content="price?"),
            generic_event("b4", "comment", "f3", room_id="room-2", content="hello"),
        )
        self.assertEqual(self.env["live.event"]._process_batch(), 4)
        sessions = self.env["live.session"].search([("channel_id", "=", self.channel.id)], order="room_id")
        self.assertEqual(sessions.mapped("room_id"), ["room-1", "room-2"])
        for session in sessions:
            self.assertEqual(self._notifications(session),
                             [{"type": BUS_NOTIFICATION, "payload": {"session_id": session.id}}], session.room_id)
        # The next batch is another notification for the session it touches only.
        self._receive(generic_event("b5", "comment", "f1", room_id="room-1", content="again"))
        self.env["live.event"]._process_batch()
        self.assertEqual([len(self._notifications(session)) for session in sessions], [2, 1])


@tagged("post_install", "-at_install")
class TestWorkbenchTour(TourCase):

    def test_host_presents_a_product_and_tags_a_fan_from_the_stream(self):
        channel = self.env["live.channel"].create({"name": "Tour Channel", "code": "tour-wb"})
        product = self.env["product.product"].create({"name": "Tour Cashmere Scarf", "list_price": 299.0})
        host = new_test_user(self.env, login="tour_wb_host", groups="live_commerce_crm.group_live_host",
                             lang="en_US")
        session = self.env["live.session"].create({
            "name": "Tour Workbench Night", "channel_id": channel.id, "room_id": "tour-wb-1",
            "host_id": host.id, "state": "live", "date_start": "2026-11-20 12:00:00",
            "product_line_ids": [(0, 0, {"product_id": product.id, "live_price": 199.0})],
        })
        fan = self.env["res.partner"].create({
            "name": "Tour Fan Xiaolu",
            "live_identity_ids": [(0, 0, {"channel_id": channel.id, "value": "tour_wb_fan"})]})
        tag = self.env["res.partner.category"].create({"name": "Tour Hot Lead"})
        rule = self.env["live.fan.tag.rule"].create({
            "name": "Tour Intent", "tag_id": tag.id, "kind": "comment_keywords",
            "keyword_ids": [(0, 0, {"keyword": "链接"})]})
        self.assertTrue(rule)
        self.env["live.comment"].create({
            "session_id": session.id, "partner_id": fan.id, "channel_id": channel.id,
            "company_id": channel.company_id.id, "content": "主播发一下链接", "occurred_at": "2026-11-20 12:05:00"})
        self.start_tour("/odoo", "live_commerce_crm_workbench_host_tour", login="tour_wb_host")
        self.assertIn(tag, fan.category_id)
        presentation = self.env["live.session.presentation"].search([("session_id", "=", session.id)])
        self.assertEqual((presentation.product_id, presentation.user_id), (product, host))
        self.assertFalse(presentation.date_end)

    def test_service_opens_a_fan_from_the_queue(self):
        channel = self.env["live.channel"].create({"name": "Tour Channel", "code": "tour-wb-service"})
        service = new_test_user(self.env, login="tour_wb_service", groups="live_commerce_crm.group_live_service",
                                lang="en_US")
        fan = self.env["res.partner"].create({
            "name": "Tour Waiting Fan",
            "live_identity_ids": [(0, 0, {"channel_id": channel.id, "value": "tour_wb_waiting"})]})
        fan.activity_schedule("live_commerce_crm.mail_activity_type_live_followup", user_id=service.id,
                              summary="Follow up from live session Tour Night")
        self.start_tour("/odoo", "live_commerce_crm_workbench_service_tour", login="tour_wb_service")
