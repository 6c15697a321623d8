"""What each person sees of live orders, and one set of numbers for orders and GMV
everywhere."""
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .order_common import OrderCase


@tagged("post_install", "-at_install")
class TestOrderAccess(OrderCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()

        def user(login, group):
            return new_test_user(cls.env, login=login, groups=f"live_commerce_crm.{group}",
                                 company_id=cls.company.id, company_ids=[cls.company.id])

        cls.host = user("orders_host", "group_live_host")
        cls.other_host = user("orders_other_host", "group_live_host")
        cls.controller = user("orders_controller", "group_live_field_controller")
        cls.service = user("orders_service", "group_live_service")
        cls.plain = user("orders_user", "group_live_user")
        cls.session.write({"host_id": cls.host.id, "field_controller_id": cls.controller.id})
        other = cls.env["live.channel"].create({"name": "Other", "code": "relay-other", "platform": "generic"})
        cls.env["live.session"].create({"name": "Other live", "channel_id": other.id, "room_id": "other-room",
                                        "host_id": cls.other_host.id,
                                        "date_scheduled_start": "2026-11-18 10:00:00"})

    def setUp(self):
        super().setUp()
        self.push(self.paid("V-1"), self.paid("V-2"), self.paid("V-3", event_type="order.created"))
        self.orders = self.order("V-1") | self.order("V-2") | self.order("V-3")

    def test_hosts_and_field_controllers_read_their_channels_orders_only(self):
        self.assertEqual(self.orders.user_id, self.host, "the host sells: she is the salesperson")
        for user in (self.host, self.controller):
            SaleOrder = self.env["sale.order"].with_user(user)
            self.assertEqual(SaleOrder.search([("id", "in", self.orders.ids)]), self.orders)
            self.orders.with_user(user).order_line.read(["price_unit"])
        with self.assertRaises(AccessError):
            self.orders[:1].with_user(self.controller).write({"note": "not mine"})
        self.orders.user_id = self.other_host
        self.env.invalidate_all()
        self.assertEqual(self.env["sale.order"].with_user(self.host).search([("id", "in", self.orders.ids)]),
                         self.orders, "her channel's orders, whoever sold them")
        self.orders.user_id = self.host
        self.assertFalse(self.env["sale.order"].with_user(self.other_host).search([("id", "in", self.orders.ids)]))

    def test_hosts_and_field_controllers_read_the_orders_a_relay_brings_to_their_sessions(self):
        """A middleware relays the shop's orders, as in the demo: the orders are on the
        relay's channel, the sessions on the shop's channel it attaches them to."""
        shop = self.env["live.channel"].create({"name": "Shop", "code": "relay-shop", "platform": "generic"})
        self.session.channel_id = shop
        self.channel.session_channel_id = shop
        self.push(self.paid("V-4"))
        orders = self.orders | self.order("V-4")
        self.assertEqual(self.order("V-4").live_session_id, self.session)
        orders.user_id = self.other_host
        self.env.invalidate_all()
        for user in (self.host, self.controller):
            self.assertEqual(self.env["sale.order"].with_user(user).search([("id", "in", orders.ids)]), orders,
                             "the orders of the sessions they run, whoever sold them")
            orders.with_user(user).order_line.read(["price_unit"])
        with self.assertRaises(AccessError):
            orders[:1].with_user(self.controller).write({"note": "not mine"})
        self.assertFalse(self.env["sale.order"].with_user(self.plain).search([("id", "in", orders.ids)]))

    def test_customer_service_reads_every_live_order_and_a_plain_user_none(self):
        self.assertEqual(self.env["sale.order"].with_user(self.service).search([("id", "in", self.orders.ids)]),
                         self.orders)
        self.assertFalse(self.env["sale.order"].with_user(self.plain).search([("id", "in", self.orders.ids)]))
        self.assertFalse(self.service.has_group("sales_team.group_sale_manager"), "no Sales Manager rights for it")

    def test_one_count_and_one_gmv_on_the_card_the_button_and_the_list(self):
        session = self.session.with_user(self.host)
        self.assertEqual(session.order_count, 2, "the quotation is not an order yet")
        self.assertEqual(session.gmv, 2 * 727.0)
        action = session.action_view_orders()
        domain = action["domain"] + ["|", ("platform_paid_at", "!=", False), ("state", "=", "sale")]  # default filter
        self.assertEqual(action["context"].get("search_default_live_paid"), 1)
        listed = self.env["sale.order"].with_user(self.host).search(domain)
        self.assertEqual(len(listed), session.order_count)
        self.assertEqual(sum(listed.mapped("live_gmv")), session.gmv, "the list's GMV column adds up the same")
        grouped = self.env["sale.order"].with_user(self.host)._read_group(
            domain, ["live_session_id"], ["__count", "live_gmv:sum"])
        self.assertEqual(grouped[0][1:], (session.order_count, session.gmv), "and so do the reports")
        # A refund before shipping changes the order's lines, not what was paid.
        self.push(self.event("refund.succeeded", "V-1", refund_ref="NV-1", amount=9900,
                             lines=[{"sku": "T-CUP", "quantity": 1}]))
        session.invalidate_recordset()
        self.assertEqual((session.order_count, session.gmv), (2, 2 * 727.0))
        self.assertEqual(session.refund_amount, 99.0)
        self.assertEqual(session.net_gmv, 2 * 727.0 - 99.0)
        buyer = self.order("V-1").partner_id
        self.assertEqual(buyer.with_user(self.service).live_order_count, 2)
