"""After-sales from the platforms: a push about an after-sale makes the fetch job read
the platform's after-sale detail (the sandbox answers with each platform's own
document); the record keeps its type, the platform's status and a stage for customer
service, the amount, the platform's deadline and the buyer's parcel back, and drives
the money: a refund that succeeds is a credit note, an exchange is none. Customer
service works them from the After-sales queue and the service workbench.
"""
from datetime import datetime, timedelta, timezone

from lxml import etree

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import LiveCommerceCase
from .test_orders_platforms import (SCARF_SKU, T0, DouyinShop, KuaishouShop, PlatformOrderCase, TiktokShop,
                                    WechatChannelsShop)


def utc(seconds):
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)


class AfterSaleCases:
    """What every platform's after-sales come to. Per platform: its type codes and
    statuses, as its documents carry them (../shared/docs/platform-apis.md)."""
    RETURN_TYPE = EXCHANGE_TYPE = None
    AWAITING_RETURN = AWAITING_RECEIPT = EXCHANGE_DONE = UNKNOWN_STATUS = None
    has_deadline = has_return_tracking = True
    # What comes back: one cup (Kuaishou sells the scarf alone).
    returned_sku, returned_amount = "1729382476852921561", 9950

    def completed_order(self):
        ref = self.new_ref()
        self.register(ref)
        self.sync(self.order_push(ref, "paid"))
        self.register(ref, "completed", shipments=[self.parcel(f"SF{ref[-8:]}")])
        self.sync(self.order_push(ref, "completed"))
        return ref, self.order(ref)

    def after_sale(self, ref, refund_ref, amount, state="requested", sku=None, **values):
        """The after-sale as the platform has it now, pushed and fetched."""
        refund = self.sandbox.add_refund(self.platform, refund_ref, ref, amount, state=state,
                                         lines=[[sku or self.returned_sku, 1]], currency=self.currency,
                                         created_at=T0 + 1000, reason="尺码不合适 wrong size", **values)
        self.sync(self.refund_push(ref, refund))
        return self.order(ref).live_refund_ids.filtered(lambda r: r.refund_ref == str(refund_ref))

    def credit_notes(self, order):
        return self.env["account.move"].search([("move_type", "=", "out_refund"), ("invoice_origin", "=", order.name)])

    def test_return_request_is_a_record_with_type_stage_amount_deadline_and_return_tracking(self):
        ref, order = self.completed_order()
        refund_ref = next(self.refund_ids)
        record = self.after_sale(ref, refund_ref, self.returned_amount, return_goods=True,
                                 aftersale_type=self.RETURN_TYPE, platform_status=self.AWAITING_RETURN,
                                 deadline=T0 + 3 * 86400, updated_at=T0 + 2000)
        self.assertEqual((record.kind, record.stage, record.platform_status, record.state, record.amount),
                         ("return_refund", "buyer_return", str(self.AWAITING_RETURN), "requested",
                          self.returned_amount / 100), "the amount in currency units, not fen")
        self.assertEqual((record.channel_id, record.partner_id, record.company_id),
                         (self.channel, order.partner_id, order.company_id))
        self.assertEqual(record.requested_at, utc(T0 + 1000))
        self.assertEqual(record.deadline, utc(T0 + 3 * 86400) if self.has_deadline else False)
        self.assertFalse(record.return_tracking_ref)

        # The buyer sent the goods back: a later document, a new status, deadline and parcel.
        record = self.after_sale(ref, refund_ref, self.returned_amount, return_goods=True,
                                 aftersale_type=self.RETURN_TYPE, platform_status=self.AWAITING_RECEIPT,
                                 deadline=T0 + 10 * 86400, updated_at=T0 + 3000,
                                 return_tracking="SF7700112233", return_carrier="顺丰速运")
        self.assertEqual((record.stage, record.platform_status, record.state, record.applied),
                         ("seller_receipt", str(self.AWAITING_RECEIPT), "requested", False))
        self.assertEqual(record.deadline, utc(T0 + 10 * 86400) if self.has_deadline else False)
        self.assertEqual((record.return_tracking_ref, record.return_carrier),
                         ("SF7700112233", "顺丰速运") if self.has_return_tracking else (False, False))
        self.assertFalse(self.credit_notes(order), "nothing in the books until the platform refunds")

        # An older document fetched late does not move it back.
        record = self.after_sale(ref, refund_ref, self.returned_amount, return_goods=True,
                                 aftersale_type=self.RETURN_TYPE, platform_status=self.AWAITING_RETURN,
                                 deadline=T0 + 3 * 86400, updated_at=T0 + 2500)
        self.assertEqual((record.stage, record.platform_status), ("seller_receipt", str(self.AWAITING_RECEIPT)))

    def test_refund_request_that_succeeds_becomes_a_credit_note_of_the_exact_amount(self):
        ref, order = self.completed_order()
        refund_ref = next(self.refund_ids)
        record = self.after_sale(ref, refund_ref, 31490, sku=SCARF_SKU, updated_at=T0 + 2000)
        self.assertEqual((record.kind, record.stage, record.state, record.amount), ("refund", "seller", "requested",
                                                                                    314.9))
        self.assertFalse(record.credit_note_id)

        record = self.after_sale(ref, refund_ref, 31490, state="succeeded", sku=SCARF_SKU, updated_at=T0 + 3000)
        self.assertEqual((record.stage, record.state, record.applied), ("done", "succeeded", True))
        credit_note = record.credit_note_id
        self.assertEqual((credit_note.move_type, credit_note.state, credit_note.amount_total), ("out_refund", "posted",
                                                                                               314.9))
        self.assertEqual(order.live_refunded_amount, 314.9)

        # The platform's later word on a booked refund: its status follows, the money does not move.
        record = self.after_sale(ref, refund_ref, 31490, state="succeeded", sku=SCARF_SKU, updated_at=T0 + 4000,
                                 platform_status=self.UNKNOWN_STATUS)
        self.assertEqual((record.platform_status, record.stage, record.state),
                         (str(self.UNKNOWN_STATUS), "done", "succeeded"))
        self.assertEqual((self.credit_notes(order), order.live_refunded_amount), (credit_note, 314.9), "applied once")

    def test_exchange_that_succeeds_is_no_credit_note(self):
        ref, order = self.completed_order()
        record = self.after_sale(ref, next(self.refund_ids), self.returned_amount, state="succeeded",
                                 return_goods=True, aftersale_type=self.EXCHANGE_TYPE,
                                 platform_status=self.EXCHANGE_DONE)
        self.assertEqual((record.kind, record.stage, record.state), ("exchange", "done", "closed"),
                         "goods went out again: no money came back")
        self.assertFalse(record.credit_note_id)
        self.assertFalse(record.return_picking_id)
        self.assertFalse(self.credit_notes(order))
        self.assertEqual(order.live_refunded_amount, 0.0)

    def test_each_type_code_of_the_platform_is_its_after_sale_type(self):
        ref = self.new_ref()
        found = {}
        for code, kind in self.KINDS.items():
            refund = self.sandbox.add_refund(self.platform, next(self.refund_ids), ref, 100, aftersale_type=code,
                                             lines=[[self.returned_sku, 1]], currency=self.currency)
            found[code] = self._client().fetch_refund(refund["refund_ref"], ref).kind
        self.assertEqual(found, self.KINDS)

    def test_unknown_status_is_kept_and_the_request_stays_open(self):
        ref, order = self.completed_order()
        record = self.after_sale(ref, next(self.refund_ids), 31490, sku=SCARF_SKU,
                                 platform_status=self.UNKNOWN_STATUS)
        self.assertEqual((record.platform_status, record.state, record.stage),
                         (str(self.UNKNOWN_STATUS), "requested", "seller"))


@tagged("post_install", "-at_install")
class TestDouyinShopAfterSales(DouyinShop, AfterSaleCases, PlatformOrderCase):
    RETURN_TYPE, EXCHANGE_TYPE = 0, 3
    KINDS = {0: "return_refund", 1: "refund", 2: "before_shipping", 3: "exchange", 6: "price_protection",
             7: "resend", 8: "repair", 42: "other"}
    AWAITING_RETURN, AWAITING_RECEIPT, EXCHANGE_DONE, UNKNOWN_STATUS = 7, 11, 14, 99
    has_deadline = False  # afterSale.Detail documents none


@tagged("post_install", "-at_install")
class TestKuaishouShopAfterSales(KuaishouShop, AfterSaleCases, PlatformOrderCase):
    returned_sku, returned_amount = SCARF_SKU, 31490
    RETURN_TYPE, EXCHANGE_TYPE = 1, 3
    KINDS = {1: "return_refund", 10: "refund", 3: "exchange", 4: "resend", 5: "repair", 42: "other"}
    AWAITING_RETURN, AWAITING_RECEIPT, EXCHANGE_DONE, UNKNOWN_STATUS = 30, 40, 60, 99
    has_return_tracking = False  # the detail's documented fields carry no parcel


@tagged("post_install", "-at_install")
class TestWechatChannelsShopAfterSales(WechatChannelsShop, AfterSaleCases, PlatformOrderCase):
    RETURN_TYPE, EXCHANGE_TYPE = "RETURN", "EXCHANGE"
    KINDS = {"REFUND": "refund", "RETURN": "return_refund", "EXCHANGE": "exchange", "RESHIP": "resend",
             "SOMETHING_NEW": "other"}
    AWAITING_RETURN, AWAITING_RECEIPT = "USER_WAIT_RETURN", "MERCHANT_WAIT_RECEIPT"
    EXCHANGE_DONE, UNKNOWN_STATUS = "MERCHANT_EXCHANGE_SUCCESS", "MERCHANT_SOMETHING_NEW"


    def test_deadline_sent_in_milliseconds_is_the_same_moment(self):
        # The unit of `deadline` is not documented (its other times are seconds).
        from ..models.platforms.wechat_channels_shop import refund_from_document
        document = {"after_sale_order_id": "4200000123", "status": "MERCHANT_PROCESSING", "type": "REFUND",
                    "refund_info": {"amount": 100}, "deadline": (T0 + 86400) * 1000}
        self.assertEqual(refund_from_document(document).deadline, T0 + 86400)
        self.assertEqual(refund_from_document(dict(document, deadline=T0 + 86400)).deadline, T0 + 86400)


@tagged("post_install", "-at_install")
class TestTiktokShopAfterSales(TiktokShop, AfterSaleCases, PlatformOrderCase):
    RETURN_TYPE, EXCHANGE_TYPE = "RETURN_AND_REFUND", "REPLACEMENT"
    KINDS = {"REFUND": "refund", "RETURN_AND_REFUND": "return_refund", "REPLACEMENT": "exchange",
             "SOMETHING_NEW": "other"}

    def test_cancellation_before_shipping_is_a_refund_before_shipping(self):
        ref = self.new_ref()
        refund = self.sandbox.add_refund(self.platform, next(self.refund_ids), ref, 100, kind="cancellation",
                                         lines=[[self.returned_sku, 1]], currency=self.currency,
                                         platform_status="CANCELLATION_REQUEST_SUCCESS")
        found = self._client().fetch_refund(refund["refund_ref"], ref)
        self.assertEqual((found.kind, found.stage, found.state), ("before_shipping", "refunding", "requested"))
    AWAITING_RETURN, AWAITING_RECEIPT = "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM"
    EXCHANGE_DONE, UNKNOWN_STATUS = "RETURN_OR_REFUND_REQUEST_COMPLETE", "SOMETHING_NEW"


@tagged("post_install", "-at_install")
class TestAfterSaleQueue(LiveCommerceCase):
    """The After-sales menu: open requests, the nearest deadline first, overdue ones marked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.service = new_test_user(cls.env, login="aftersale-service", groups="live_commerce_crm.group_live_service")
        partner = cls.env["res.partner"].create({"name": "Buyer of the queue"})
        cls.channel = cls.env["live.channel"].create({"name": "Queue shop", "code": "queue-shop",
                                                      "platform": "douyin_shop"})
        order = cls.env["sale.order"].create({"partner_id": partner.id, "live_channel_id": cls.channel.id})
        now = fields.Datetime.now()
        Refund = cls.env["live.order.refund"]
        cls.later, cls.soon, cls.overdue, cls.closed = Refund.create([
            {"order_id": order.id, "refund_ref": ref, "state": state, "deadline": deadline, "stage": stage,
             "kind": "refund"}
            for ref, state, deadline, stage in (
                ("Q-LATER", "requested", now + timedelta(days=2), "seller"),
                ("Q-SOON", "requested", now + timedelta(hours=2), "seller"),
                ("Q-OVERDUE", "requested", now - timedelta(hours=1), "buyer_return"),
                ("Q-CLOSED", "closed", now - timedelta(days=1), "closed"))])
        cls.mine = cls.later | cls.soon | cls.overdue | cls.closed

    def queue(self, *filters):
        """What the menu's action lists, with its default filter (or `filters`), in its list's order."""
        action = self.env.ref("live_commerce_crm.action_live_order_refund")
        context = safe_eval(action.context)
        names = filters or [key[len("search_default_"):] for key, value in context.items()
                            if key.startswith("search_default_") and value]
        search = etree.fromstring(action.search_view_id.arch)
        domain = safe_eval(action.domain or "[]")
        for name in names:
            domain += safe_eval(search.xpath(f"//filter[@name='{name}']")[0].get("domain"))
        view = self.env["live.order.refund"].get_view(view_type="list")
        order = etree.fromstring(view["arch"]).get("default_order")
        found = self.env["live.order.refund"].with_user(self.service).search(domain, order=order)
        return found & self.mine

    def test_default_queue_lists_open_requests_nearest_deadline_first(self):
        self.assertEqual(self.queue().mapped("refund_ref"), ["Q-OVERDUE", "Q-SOON", "Q-LATER"])
        self.assertEqual(self.queue("overdue").mapped("refund_ref"), ["Q-OVERDUE"], "a closed one is not overdue")
        self.assertEqual(self.queue("due_soon").mapped("refund_ref"), ["Q-SOON"])
        self.assertEqual(self.mine.mapped("deadline_state"), [False, "soon", "overdue", False])
        self.assertEqual(self.mine.channel_id, self.channel, "the order's channel, stored: the queue groups by it")

    def test_menu_is_for_customer_service_and_managers(self):
        menu = self.env.ref("live_commerce_crm.menu_live_order_refunds")
        self.assertEqual(set(menu.groups_id.mapped(lambda group: group.get_external_id()[group.id])),
                         {"live_commerce_crm.group_live_service", "live_commerce_crm.group_live_manager"})

    def test_workbench_shows_stage_and_deadline_nearest_first(self):
        data = self.env["res.partner"].with_user(self.service).live_service_workbench_data()
        mine = [refund for refund in data["refunds"] if refund["ref"].startswith("Q-")]
        self.assertEqual([(r["ref"], r["stage"], r["deadline_state"]) for r in mine],
                         [("Q-OVERDUE", "Awaiting Buyer's Return", "overdue"), ("Q-SOON", "Awaiting Seller", "soon"),
                          ("Q-LATER", "Awaiting Seller", "")])
        self.assertEqual(mine[0]["deadline"], fields.Datetime.to_string(self.overdue.deadline))
