"""Live orders in the generic format, through the inbox and the processor, into
sale orders, stock, manufacturing and accounting."""
import importlib.util

from odoo.tests import tagged
from odoo.tools.misc import file_path

from ..models.platforms.base import InboxEvent
from .order_common import T0, OrderCase


@tagged("post_install", "-at_install")
class TestOrderImport(OrderCase):

    def test_paid_order_becomes_a_confirmed_sale_order_with_reserved_stock(self):
        self.push(self.paid("A-1"))
        order = self.order("A-1")
        self.assertEqual((order.state, order.platform_status), ("sale", "paid"))
        self.assertEqual(order.live_session_id, self.session)
        self.assertEqual(order.live_host_id, self.env.ref("base.user_admin"))
        self.assertEqual(order.source_id, self.channel.source_id)
        self.assertEqual(order.partner_id.live_identity_ids.value, "buyer-1", "the buyer is a fan")
        shipping = order.partner_shipping_id
        self.assertEqual((shipping.type, shipping.parent_id), ("delivery", order.partner_id))
        self.assertEqual((shipping.name, shipping.phone, shipping.street), ("张*", "138****5678", "文三路**号"),
                         "masked data is stored as received")
        goods = order.order_line.filtered(lambda line: line.product_id in (self.scarf | self.cup))
        self.assertEqual(sorted((l.product_id.default_code, l.product_uom_qty, l.price_unit) for l in goods),
                         [("T-CUP", 1, 99.0), ("T-SCARF", 2, 319.0)])
        self.assertIn("Cashmere scarf", goods.filtered(lambda l: l.product_id == self.scarf).name)
        discount = order.order_line.filtered(lambda l: l.product_id == self.env.ref("live_commerce_crm.product_live_discount"))
        shipping_fee = order.order_line.filtered(lambda l: l.product_id == self.env.ref("live_commerce_crm.product_live_shipping"))
        self.assertEqual((discount.price_unit, shipping_fee.price_unit), (-20.0, 10.0))
        # What the merchant is owed for the goods: what the buyer paid plus the platform's discount.
        self.assertEqual(order.platform_paid_amount, 697.0)
        self.assertEqual(order.platform_discount_amount, 30.0)
        self.assertEqual(order.amount_total, 727.0)
        self.assertEqual(order.live_amount_difference, 0.0)
        delivery = self.outgoing(order)
        self.assertEqual(delivery.state, "assigned", "stock reserved from the channel's warehouse")
        self.assertEqual(delivery.picking_type_id.warehouse_id, self.warehouse)
        self.assertFalse(order.live_stock_short)
        event = self.events_of("A-1")
        self.assertEqual((event.state, event.order_ref, event.partner_id), ("done", "A-1", order.partner_id))

    def test_events_twice_or_out_of_order_converge_on_one_order(self):
        self.push(self.paid("B-1", event_type="order.created"))
        order = self.order("B-1")
        self.assertEqual((order.state, order.platform_status), ("draft", "created"))
        self.push(self.paid("B-1"))
        self.push(self.paid("B-1"))  # paid twice (another message)
        self.push(self.paid("B-1", event_type="order.created"))  # a late creation
        self.assertEqual(len(self.order("B-1")), 1)
        self.assertEqual((order.state, order.platform_status), ("sale", "paid"))
        self.assertEqual(len(self.outgoing(order)), 1)
        self.assertEqual(self.outgoing(order).move_ids.mapped("product_uom_qty"), [2.0, 1.0])

    def test_shipped_before_paid_converges(self):
        self.push(self.event("order.shipped", "C-1", carrier="SF Express", tracking_ref="SF100"))
        shipped = self.events_of("C-1")
        self.assertEqual((shipped.state, shipped.attempts), ("pending", 1))
        self.assertIn("not known yet", shipped.error)
        self.push(self.paid("C-1"))
        self.retry_now()
        order = self.order("C-1")
        self.assertEqual(order.platform_status, "shipped")
        delivery = self.outgoing(order, "done")
        self.assertEqual((delivery.carrier_tracking_ref, delivery.carrier_id.name), ("SF100", "SF Express"))
        self.assertEqual(set(self.events_of("C-1").mapped("state")), {"done"})

    def test_partial_shipments_carry_their_lines_and_are_not_shipped_twice(self):
        self.push(self.paid("D-1"))
        order = self.order("D-1")
        self.push(self.event("order.shipped", "D-1", carrier="ZTO", tracking_ref="ZTO-1",
                             lines=[{"sku": "T-SCARF", "quantity": 1}]))
        first = self.outgoing(order, "done")
        self.assertEqual(first.carrier_tracking_ref, "ZTO-1")
        self.assertEqual([(m.product_id, m.quantity) for m in first.move_ids], [(self.scarf, 1.0)])
        rest = self.outgoing(order, "assigned")
        self.assertEqual(sorted(rest.move_ids.mapped("product_uom_qty")), [1.0, 1.0], "the rest is still reserved")
        self.push(self.event("order.shipped", "D-1", carrier="ZTO", tracking_ref="ZTO-1",
                             lines=[{"sku": "T-SCARF", "quantity": 1}], event_id="redelivered-parcel"))
        self.assertEqual(len(self.outgoing(order, "done")), 1, "the same parcel again ships nothing")
        self.push(self.event("order.shipped", "D-1", carrier="ZTO", tracking_ref="ZTO-2"))
        self.assertEqual(sorted(self.outgoing(order, "done").mapped("carrier_tracking_ref")), ["ZTO-1", "ZTO-2"])
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.scarf).qty_delivered, 2)

    def test_delivery_validated_in_odoo_is_matched_not_shipped_twice(self):
        self.push(self.paid("E-1"))
        order = self.order("E-1")
        delivery = self.outgoing(order)
        delivery.button_validate()
        self.assertEqual(delivery.state, "done")
        self.push(self.event("order.shipped", "E-1", carrier="YTO", tracking_ref="YT-9"))
        self.assertEqual(self.outgoing(order), delivery)
        self.assertEqual(delivery.carrier_tracking_ref, "YT-9")
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.scarf).qty_delivered, 2)

    def test_short_order_is_confirmed_flagged_and_ships_only_once_reserved(self):
        self.push(self.paid("F-1", lines=[{"sku": "T-SCARF", "quantity": 15, "unit_price": 31900}]))
        order = self.order("F-1")
        self.assertEqual(order.state, "sale", "sold on the platform: confirmed even when short")
        self.assertTrue(order.live_stock_short)
        self.assertTrue(order.live_attention)
        self.assertIn(order, self.env["sale.order"].search([("live_attention", "=", True)]))
        self.push(self.event("order.shipped", "F-1", tracking_ref="SHORT-1"))
        shipped = self.events_of("F-1").filtered(lambda e: e.event_type == "order.shipped")
        self.assertEqual(shipped.state, "pending")
        self.assertIn("Scarf: 15 (10 ready)", shipped.error, "nothing ships that was not reserved")
        self.assertFalse(self.outgoing(order, "done"))
        self.stock(self.scarf, 5)
        self.outgoing(order).action_assign()
        self.assertFalse(order.live_stock_short)
        self.retry_now()
        self.assertEqual(self.outgoing(order, "done").carrier_tracking_ref, "SHORT-1")

    def test_made_to_order_goods_start_a_manufacturing_order(self):
        mug = self.made_to_order()
        self.push(self.paid("G-1", lines=[{"sku": "T-MUG", "quantity": 3, "unit_price": 5900}]))
        order = self.order("G-1")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.mrp_production_ids.product_id, mug)
        self.assertEqual(order.mrp_production_ids.product_qty, 3)
        self.push(self.event("order.shipped", "G-1", tracking_ref="MUG-1"))
        self.assertIn("Custom Mug", self.events_of("G-1").filtered(lambda e: e.event_type == "order.shipped").error,
                      "not produced yet: nothing ships")

    def test_cancelled_before_payment_cancels_the_quotation(self):
        self.push(self.paid("H-1", event_type="order.created"))
        self.push(self.event("order.cancelled", "H-1", reason="buyer changed their mind"))
        order = self.order("H-1")
        self.assertEqual((order.state, order.platform_status), ("cancel", "cancelled"))

    def test_unknown_sku_fails_with_the_sku_named_and_rerun_after_mapping_creates_the_order(self):
        self.push(self.paid("I-1", lines=[{"sku": "9001234", "quantity": 1, "unit_price": 31900}]))
        event = self.events_of("I-1")
        for _attempt in range(2):
            self.retry_now()
        self.assertEqual(event.state, "failed")
        self.assertIn("Unknown SKU 9001234", event.error)
        self.assertFalse(self.order("I-1"))
        self.env["live.channel.sku"].create({"channel_id": self.channel.id, "platform_sku": "9001234",
                                             "product_id": self.scarf.id})
        event.action_rerun()
        self.assertEqual(event.state, "done")
        self.assertEqual(self.order("I-1").order_line.product_id[:1], self.scarf)

    def test_an_amount_that_does_not_add_up_is_flagged_not_adjusted(self):
        self.push(self.paid("J-1", total=70000))  # the lines make 697.00
        order = self.order("J-1")
        self.assertEqual(order.amount_total, 727.0, "the lines are what the platform sold")
        self.assertEqual(order.live_amount_difference, 3.0)
        self.assertTrue(order.live_attention)

    def test_a_bad_order_event_fails_with_a_reason_a_user_can_act_on(self):
        self.push(self.paid("K-1", lines=[{"sku": "T-SCARF", "quantity": 1, "unit_price": "319.00"}], total=31900))
        event = self.events_of("K-1")
        self.assertEqual(event.state, "pending")
        self.assertIn("data.lines[0].unit_price: '319.00' is not of type 'integer'", event.error)
        self.push(self.event("refund.succeeded", "K-2", refund_ref="R-1"))
        self.assertIn("'amount' is a required property", self.events_of("K-2").error)

    def test_the_session_live_at_payment_gets_orders_without_a_room(self):
        self.push(self.paid("L-1", room_id=None, paid_at=T0 + 60))
        self.assertEqual(self.order("L-1").live_session_id, self.session)

    def test_order_events_waiting_before_the_upgrade_are_processed(self):
        # Before 18.0.1.1.0 order events waited in the inbox ('waiting') for an order
        # import that did not exist yet.
        event = self.paid("M-1")
        self.Event._store(self.creds, [InboxEvent.make(event["id"], event["type"], event, event["room_id"], T0)])
        self.env.cr.execute("UPDATE live_event SET state = 'waiting' WHERE message_id = %s", [event["id"]])
        path = file_path("live_commerce_crm/migrations/18.0.1.1.0/post-migrate.py")
        spec = importlib.util.spec_from_file_location("live_commerce_crm_post_migrate_18_0_1_1_0", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "18.0.1.0.0")
        self.process()
        self.assertEqual(self.order("M-1").state, "sale")

    def test_an_order_cancelled_before_payment_is_not_a_paid_order(self):
        self.push(self.paid("N-1", event_type="order.created"))
        self.push(self.event("order.cancelled", "N-1"))
        order = self.order("N-1")
        self.assertFalse(order.platform_paid_at)
        self.assertNotIn(order, self.env["sale.order"].search(self.env["sale.order"]._live_paid_domain()))
        self.push(self.paid("N-2"))
        self.push(self.event("refund.succeeded", "N-2", refund_ref="N-2-R", amount=69700))
        paid_then_refunded = self.order("N-2")
        self.assertEqual(paid_then_refunded.state, "cancel")
        self.assertIn(paid_then_refunded, self.env["sale.order"].search(self.env["sale.order"]._live_paid_domain()),
                      "paid, then refunded: counted in GMV and in refunds")
