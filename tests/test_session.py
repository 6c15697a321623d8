from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import LiveCommerceCase


@tagged("post_install", "-at_install")
class TestSession(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "Thermos", "list_price": 120.0})
        cls.buyer = cls._make_fan(cls.channel_a, "oid-buyer")

    def test_lifecycle_scheduled_live_ended_reviewed(self):
        session = self._make_session(self.channel_a)
        self.assertEqual(session.state, "scheduled")
        with self.assertRaises(UserError):
            session.action_end()
        session.action_start()
        self.assertEqual(session.state, "live")
        self.assertTrue(session.date_start)
        session.action_end()
        self.assertEqual(session.state, "ended")
        self.assertGreaterEqual(session.date_end, session.date_start)
        session.action_mark_reviewed()
        self.assertEqual(session.state, "reviewed")
        session.action_reset_to_scheduled()
        self.assertEqual((session.state, session.date_start, session.date_end), ("scheduled", False, False))

    def test_schedule_end_before_start_is_refused(self):
        with self.assertRaises(ValidationError):
            self._make_session(self.channel_a, date_scheduled_end="2026-11-20 11:00:00")

    @mute_logger("odoo.sql_db")
    def test_room_id_unique_per_channel(self):
        self._make_session(self.channel_a, room_id="room-1")
        self._make_session(self.channel_b, room_id="room-1")
        with self.assertRaises(IntegrityError):
            self._make_session(self.channel_a, room_id="room-1")

    def test_utm_source_defaults_to_channel(self):
        session = self._make_session(self.channel_a)
        self.assertEqual(session.source_id, self.channel_a.source_id)
        with Form(self.env["live.session"]) as form:
            form.name = "From the form"
            form.channel_id = self.channel_a
            self.assertEqual(form.source_id, self.channel_a.source_id)

    def test_live_price_defaults_to_list_price(self):
        session = self._make_session(self.channel_a, product_line_ids=[(0, 0, {"product_id": self.product.id})])
        self.assertEqual(session.product_line_ids.live_price, 120.0)
        session.product_line_ids.live_price = 99.0
        self.assertEqual(session.product_line_ids.live_price, 99.0)

    def test_gmv_roi_and_sold_quantities_count_confirmed_orders(self):
        session = self._make_session(
            self.channel_a, ad_spend=100.0, product_line_ids=[(0, 0, {"product_id": self.product.id, "live_price": 99.0})])
        orders = self.env["sale.order"].create([{
            "partner_id": self.buyer.id, "company_id": self.company_a.id,
            "live_channel_id": self.channel_a.id, "live_session_id": session.id,
            "platform_order_ref": ref,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": qty, "price_unit": 99.0, "tax_id": False})],
        } for ref, qty in (("P1", 2), ("P2", 1))])
        orders[0].action_confirm()
        session.invalidate_recordset()
        self.assertEqual(session.order_count, 1)
        self.assertAlmostEqual(session.gmv, 198.0)
        self.assertAlmostEqual(session.roi, 1.98)
        self.assertEqual(session.product_line_ids.quantity_sold, 2)
        self.assertEqual(session.action_view_orders()["domain"], [("live_session_id", "=", session.id)])
