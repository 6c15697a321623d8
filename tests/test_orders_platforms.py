"""Orders of Douyin shop, Kuaishou, WeChat Channels and TikTok Shop, end to end, per
platform: the same transitions as the generic format's (test_orders_generic.py,
test_orders_accounting.py).

Each test goes the real way. The platform pushes only ids, signed or encrypted its
own way, over HTTP to the channel's webhook; the processor hands the order to a
fetch job (queue_job), and the events wait for the platform; the job asks the
platform sandbox (scripts/platform_sandbox.py), in which the test registered the
order and its after-sales and which answers with the platform's own documents, and
stores what it got in the inbox as snapshots; the processor applies them to sale
orders, stock, manufacturing, invoices, payments and refunds.
"""
import base64
import json
from itertools import count

from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .common import SandboxMixin, WebhookCase, run_queue_job

T0 = 1795000000  # 2026-11-18 11:06:40 UTC
_ids = count(1)

SCARF_SKU, CUP_SKU, MUG_SKU = "1729382476852921560", "1729382476852921561", "1729382476852921562"
# The scarf is found by its merchant code (the product's internal reference), the cup
# and the mug by the channel's SKU mappings.
SCARF = {"sku": SCARF_SKU, "merchant_code": "PX-SCARF", "name": "羊绒围巾 Cashmere scarf", "quantity": 2,
         "unit_price": 31990, "discount": 1000}
CUP = {"sku": CUP_SKU, "name": "保温杯 Thermos cup", "quantity": 1, "unit_price": 9950}
MUG = {"sku": MUG_SKU, "name": "定制马克杯 Custom mug", "quantity": 3, "unit_price": 5900}
# Beside the lines: 6.00 shipping, a 5.00 seller discount on the order and 15.00 from the platform.
SHIPPING, ORDER_DISCOUNT, PLATFORM_DISCOUNT = 600, 500, 1500


# -- The platforms: their pushes, and what their documents say ---------------------------
class DouyinShop:
    platform = "douyin_shop"
    identity_type = "open_id"
    buyer = "dy-open-id-buyer-1"
    currency = "CNY"
    room_id = "7301002123456789012"  # sku_order_list[].room_id: the live room
    shop_id = "88123456"
    carrier = "顺丰速运"
    partial_status = 101  # 部分发货
    address = {"name": "张**", "phone": "1**********88", "province": "浙江省", "city": "杭州市", "district": "西湖区",
               "street": "文三路***号"}
    order_ids, refund_ids = (f"69194123456{n:08d}" for n in count(1)), (f"72605412345{n:08d}" for n in count(1))
    TAGS = {"created": "100", "paid": "101", "partly_shipped": "108", "shipped": "102", "completed": "103",
            "cancelled": "106"}
    STATUSES = {"created": 1, "paid": 2, "partly_shipped": 101, "shipped": 3, "completed": 5, "cancelled": 4}

    @classmethod
    def channel_vals(cls):
        return {"shop_id": cls.shop_id}

    def order_push(self, ref, status):
        n = next(_ids)
        data = {"p_id": int(ref), "s_ids": [int(ref) + 1], "shop_id": int(self.shop_id),
                "order_status": self.STATUSES[status], "update_time": T0 + n}
        return [{"tag": self.TAGS[status], "msg_id": f"{ref}-{n}", "data": json.dumps(data)}]

    def refund_push(self, ref, refund):
        n = next(_ids)
        succeeded = refund["state"] == "succeeded"
        data = {"aftersale_id": int(refund["refund_ref"]), "aftersale_status": 12 if succeeded else 6,
                "aftersale_type": 0 if refund["return_goods"] else 1, "p_id": int(ref), "s_id": int(ref) + 1,
                "shop_id": int(self.shop_id), "refund_amount": refund["amount"], "refund_post_amount": 0,
                "reason_code": 3, "success_time" if succeeded else "apply_time": T0 + n}
        return [{"tag": "206" if succeeded else "200", "msg_id": f"{refund['refund_ref']}-{n}",
                 "data": json.dumps(data)}]


class KuaishouShop:
    platform = "kuaishou_shop"
    identity_type = "buyer_open_id"
    buyer = "ks-buyer-open-id-1"
    buyer_nickname = "快手小鹿"
    currency = "CNY"
    room_id = "5100200300"  # carrierType 2: carrierId is the live room
    shop_id = "4210001"
    carrier = "4"  # Kuaishou names carriers by their express code: 4 is SF Express
    partial_status = None  # open.order.detail says nothing of what each parcel holds
    lines = (SCARF,)  # one SKU per Kuaishou order
    address = {"name": "李*", "phone": "138****1234", "province": "广东省", "city": "深圳市", "district": "南山区",
               "street": "科技园****"}
    order_ids, refund_ids = (f"24103012345{n:08d}" for n in count(1)), (f"24103098765{n:08d}" for n in count(1))
    EVENTS = {"created": "kwaishop_order_addOrder", "paid": "kwaishop_order_paySuccess",
              "shipped": "kwaishop_order_delivering", "completed": "kwaishop_order_orderSuccess",
              "cancelled": "kwaishop_order_orderFail"}
    STATUSES = {"created": 10, "paid": 30, "shipped": 40, "completed": 70, "cancelled": 80}
    MESSAGE_SECRET = base64.b64encode(b"ks-message-key16").decode()

    @classmethod
    def channel_vals(cls):
        return {"shop_id": cls.shop_id, "message_secret": cls.MESSAGE_SECRET}

    def _envelope(self, event, info, n):
        ms = (T0 + n) * 1000
        return {"eventId": f"ev-{n}", "msgId": f"msg-{n}", "bizId": info.get("oid") or info.get("refundId"),
                "userId": int(self.shop_id), "openId": "ks-seller-open-id", "appKey": self.channel.app_key,
                "event": event, "info": json.dumps(info), "status": 1, "createTime": ms, "updateTime": ms,
                "test": False}

    def order_push(self, ref, status):
        n = next(_ids)
        return self._envelope(self.EVENTS[status], {
            "oid": int(ref), "buyerOpenId": self.buyer, "sellerId": int(self.shop_id),
            "status": self.STATUSES[status], "createTime": T0 * 1000, "updateTime": (T0 + n) * 1000}, n)

    def refund_push(self, ref, refund):
        n = next(_ids)
        succeeded = refund["state"] == "succeeded"
        return self._envelope("kwaishop_aftersales_updateRefund" if succeeded else "kwaishop_aftersales_addRefund", {
            "orderId": int(ref), "refundId": int(refund["refund_ref"]),
            "handlingWay": 1 if refund["return_goods"] else 10, "specialRefundType": 0,
            "status": 60 if succeeded else 11 if refund["return_goods"] else 10, "updateTime": (T0 + n) * 1000}, n)


class WechatChannelsShop:
    platform = "wechat_channels_shop"
    identity_type = "open_id"
    buyer = "o_buyer_openid_1"
    currency = "CNY"
    room_id = "export/UzFfAgtgekIEAQAAAAAA"  # ext_info.live_id
    shop_id = None  # the appid inside the encrypted message binds the push
    carrier = "SF"
    partial_status = 21  # 部分发货
    address = {"name": "王**", "phone": "139****5678", "province": "上海市", "city": "上海市", "district": "浦东新区",
               "street": "世纪大道***号", "zip": "200120"}
    # Order ids beyond 2^53, sent as JSON numbers.
    order_ids, refund_ids = (f"37291456277{n:08d}" for n in count(1)), (f"42000001234{n:08d}" for n in count(1))
    EVENTS = {"created": "channels_ec_order_new", "paid": "channels_ec_order_pay",
              "partly_shipped": "channels_ec_order_deliver", "shipped": "channels_ec_order_deliver",
              "completed": "channels_ec_order_confirm", "cancelled": "channels_ec_order_cancel"}

    @classmethod
    def channel_vals(cls):
        return {"token": "wx-push-token", "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}

    def _message(self, event, n, **fields):
        return {"ToUserName": "gh_shop", "FromUserName": self.buyer, "CreateTime": T0 + n, "MsgType": "event",
                "Event": event, **fields}

    def order_push(self, ref, status):
        n = next(_ids)
        order_info = {"order_id": int(ref)}
        if status == "paid":
            order_info["pay_time"] = T0 + 60
        if status == "cancelled":
            order_info["cancel_type"] = 1
        return self._message(self.EVENTS[status], n, order_info=order_info)

    def refund_push(self, ref, refund):
        n = next(_ids)
        status = ("MERCHANT_RETURN_SUCCESS" if refund["return_goods"] else "MERCHANT_REFUND_SUCCESS") \
            if refund["state"] == "succeeded" else "MERCHANT_PROCESSING"
        return self._message("channels_ec_aftersale_update", n, finder_shop_aftersale_status_update={
            "after_sale_order_id": int(refund["refund_ref"]), "status": status, "order_id": int(ref)})


class TiktokShop:
    platform = "tiktok_shop"
    identity_type = "user_id"
    buyer = "7494726673780148744"
    currency = "USD"
    room_id = None  # TikTok orders name no live room
    shop_id = "7495012345678901234"
    carrier = "USPS"
    partial_status = "PARTIALLY_SHIPPING"
    address = {"name": "J*** D**", "phone": "(+1)213*****21", "province": "California", "city": "Los Angeles",
               "street": "1*** W*** St", "zip": "90012"}
    order_ids, refund_ids = (f"57668401960{n:07d}" for n in count(1)), (f"40353185043{n:08d}" for n in count(1))
    STATUSES = {"created": "UNPAID", "paid": "AWAITING_SHIPMENT", "partly_shipped": "PARTIALLY_SHIPPING",
                "shipped": "IN_TRANSIT", "completed": "COMPLETED", "cancelled": "CANCELLED"}

    @classmethod
    def channel_vals(cls):
        return {"shop_id": cls.shop_id}

    def order_push(self, ref, status):
        n = next(_ids)
        return {"type": 1, "tts_notification_id": f"7327{n:012d}", "shop_id": self.shop_id, "timestamp": T0 + n,
                "data": {"order_id": ref, "order_status": self.STATUSES[status], "is_on_hold_order": False,
                         "update_time": T0 + n}}

    def refund_push(self, ref, refund):
        n = next(_ids)
        succeeded = refund["state"] == "succeeded"
        if refund["kind"] == "cancellation":  # type 11: cancelled before shipping
            return {"type": 11, "tts_notification_id": f"7328{n:012d}", "shop_id": self.shop_id,
                    "timestamp": T0 + n, "data": {
                        "order_id": ref, "cancel_id": refund["refund_ref"], "cancellations_role": "BUYER",
                        "cancel_status": "CANCELLATION_REQUEST_COMPLETE" if succeeded else
                        "CANCELLATION_REQUEST_PENDING", "create_time": T0 + n}}
        return {"type": 12, "tts_notification_id": f"7329{n:012d}", "shop_id": self.shop_id, "timestamp": T0 + n,
                "data": {"order_id": ref, "return_id": refund["refund_ref"], "return_role": "BUYER",
                         "return_type": "RETURN_AND_REFUND" if refund["return_goods"] else "REFUND",
                         "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE" if succeeded else
                         "RETURN_OR_REFUND_REQUEST_PENDING", "create_time": T0 + n, "update_time": T0 + n}}


# -- The path: webhook, processor, fetch job, sandbox, processor -----------------------------
class PlatformOrderCase(SandboxMixin, WebhookCase):
    """A channel of the platform whose pushes come over HTTP and whose order API is the
    sandbox's; products in stock (the scarf found by its merchant code, the cup and the
    made-to-order mug by SKU mappings); two live sessions on the channel: the room the
    platform's orders name, and another one, started later."""
    lines = (SCARF, CUP)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._start_sandbox()
        cls.channel = cls._api_channel(cls.platform, "orders-" + cls.platform.replace("_", "-"),
                                       commission_rate=4.0, **cls.channel_vals())
        cls.Event = cls.env["live.event"]
        cls.warehouse = cls.channel._order_warehouse()
        Product = cls.env["product.product"]
        cls.scarf = Product.create({"name": "Scarf", "default_code": "PX-SCARF", "type": "consu",
                                    "is_storable": True, "list_price": 399.0, "invoice_policy": "delivery"})
        cls.cup = Product.create({"name": "Cup", "default_code": "PX-CUP", "type": "consu", "is_storable": True,
                                  "list_price": 129.0, "invoice_policy": "delivery"})
        for product in (cls.scarf, cls.cup):
            cls.env["stock.quant"]._update_available_quantity(product, cls.warehouse.lot_stock_id, 10)
        cls.env.ref("stock.route_warehouse0_mto").active = True
        cls.mug = Product.create({
            "name": "Custom Mug", "type": "consu", "is_storable": True, "invoice_policy": "delivery",
            "route_ids": [Command.set([cls.env.ref("stock.route_warehouse0_mto").id,
                                       cls.env.ref("mrp.route_warehouse0_manufacture").id])]})
        clay = Product.create({"name": "Clay", "type": "consu", "is_storable": True})
        cls.env["mrp.bom"].create({"product_tmpl_id": cls.mug.product_tmpl_id.id, "product_qty": 1,
                                   "bom_line_ids": [Command.create({"product_id": clay.id, "product_qty": 1})]})
        cls.env["live.channel.sku"].create([
            {"channel_id": cls.channel.id, "platform_sku": CUP_SKU, "product_id": cls.cup.id},
            {"channel_id": cls.channel.id, "platform_sku": MUG_SKU, "product_id": cls.mug.id}])
        hosts = [new_test_user(cls.env, login=f"{cls.platform}-host-{n}", groups="live_commerce_crm.group_live_host")
                 for n in (1, 2)]
        cls.room_session, cls.later_session = cls.env["live.session"].create([{
            "name": name, "channel_id": cls.channel.id, "room_id": room, "host_id": host.id,
            "date_scheduled_start": start} for name, room, host, start in (
                ("Winter live", cls.room_id or "tiktok-live-1", hosts[0], "2026-11-18 10:00:00"),
                ("Late live", "another-room", hosts[1], "2026-11-18 11:00:00"))])
        for session in (cls.room_session, cls.later_session):
            session.action_start()
            session.date_start = session.date_scheduled_start
        cls.clock = count(T0 + 100)

    # -- the platform's side ---------------------------------------------------------------
    def new_ref(self):
        return next(self.order_ids)

    def register(self, ref, status="paid", lines=None, shipments=(), platform_status=None, **values):
        """The order as the platform has it now (the sandbox renders it as the platform's
        own document): by default a scarf pair and a cup, paid."""
        values = {"shipping_fee": SHIPPING, "discount": ORDER_DISCOUNT, "platform_discount": PLATFORM_DISCOUNT,
                  "created_at": T0, "paid_at": 0 if status in ("created", "cancelled") else T0 + 60,
                  "updated_at": next(self.clock), "buyer": self.buyer, "address": self.address,
                  "room_id": self.room_id, "host_ref": "98765432101" if self.room_id else None,
                  "host_name": "主播小鹿" if self.room_id else None, "currency": self.currency,
                  "buyer_nickname": getattr(self, "buyer_nickname", None), **values}
        return self.sandbox.add_order(self.platform, ref, status=status, lines=lines or self.lines,
                                      shipments=shipments, platform_status=platform_status, **values)

    def register_refund(self, ref, sku, quantity, amount, state="succeeded", return_goods=False, before_shipping=False):
        refund_ref = next(self.refund_ids)
        kind = "cancellation" if before_shipping and self.platform == "tiktok_shop" else "return"
        return self.sandbox.add_refund(self.platform, refund_ref, ref, amount, state=state, return_goods=return_goods,
                                       lines=[[sku, quantity]], kind=kind, currency=self.currency,
                                       reason="尺码不合适 wrong size")

    def parcel(self, tracking_ref, *lines):
        return {"tracking_ref": tracking_ref, "carrier": self.carrier, "lines": [list(line) for line in lines],
                "shipped_at": T0 + 600}

    # -- our side --------------------------------------------------------------------------
    def deliver(self, payload):
        """The push over HTTP, signed or encrypted the platform's way."""
        response = self._push(self.channel, payload)
        self.assertEqual(response.status_code, 200, response.text)
        return payload

    def fetch_jobs(self, state="pending"):
        return self.env["queue.job"].search([
            ("model_name", "=", "live.event"), ("method_name", "=", "_job_fetch_order"), ("state", "=", state)],
            order="id")

    def run_job(self, record):
        return run_queue_job(self.env, record)

    def run_jobs(self):
        """Run the fetch jobs that wait (their retry time is not waited for); their errors."""
        return [error for error in map(self.run_job, self.fetch_jobs()) if error is not None]

    def sync(self, *payloads):
        """Pushes delivered, processed, the order fetched by its job, the snapshots applied."""
        for payload in payloads:
            self.deliver(payload)
        self._process()
        self.assertEqual(self.run_jobs(), [])
        self._process()

    def retry_now(self):
        """Events waiting for their backoff made due, then processed."""
        self.env.cr.execute("UPDATE live_event SET next_attempt_at = now() AT TIME ZONE 'UTC' - interval '1 second'"
                            " WHERE state = 'pending'")
        self.env.invalidate_all()
        return self._process()

    def order(self, ref):
        return self.env["sale.order"].search([("live_channel_id", "=", self.channel.id),
                                              ("platform_order_ref", "=", ref)])

    def pushes_of(self, ref):
        return self.Event.search([("channel_id", "=", self.channel.id), ("order_ref", "=", ref),
                                  ("event_type", "not in", ("order.snapshot", "refund.snapshot"))], order="id")

    def snapshots_of(self, ref, event_type="order.snapshot"):
        return self.Event.search([("channel_id", "=", self.channel.id),
                                  ("message_id", "=like", f"{event_type}:{ref}:%")], order="id")

    def outgoing(self, order, state=None):
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and (state is None or p.state == state))

    def product_lines(self, order):
        goods = order.order_line.filtered(lambda line: line.product_id in (self.scarf | self.cup | self.mug))
        return sorted((line.product_id.name, line.product_uom_qty, line.price_unit) for line in goods)

    def reserved(self, product):
        quants = self.env["stock.quant"].search([("product_id", "=", product.id),
                                                 ("location_id", "=", self.warehouse.lot_stock_id.id)])
        return sum(quants.mapped("reserved_quantity"))

    def state_of(self, order):
        """What an order came to in Odoo, without its names and numbers."""
        return {
            "order": (order.state, order.platform_status, order.amount_total, order.platform_paid_amount,
                      order.partner_id.live_identity_ids.mapped("value"), order.live_session_id.id),
            "lines": self.product_lines(order),
            "pickings": sorted((p.picking_type_code, p.state, p.carrier_tracking_ref or "", p.carrier_id.name or "",
                                tuple(sorted((m.product_id.id, m.product_uom_qty, m.quantity) for m in p.move_ids)))
                               for p in order.picking_ids),
            "moves": sorted((m.state, m.journal_id.id, m.amount_total, m.payment_state)
                            for m in order.invoice_ids),
            "refunds": sorted((r.state, r.amount, r.return_goods, r.applied, r.before_shipping, r.line_summary)
                              for r in order.live_refund_ids),
            "reserved": (self.reserved(self.scarf), self.reserved(self.cup)),
        }


class OrderTransitions:
    """The transitions every platform goes through. Expected amounts: the scarf pair at
    319.90 with a 10.00 discount on the line, the cup at 99.50, 6.00 shipping, a 5.00
    seller discount and 15.00 from the platform."""
    # Kuaishou (one SKU per order) overrides these for the scarf pair alone.
    expected_lines = [("Cup", 1, 99.5), ("Scarf", 2, 319.9)]
    total, paid_by_buyer, commission = 730.3, 715.3, 29.21  # 4% of 730.30
    # What comes back: the last line, one unit (the cup; Kuaishou: a scarf).
    returned_sku, returned_amount = CUP_SKU, 9950

    @property
    def returned_product(self):
        return self.cup if self.returned_sku == CUP_SKU else self.scarf

    def paid_order(self):
        ref = self.new_ref()
        self.register(ref)
        self.sync(self.order_push(ref, "paid"))
        return ref, self.order(ref)

    def completed_order(self):
        ref, order = self.paid_order()
        self.register(ref, "completed", shipments=[self.parcel(f"SF{ref[-8:]}")])
        self.sync(self.order_push(ref, "completed"))
        return ref, order

    # 1. paid ---------------------------------------------------------------------------
    def test_paid_order_is_a_confirmed_sale_order_with_reserved_stock(self):
        ref = self.new_ref()
        self.register(ref)
        payload = self.deliver(self.order_push(ref, "paid"))
        self._process()
        push = self.pushes_of(ref)
        self.assertEqual((push.state, push.order_ref), ("waiting", ref), "waiting for the platform")
        job = self.fetch_jobs()
        self.assertEqual((len(job), job.channel, job.args), (1, f"root.live_commerce.{self.platform}", [ref, []]))
        self.assertEqual(job.records, push)
        self.assertFalse(self.sandbox.calls_to(self.platform), "nothing asked of the platform while processing")

        self.assertIsNone(self.run_job(job))
        self.assertEqual(job.state, "done")
        self.assertEqual(self._calls(), [("order", "ok")])
        self.assertEqual(push.state, "done", "the job marks the pushes it answered done")
        snapshot = self.snapshots_of(ref)
        self.assertEqual((snapshot.state, snapshot.payload["order"]["order_ref"], snapshot.payload["order"]["status"]),
                         ("pending", ref, "paid"), "the order as fetched, in the inbox")
        self.assertFalse(self.order(ref), "the job only stores what it fetched")

        self._process()
        order = self.order(ref)
        self.assertEqual((snapshot.state, snapshot.partner_id), ("done", order.partner_id))
        self.assertEqual((order.state, order.platform_status), ("sale", "paid"))
        self.assertEqual(order.currency_id.name, self.currency)
        self.assertEqual(self.product_lines(order), self.expected_lines)
        scarf = order.order_line.filtered(lambda line: line.product_id == self.scarf)
        self.assertIn("羊绒围巾 Cashmere scarf", scarf.name, "the platform's title beside the product")
        service = {line.product_id: line.price_unit for line in order.order_line}
        self.assertEqual(service[self.env.ref("live_commerce_crm.product_live_discount")], -15.0,
                         "the seller's discounts: 10.00 on the line, 5.00 on the order")
        self.assertEqual(service[self.env.ref("live_commerce_crm.product_live_shipping")], 6.0)
        self.assertEqual((order.amount_total, order.platform_paid_amount, order.platform_discount_amount,
                          order.live_amount_difference), (self.total, self.paid_by_buyer, 15.0, 0.0))
        self.assertEqual(str(order.platform_paid_at), "2026-11-18 11:07:40")

        identity = order.partner_id.live_identity_ids
        self.assertEqual((identity.channel_id, identity.identity_type, identity.value),
                         (self.channel, self.identity_type, self.buyer), "the buyer is a fan")
        self.assertTrue(order.partner_id.is_live_fan)
        shipping = order.partner_shipping_id
        self.assertEqual((shipping.type, shipping.parent_id), ("delivery", order.partner_id))
        self.assertEqual((shipping.name, shipping.phone, shipping.street, shipping.street2),
                         (self.address["name"], self.address["phone"], self.address["street"],
                          self.address.get("district") or False), "masked values kept as received")

        delivery = self.outgoing(order)
        self.assertEqual((delivery.state, delivery.picking_type_id.warehouse_id), ("assigned", self.warehouse),
                         "stock reserved in the channel's warehouse")
        self.assertEqual(self.reserved(self.scarf), 2)
        self.assertFalse(order.live_stock_short)

        session = self.room_session if self.room_id else self.later_session
        self.assertEqual((order.live_session_id, order.live_host_id), (session, session.host_id),
                         "the live room the platform names" if self.room_id else
                         "no room on the platform's order: the session live when it was paid")
        self.deliver(payload)  # redelivered by the platform
        self._process()
        self.assertEqual((len(self.pushes_of(ref)), len(self.fetch_jobs())), (1, 0), "a duplicate: nothing to do")

    # 2. shipped --------------------------------------------------------------------------
    def test_shipped_order_validates_its_delivery_with_carrier_and_tracking(self):
        ref, order = self.paid_order()
        self.register(ref, "shipped", shipments=[self.parcel("SF1000000001")])
        self.sync(self.order_push(ref, "shipped"))
        self.assertEqual(order.platform_status, "shipped")
        delivery = self.outgoing(order)
        self.assertEqual((delivery.state, delivery.carrier_tracking_ref, delivery.carrier_id.name),
                         ("done", "SF1000000001", self.carrier))
        self.assertEqual(sorted((line.product_id.name, line.qty_delivered) for line in order.order_line
                                if line.product_id in self.scarf | self.cup),
                         [(name, qty) for name, qty, _price in self.expected_lines])
        self.assertEqual((self.reserved(self.scarf), self.reserved(self.cup)), (0, 0))

    # 3. completed ------------------------------------------------------------------------
    def test_completed_order_is_invoiced_and_paid_into_the_settlement_journal_less_commission(self):
        ref, order = self.completed_order()
        self.assertEqual(order.platform_status, "completed")
        self.assertEqual(self.outgoing(order).mapped("state"), ["done"])
        invoice = order.invoice_ids
        self.assertEqual((invoice.move_type, invoice.state, invoice.payment_state, invoice.currency_id.name,
                          invoice.amount_total), ("out_invoice", "posted", "paid", self.currency, self.total))
        receivable = invoice.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        self.assertEqual(receivable.amount_currency, self.total)
        payment = invoice._get_reconciled_payments()
        journal = self.channel.settlement_journal_id
        self.assertEqual((payment.journal_id, payment.journal_id.type, payment.currency_id.name, payment.amount),
                         (journal, "bank", self.currency, round(self.total - self.commission, 2)))
        entry = payment.move_id.line_ids
        commission = entry.filtered(lambda line: line.account_id == self.channel.commission_account_id)
        paid_off = entry.filtered(lambda line: line.account_id == receivable.account_id)
        received = entry - commission - paid_off
        self.assertEqual(
            [(commission.amount_currency, commission.name), (paid_off.amount_currency,),
             (received.amount_currency,)],
            [(self.commission, "Platform commission"), (-self.total,), (round(self.total - self.commission, 2),)],
            "the platform pays the order less its commission, booked to the commission account")
        self.assertEqual(self.channel.commission_account_id.account_type, "expense")
        self.assertTrue(self.env.company.currency_id.is_zero(sum(entry.mapped("balance"))))

    # 4. after-sales after delivery ---------------------------------------------------------
    def test_refund_only_after_delivery_is_a_credit_note_for_the_refunded_amount(self):
        ref, order = self.completed_order()
        refund = self.register_refund(ref, SCARF_SKU, 1, 31490)  # the scarf less its share of the line discount
        self.sandbox.reset_calls()
        self.sync(self.refund_push(ref, refund))
        self.assertEqual(self._calls(), [("order", "ok"), ("refund", "ok")], "the order and the after-sale fetched")
        self.assertEqual(self.snapshots_of(ref, "refund.snapshot").state, "done")
        after_sale = order.live_refund_ids
        self.assertEqual((after_sale.refund_ref, after_sale.state, after_sale.amount, after_sale.return_goods,
                          after_sale.applied, after_sale.before_shipping),
                         (refund["refund_ref"], "succeeded", 314.9, False, True, False))
        credit_note = after_sale.credit_note_id
        self.assertEqual((credit_note.move_type, credit_note.state, credit_note.amount_total,
                          credit_note.currency_id.name), ("out_refund", "posted", 314.9, self.currency),
                         "exactly what the platform refunded")
        self.assertEqual(sorted((line.product_id.name, line.quantity, line.price_unit)
                                for line in credit_note.invoice_line_ids),
                         sorted([("Scarf", 1, 319.9), ("Refund (live order)", 1, -5.0)]))
        self.assertEqual(credit_note.payment_state, "paid")
        self.assertEqual(credit_note._get_reconciled_payments().journal_id, self.channel.settlement_journal_id,
                         "paid back from the settlement journal")
        self.assertFalse(after_sale.return_picking_id, "refund only: the goods stay with the buyer")
        self.assertEqual(order.live_refunded_amount, 314.9)

        # The platform notifies again about the after-sale, whose reason the buyer edited:
        # a new snapshot of a refund that is in the books already.
        refund = self.sandbox.add_refund(self.platform, refund["refund_ref"], ref, 31490, state="succeeded",
                                         lines=[[SCARF_SKU, 1]], currency=self.currency, reason="质量问题 faulty")
        self.sync(self.refund_push(ref, refund))
        self.assertEqual(len(self.snapshots_of(ref, "refund.snapshot")), 2)
        self.assertEqual((order.live_refund_ids, order.live_refunded_amount), (after_sale, 314.9))
        self.assertEqual(self.env["account.move"].search([("move_type", "=", "out_refund"),
                                                          ("invoice_origin", "=", order.name)]), credit_note,
                         "applied once")

    def test_return_and_refund_is_a_return_to_receive_and_a_credit_note(self):
        ref, order = self.completed_order()
        refund = self.register_refund(ref, self.returned_sku, 1, self.returned_amount, state="requested",
                                      return_goods=True)
        self.sync(self.refund_push(ref, refund))
        after_sale = order.live_refund_ids
        self.assertEqual((after_sale.state, after_sale.return_goods, after_sale.applied), ("requested", True, False))
        self.assertFalse(after_sale.credit_note_id, "nothing in the books until the platform refunds")

        refund = self.sandbox.add_refund(self.platform, refund["refund_ref"], ref, self.returned_amount,
                                         state="succeeded", return_goods=True, lines=[[self.returned_sku, 1]],
                                         currency=self.currency)  # the goods came back, the platform refunded
        self.sync(self.refund_push(ref, refund))
        self.assertEqual((after_sale.state, after_sale.applied), ("succeeded", True))
        self.assertEqual(after_sale.credit_note_id.amount_total, self.returned_amount / 100)
        returned = after_sale.return_picking_id
        self.assertEqual((returned.picking_type_code, returned.state), ("incoming", "assigned"))
        self.assertEqual([(m.product_id, m.product_uom_qty) for m in returned.move_ids],
                         [(self.returned_product, 1.0)])
        line = order.order_line.filtered(lambda l: l.product_id == self.returned_product)
        delivered = line.qty_delivered
        returned.button_validate()
        self.assertEqual(line.qty_delivered, delivered - 1)

    # 5. refund before shipping ----------------------------------------------------------------
    def test_refund_before_shipping_cancels_the_quantities_and_releases_their_stock(self):
        ref, order = self.paid_order()
        refund = self.register_refund(ref, SCARF_SKU, 1, 31490, before_shipping=True)
        self.sync(self.refund_push(ref, refund))
        scarf = order.order_line.filtered(lambda line: line.product_id == self.scarf)
        self.assertEqual((order.state, scarf.product_uom_qty), ("sale", 1), "only its quantity")
        moves = self.outgoing(order).move_ids
        self.assertEqual(moves.filtered(lambda m: m.product_id == self.scarf).product_uom_qty, 1)
        self.assertEqual(self.reserved(self.scarf), 1, "its stock released")
        self.assertEqual(order.live_refund_ids.mapped("before_shipping"), [True])
        self.assertFalse(order.invoice_ids, "nothing shipped, nothing invoiced: no credit note")

        rest = [(SCARF_SKU, 1, 31490)] + [(CUP_SKU, 1, 9950)] * (CUP in self.lines)
        for sku, quantity, amount in rest:
            self.sync(self.refund_push(ref, self.register_refund(ref, sku, quantity, amount, before_shipping=True)))
        self.assertEqual(order.state, "cancel", "everything refunded before shipping: cancelled")
        self.assertEqual((self.reserved(self.scarf), self.reserved(self.cup)), (0, 0), "stock released")
        self.assertEqual(order.live_refunded_amount, (31490 * 2 + 9950 * (CUP in self.lines)) / 100)

    # 6. cancelled before payment --------------------------------------------------------------
    def test_cancelled_before_payment_cancels_the_quotation(self):
        ref = self.new_ref()
        self.register(ref, "created")
        self.sync(self.order_push(ref, "created"))
        order = self.order(ref)
        self.assertEqual((order.state, order.platform_status, order.amount_total), ("draft", "created", self.total))
        self.assertFalse(order.picking_ids, "a quotation reserves nothing")
        self.register(ref, "cancelled", cancel_reason="不想要了")
        self.sync(self.order_push(ref, "cancelled"))
        self.assertEqual((order.state, order.platform_status), ("cancel", "cancelled"))
        self.assertFalse(order.platform_paid_at)
        self.assertNotIn(order, self.env["sale.order"].search(self.env["sale.order"]._live_paid_domain()))

    # 7. made to order -----------------------------------------------------------------------
    def test_made_to_order_product_starts_a_manufacturing_order(self):
        ref = self.new_ref()
        self.register(ref, lines=[MUG])
        self.sync(self.order_push(ref, "paid"))
        order = self.order(ref)
        self.assertEqual(order.state, "sale")
        production = order.mrp_production_ids
        self.assertEqual((production.product_id, production.product_qty, production.state),
                         (self.mug, 3, "confirmed"))
        self.register(ref, "shipped", lines=[MUG], shipments=[self.parcel("SF2000000001")])
        self.sync(self.order_push(ref, "shipped"))
        shipped = self.pushes_of(ref)[-1]
        self.assertEqual(shipped.state, "done", "the push itself is answered by the fetch")
        snapshot = self.snapshots_of(ref)[-1]
        self.assertEqual(snapshot.state, "pending")
        self.assertIn("Custom Mug", snapshot.error, "not produced yet: nothing ships, retried later")
        production.button_mark_done()
        self.retry_now()
        self.assertEqual(snapshot.state, "done")
        self.assertEqual(self.outgoing(order, "done").carrier_tracking_ref, "SF2000000001")

    # 8. the same push twice, pushes out of order ------------------------------------------------
    def test_the_same_push_twice_is_one_event_and_a_repeated_notification_changes_nothing(self):
        ref = self.new_ref()
        self.register(ref)
        payload = self.order_push(ref, "paid")
        self.sync(payload, payload)
        self.assertEqual(len(self.pushes_of(ref)), 1, "redelivered: a duplicate in the inbox")
        order = self.order(ref)
        before = self.state_of(order)
        self.sync(self.order_push(ref, "paid"))  # the platform says it again, in another message
        self.assertEqual(len(self.pushes_of(ref)), 2)
        self.assertEqual(set(self.pushes_of(ref).mapped("state")), {"done"})
        self.assertEqual(len(self.snapshots_of(ref)), 1, "the same answer fetched twice is one snapshot")
        self.assertEqual(self.state_of(order), before)
        self.assertEqual(len(self.outgoing(order)), 1)

    def test_after_sale_pushed_before_the_payment_converges_with_the_pushes_in_order(self):
        orders = {}
        for flow in ("in order", "after-sale first"):
            ref = self.new_ref()
            self.register(ref)
            refund = self.register_refund(ref, SCARF_SKU, 1, 31490, before_shipping=True)
            paid, after_sale = self.order_push(ref, "paid"), self.refund_push(ref, refund)
            pushes = [paid, after_sale] if flow == "in order" else [after_sale, after_sale, paid]
            for payload in pushes:
                self.sync(payload)
            self.assertEqual(set(self.pushes_of(ref).mapped("state")), {"done"}, flow)
            orders[flow] = self.order(ref)
        in_order, reversed_ = (self.state_of(orders[flow]) for flow in ("in order", "after-sale first"))
        self.assertEqual(reversed_, in_order)
        self.assertEqual(in_order["lines"][-1], ("Scarf", 1, 319.9), "the refunded scarf came off the order")

    def test_pushes_of_an_order_while_its_job_waits_share_that_job_after_sales_included(self):
        ref = self.new_ref()
        self.register(ref)
        refund = self.register_refund(ref, SCARF_SKU, 1, 31490, before_shipping=True)
        for payload in (self.order_push(ref, "paid"), self.refund_push(ref, refund)):
            self.deliver(payload)
            self._process()
        self.assertEqual(len(self.fetch_jobs()), 1, "one job for the order, the after-sale's push joined it")
        self.assertEqual(self.run_jobs(), [])
        self._process()
        self.assertEqual(set(self.pushes_of(ref).mapped("state")), {"done"})
        self.assertEqual(self.order(ref).live_refund_ids.refund_ref, refund["refund_ref"], "the after-sale was fetched too")

    def test_completed_pushed_before_payment_and_shipment_converges(self):
        orders = {}
        for flow in ("in order", "completed first"):
            ref = self.new_ref()
            parcel = self.parcel("SF3000000001")
            if flow == "in order":
                for status, shipments in (("paid", []), ("shipped", [parcel]), ("completed", [parcel])):
                    self.register(ref, status, shipments=shipments)
                    self.sync(self.order_push(ref, status))
            else:
                self.register(ref, "completed", shipments=[parcel])
                for status in ("completed", "shipped", "paid"):
                    self.sync(self.order_push(ref, status))
            orders[flow] = self.order(ref)
        in_order = self.state_of(orders["in order"])
        self.assertEqual(self.state_of(orders["completed first"]), in_order)
        self.assertEqual(in_order["order"][:2], ("sale", "completed"))
        self.assertEqual([(state, amount, paid) for state, _journal, amount, paid in in_order["moves"]],
                         [("posted", self.total, "paid")])

    # 9. the platform's API fails ------------------------------------------------------------
    def test_rate_limit_and_transient_errors_retry_the_job(self):
        ref = self.new_ref()
        self.register(ref)
        self.deliver(self.order_push(ref, "paid"))
        self._process()
        job = self.fetch_jobs()
        for kind in ("rate_limit", "transient"):
            self.sandbox.fail(ref, kind)
            error = self.run_job(job)
            self.assertIsInstance(error, RetryableJobError, kind)
            self.assertTrue(str(error).startswith(f"{self.platform}: "), str(error))
            self.assertEqual((job.state, job.retry), ("pending", 1 if kind == "rate_limit" else 2))
            self.assertTrue(job.eta, "retried later")
            self.assertEqual(self.pushes_of(ref).state, "waiting")
        self.assertEqual([outcome for _endpoint, outcome in self._calls()], ["rate_limit", "transient"])
        self.assertIsNone(self.run_job(job))
        self._process()
        self.assertEqual(self.order(ref).state, "sale")

    def test_rate_limit_that_does_not_end_fails_the_job_after_its_retries(self):
        ref = self.new_ref()
        self.register(ref)
        self.sandbox.fail(ref, "rate_limit", times=None)
        self.deliver(self.order_push(ref, "paid"))
        self._process()
        job = self.fetch_jobs()
        errors = [self.run_job(job) for _attempt in range(job.max_retries)]
        self.assertTrue(all(isinstance(error, RetryableJobError) for error in errors[:-1]))
        self.assertEqual(job.state, "failed")
        push = self.pushes_of(ref)
        self.assertEqual(push.state, "failed")
        self.assertIn(f"Max. retries ({job.max_retries}) reached", push.error)

    def test_permanent_error_fails_the_waiting_events_with_the_platforms_message_and_rerun_fetches_again(self):
        ref = self.new_ref()
        self.register(ref)
        self.sandbox.fail(ref, "permanent", times=None)
        self.deliver(self.order_push(ref, "paid"))
        self._process()
        self.deliver(self.order_push(ref, "paid"))  # another push while the job waits: nothing more to fetch
        self._process()
        job = self.fetch_jobs()
        self.assertEqual(len(job), 1)
        error = self.run_job(job)
        self.assertNotIsInstance(error, RetryableJobError)
        self.assertEqual(job.state, "failed")
        pushes = self.pushes_of(ref)
        self.assertEqual(pushes.mapped("state"), ["failed", "failed"], "the order's waiting events need attention")
        for push in pushes:
            self.assertIn("Fetching the order from the platform failed", push.error)
            self.assertIn(self.permanent_message, push.error, "the platform's own word")
        self.assertFalse(self.order(ref))

        self.sandbox.failures.clear()  # the shop authorized the app again
        self.sandbox.reset_calls()
        pushes[0].action_rerun()
        self.assertEqual(pushes[0].state, "waiting")
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self._calls(), [("order", "ok")], "fetched again")
        self._process()
        order = self.order(ref)
        self.assertEqual((pushes[0].state, order.state), ("done", "sale"))
        pushes[1].action_rerun()
        self.assertEqual(self.run_jobs(), [])
        self._process()
        self.assertEqual(pushes[1].state, "done")
        self.assertEqual(len(self.snapshots_of(ref)), 1, "the same order fetched again: nothing new")

    def test_unknown_order_fails_the_job_and_rerun_fetches_it_once_it_exists(self):
        ref = self.new_ref()
        self.deliver(self.order_push(ref, "paid"))
        self._process()
        self.run_jobs()
        push = self.pushes_of(ref)
        self.assertEqual(push.state, "failed")
        self.assertIn(self.not_found_message, push.error)
        self.register(ref)
        push.action_rerun()
        self.assertEqual(self.run_jobs(), [])
        self._process()
        self.assertEqual((push.state, self.order(ref).state), ("done", "sale"))

    def test_expired_token_is_refreshed_once_and_the_fetch_succeeds(self):
        ref = self.new_ref()
        self.register(ref)
        old_token, _refresh = self._stored_token()
        self.sandbox.expire_access_tokens(self.platform)  # the channel still believes its token valid
        self.sync(self.order_push(ref, "paid"))
        calls = self._calls()
        self.assertEqual(len(calls), 3, calls)
        self.assertIn(calls[0], [("order", "token_expired"), ("order", "token_invalid")])
        self.assertEqual(calls[1:], [("token", "ok"), ("order", "ok")])
        access, _refresh = self._stored_token()
        self.assertNotEqual(access, old_token)
        self.assertEqual(access, self.sandbox.current_access_token(self.platform, self.channel.app_key)["token"],
                         "the new token is saved on the channel")
        self.assertEqual(self.order(ref).state, "sale")


class PartialShipments:
    """Platforms whose documents say what each parcel holds."""

    def test_partial_shipment_ships_its_lines_and_leaves_the_rest_reserved(self):
        ref, order = self.paid_order()
        first = self.parcel("SF1000000011", (SCARF_SKU, 1))
        self.register(ref, "shipped", platform_status=self.partial_status, shipments=[first])
        self.sync(self.order_push(ref, "partly_shipped"))
        self.assertEqual(order.platform_status, "shipped")
        shipped = self.outgoing(order, "done")
        self.assertEqual((shipped.carrier_tracking_ref, shipped.carrier_id.name), ("SF1000000011", self.carrier))
        self.assertEqual([(m.product_id, m.quantity) for m in shipped.move_ids], [(self.scarf, 1.0)])
        rest = self.outgoing(order, "assigned")
        self.assertEqual(sorted((m.product_id.name, m.product_uom_qty) for m in rest.move_ids),
                         [("Cup", 1.0), ("Scarf", 1.0)], "the rest is still reserved")
        self.assertEqual((self.reserved(self.scarf), self.reserved(self.cup)), (1, 1))

        second = self.parcel("SF1000000012", (SCARF_SKU, 1), (CUP_SKU, 1))
        self.register(ref, "shipped", shipments=[first, second])
        self.sync(self.order_push(ref, "shipped"))
        done = self.outgoing(order, "done")
        self.assertEqual(sorted(done.mapped("carrier_tracking_ref")), ["SF1000000011", "SF1000000012"])
        self.assertEqual(sorted((line.product_id.name, line.qty_delivered) for line in order.order_line
                                if line.product_id in self.scarf | self.cup), [("Cup", 1), ("Scarf", 2)])
        self.assertFalse(self.outgoing(order, "assigned"))


@tagged("post_install", "-at_install")
class TestDouyinShopOrders(DouyinShop, PartialShipments, OrderTransitions, PlatformOrderCase):
    permanent_message = "店铺授权已失效"
    not_found_message = "查询订单不存在"


@tagged("post_install", "-at_install")
class TestKuaishouShopOrders(KuaishouShop, OrderTransitions, PlatformOrderCase):
    expected_lines = [("Scarf", 2, 319.9)]
    total, paid_by_buyer, commission = 630.8, 615.8, 25.23  # 4% of 630.80
    returned_sku, returned_amount = SCARF_SKU, 31490
    permanent_message = "AUTHORIZATION_REVOKED"
    not_found_message = "订单不存在"

    def test_paid_order_keeps_the_buyers_nickname(self):
        ref, order = self.paid_order()
        self.assertEqual(order.partner_id.name, "快手小鹿")


@tagged("post_install", "-at_install")
class TestWechatChannelsShopOrders(WechatChannelsShop, PartialShipments, OrderTransitions, PlatformOrderCase):
    permanent_message = "48001 api unauthorized"
    not_found_message = "100002 Not exist"

    def test_order_ids_beyond_2_53_stay_exact(self):
        ref, order = self.paid_order()
        self.assertGreater(int(ref), 2 ** 53)
        self.assertEqual(order.platform_order_ref, ref)
        self.assertEqual(self.pushes_of(ref).payload["order_info"]["order_id"], ref)


@tagged("post_install", "-at_install")
class TestTiktokShopOrders(TiktokShop, PartialShipments, OrderTransitions, PlatformOrderCase):
    permanent_message = "105005 Access denied"
    not_found_message = "TikTok orders: no order"

    def test_one_line_item_per_unit_becomes_quantities_to_the_cent(self):
        ref = self.new_ref()
        lines = [{"sku": SCARF_SKU, "merchant_code": "PX-SCARF", "name": "Cashmere Scarf", "quantity": 3,
                  "unit_price": 1999, "discount": 101},
                 {"sku": CUP_SKU, "name": "Thermos Cup", "quantity": 1, "unit_price": 1031}]
        self.register(ref, lines=lines, shipping_fee=499, discount=200, platform_discount=150)
        document = self.sandbox.platforms[self.platform].order_document(self.sandbox.orders[(self.platform, ref)])
        self.assertEqual([(item["sku_id"], item["sale_price"]) for item in document["line_items"]],
                         [(SCARF_SKU, "19.65"), (SCARF_SKU, "19.65"), (SCARF_SKU, "19.66"), (CUP_SKU, "10.31")],
                         "one line item per unit, decimal strings")
        self.sync(self.order_push(ref, "paid"))
        order = self.order(ref)
        self.assertEqual(self.product_lines(order), [("Cup", 1, 10.31), ("Scarf", 3, 19.99)])
        discount = order.order_line.filtered(
            lambda line: line.product_id == self.env.ref("live_commerce_crm.product_live_discount"))
        self.assertEqual(discount.price_unit, -3.01)
        # 59.97 + 10.31 - 3.01 + 4.99 = 72.26, of which the buyer paid all but 1.50.
        self.assertEqual((order.amount_total, order.platform_paid_amount, order.platform_discount_amount,
                          order.live_amount_difference), (72.26, 70.76, 1.5, 0.0))
