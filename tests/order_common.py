"""Shared setup of the order tests: a generic channel in the main company, products
with stock, one made to order, and helpers that push order events the way the
generic format carries them and run the processor."""
from itertools import count

from odoo import Command
from odoo.tests import TransactionCase

from ..models.platforms import Credentials
from ..models.platforms.base import InboxEvent

T0 = 1795000000  # 2026-11-18 11:06:40 UTC
_ids = count(1)


class OrderCase(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        # Only a platform and a secret: everything else comes from defaults.
        cls.channel = cls.env["live.channel"].create({
            "name": "Relay Shop", "code": "relay-orders", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, cls.channel.code, "generic", cls.company.id, app_secret="s")
        cls.Event = cls.env["live.event"]
        cls.warehouse = cls.channel._order_warehouse()
        Product = cls.env["product.product"]
        cls.scarf = Product.create({"name": "Scarf", "default_code": "T-SCARF", "type": "consu", "is_storable": True,
                                    "list_price": 399.0, "invoice_policy": "delivery"})
        cls.cup = Product.create({"name": "Cup", "default_code": "T-CUP", "type": "consu", "is_storable": True,
                                  "list_price": 129.0, "invoice_policy": "delivery"})
        cls.stock(cls.scarf, 10)
        cls.stock(cls.cup, 10)
        cls.session = cls.env["live.session"].create({
            "name": "Winter live", "channel_id": cls.channel.id, "room_id": "room-orders",
            "host_id": cls.env.ref("base.user_admin").id, "date_scheduled_start": "2026-11-18 10:00:00"})
        cls.session.action_start()
        cls.session.date_start = "2026-11-18 10:00:00"  # before the orders' payment (T0)

    @classmethod
    def stock(cls, product, quantity):
        cls.env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, quantity)

    @classmethod
    def made_to_order(cls, name="Custom Mug", code="T-MUG"):
        cls.env.ref("stock.route_warehouse0_mto").active = True
        product = cls.env["product.product"].create({
            "name": name, "default_code": code, "type": "consu", "is_storable": True, "invoice_policy": "delivery",
            "route_ids": [Command.set([cls.env.ref("stock.route_warehouse0_mto").id,
                                       cls.env.ref("mrp.route_warehouse0_manufacture").id])]})
        clay = cls.env["product.product"].create({"name": "Clay", "type": "consu", "is_storable": True})
        cls.env["mrp.bom"].create({"product_tmpl_id": product.product_tmpl_id.id, "product_qty": 1,
                                   "bom_line_ids": [Command.create({"product_id": clay.id, "product_qty": 1})]})
        return product

    # -- events ---------------------------------------------------------
    @staticmethod
    def event(event_type, order_ref, buyer="buyer-1", room_id="room-orders", occurred_at=None, event_id=None,
              **data):
        event = {"id": event_id or f"{event_type}-{order_ref}-{next(_ids)}", "type": event_type,
                 "occurred_at": occurred_at or T0, "room_id": room_id, "data": dict(data, order_ref=order_ref)}
        if buyer:
            event["fan"] = {"platform": "douyin_shop", "id_type": "open_id", "id": buyer, "nickname": f"Nick {buyer}"}
        return event

    def paid(self, order_ref, lines=None, event_type="order.paid", **data):
        """A whole order: 2 scarves at 319.00 and a cup at 99.00, 10.00 shipping,
        a 20.00 seller discount and 30.00 from the platform: the buyer paid 697.00,
        the order is worth 727.00 to the shop."""
        lines = lines or [{"sku": "T-SCARF", "name": "Cashmere scarf", "quantity": 2, "unit_price": 31900},
                          {"sku": "T-CUP", "quantity": 1, "unit_price": 9900}]
        values = {"lines": lines, "shipping_fee": 1000, "discount": 2000, "platform_discount": 3000,
                  "currency": self.company.currency_id.name, "paid_at": T0 + 60,
                  "address": {"name": "张*", "phone": "138****5678", "province": "浙江省", "city": "杭州市",
                              "district": "西湖区", "street": "文三路**号", "zip": "310000"}}
        values.update(data)
        if "total" not in values:
            goods = sum(line["quantity"] * line["unit_price"] - line.get("discount", 0) for line in lines)
            values["total"] = goods + values["shipping_fee"] - values["discount"] - values["platform_discount"]
        return self.event(event_type, order_ref, **values)

    def push(self, *events):
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        self.Event._store(self.creds, inbox)
        return self.process()

    def process(self):
        total = 0
        while claimed := self.Event._process_batch():
            total += claimed
        self.env.invalidate_all()
        return total

    def retry_now(self):
        """Make events waiting for their backoff due, then process."""
        self.env.cr.execute("UPDATE live_event SET next_attempt_at = now() AT TIME ZONE 'UTC' - interval '1 second'"
                            " WHERE state = 'pending'")
        self.env.invalidate_all()
        return self.process()

    def order(self, order_ref):
        return self.env["sale.order"].search([("live_channel_id", "=", self.channel.id),
                                              ("platform_order_ref", "=", order_ref)])

    def events_of(self, order_ref):
        return self.Event.search([("channel_id", "=", self.channel.id), ("payload", "!=", False)]).filtered(
            lambda e: (e.payload.get("data") or {}).get("order_ref") == order_ref)

    def outgoing(self, order, state=None):
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and (state is None or p.state == state))
