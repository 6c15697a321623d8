"""Kuaishou shop's order API client against the sandbox, and its signature checked
against a known answer computed with openssl (not with our code)."""
import time

from odoo.tests import tagged

from ..models.platforms import get_adapter
from ..models.platforms.kuaishou_shop import KuaishouShopClient, api_sign
from ..models.platforms.orders import ApiError, ApiSettings, Token
from .common import ApiSandboxCase, MemoryTokenStore, RecordingSession, at, utc

# -- Known answer ---------------------------------------------------------------------
# sign = base64(HMAC_SHA256(key=signSecret, msg=the seven parameters sorted by key, k=v
# joined by & + "&signSecret=" + signSecret)), on the values before URL encoding:
#   T='access_token=ks-kat-token&appkey=ks-kat-app&method=open.order.detail&param={"oid":2410301234567890123}&signMethod=HMAC_SHA256&timestamp=1795000000000&version=1&signSecret=ks-kat-sign'
#   printf '%s' "$T" | openssl dgst -sha256 -hmac ks-kat-sign -binary | openssl base64
KS_KAT_PARAMS = {"appkey": "ks-kat-app", "method": "open.order.detail", "version": "1",
                 "param": '{"oid":2410301234567890123}', "access_token": "ks-kat-token",
                 "timestamp": "1795000000000", "signMethod": "HMAC_SHA256"}
KS_KAT_SIGN = "AmUTrZPQ+jHS0LAXvZLrNWyFwAShhBCoXeb8l0O395M="

ORDER = "2410301234567890123"


@tagged("post_install", "-at_install")
class TestKuaishouShopClient(ApiSandboxCase):
    platform = "kuaishou_shop"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox.add_order(
            "kuaishou_shop", ORDER, status="paid", buyer="ks-buyer-open-id", buyer_nickname="快手小鹿",
            lines=[{"sku": "2090001234", "merchant_code": "LC-EAR-05", "name": "蓝牙耳机", "quantity": 3,
                    "unit_price": 23910, "discount": 1500}],
            shipping_fee=0, discount=1000, platform_discount=2000, room_id="5100200300", host_ref="8800123",
            host_name="达人阿杰", created_at=1795000000, paid_at=1795000030, updated_at=1795000090,
            address={"name": "李*", "phone": "138****1234", "province": "广东省", "city": "深圳市",
                     "district": "南山区", "street": "科技园****"})
        cls.sandbox.add_order("kuaishou_shop", "2410301234567890124", status="shipped", buyer="ks-buyer-2",
                              lines=[{"sku": "1", "quantity": 1, "unit_price": 990}],
                              shipments=[{"tracking_ref": "YT100200300", "carrier": "6"}])
        cls.sandbox.add_refund("kuaishou_shop", "2410309876543210987", ORDER, 23410, state="succeeded",
                               lines=[["2090001234", 1]], reason="质量问题")
        cls.sandbox.add_refund("kuaishou_shop", "2410309876543210988", ORDER, 23410, state="closed",
                               return_goods=True, lines=[["2090001234", 1]])

    def test_signature_is_the_known_answer(self):
        self.assertEqual(api_sign(KS_KAT_PARAMS, "ks-kat-sign"), KS_KAT_SIGN)

    def test_request_sent_is_the_known_answer(self):
        session = RecordingSession({"result": 1, "data": {"orderBaseInfo": {"oid": int(ORDER), "status": 30}}})
        client = KuaishouShopClient(
            ApiSettings("https://openapi.kwaixiaodian.com", "ks-kat-app", "ks-app-secret", sign_secret="ks-kat-sign"),
            MemoryTokenStore(Token("ks-kat-token", 1795003600)), session=session)
        with at(1795000000):
            self.assertEqual(client.fetch_order(ORDER).status, "paid")
        self.assertEqual(session.sent[0].url.split("?")[0], "https://openapi.kwaixiaodian.com/open/order/detail")
        self.assertEqual(session.query(), dict(KS_KAT_PARAMS, sign=KS_KAT_SIGN))

    def test_live_room_order(self):
        order = self._client().fetch_order(ORDER)
        self.assertEqual((order.order_ref, order.status), (ORDER, "paid"))
        self.assertEqual([(line.sku, line.merchant_code, line.quantity, line.unit_price, line.discount)
                          for line in order.lines], [("2090001234", "LC-EAR-05", 3, 23910, 1500)])
        self.assertEqual((order.shipping_fee, order.discount, order.platform_discount, order.paid),
                         (0, 1000, 2000, 3 * 23910 - 1500 - 1000 - 2000))
        self.assertEqual((order.created_at, order.paid_at, order.updated_at), (1795000000, 1795000030, 1795000090),
                         "milliseconds to seconds")
        self.assertEqual((order.buyer.id_type, order.buyer.id, order.buyer.nickname),
                         ("buyer_open_id", "ks-buyer-open-id", "快手小鹿"))
        self.assertEqual((order.room_id, order.host_ref, order.host_name), ("5100200300", "8800123", "达人阿杰"),
                         "carrierType 2: the live room, and the talent")
        self.assertEqual((order.address.name, order.address.phone, order.address.street),
                         ("李*", "138****1234", "科技园****"), "desensitised values, as received")

    def test_shipped_order_outside_a_live_room(self):
        order = self._client().fetch_order("2410301234567890124")
        self.assertEqual((order.status, order.room_id, order.host_ref), ("shipped", None, None))
        self.assertEqual([(s.tracking_ref, s.carrier, s.lines) for s in order.shipments], [("YT100200300", "6", [])])

    def test_after_sales(self):
        refund = self._client().fetch_refund("2410309876543210987", ORDER)
        self.assertEqual((refund.amount, refund.state, refund.return_goods, refund.lines, refund.reason),
                         (23410, "succeeded", False, [("2090001234", 1)], "质量问题"))
        refund = self._client().fetch_refund("2410309876543210988")
        self.assertEqual((refund.state, refund.return_goods), ("closed", True))

    def test_each_refresh_keeps_the_new_refresh_token(self):
        old_access, old_refresh = self._stored_token()
        for attempt in range(2):
            # Near expiry: refresh first. The second refresh works only with the refresh
            # token the first one issued: Kuaishou's old one dies when it is used.
            self.channel.api_token_expires_at = utc(time.time() + 60)
            self.assertEqual(self._client().fetch_order(ORDER).order_ref, ORDER)
            access, refresh = self._stored_token()
            self.assertNotIn(access, (old_access, None))
            self.assertNotIn(refresh, (old_refresh, None), f"refresh {attempt + 1}: the new refresh token is saved")
            old_access, old_refresh = access, refresh
        self.assertEqual(self._calls(), [("token", "ok"), ("order", "ok")] * 2)
        self.assertGreater(self.channel.sudo().api_refresh_expires_at, utc(time.time() + 86400))

    def test_dead_refresh_token_is_permanent(self):
        self.channel.write({"api_refresh_token": "ks-rt-already-used", "api_token_expires_at": utc(time.time() + 60)})
        with self.assertRaises(ApiError) as caught:
            self._client().fetch_order(ORDER)
        self.assertEqual(caught.exception.kind, "permanent")
        self.assertIn("refreshToken.discarded", caught.exception.message)

    def test_push_names_its_order_and_after_sale(self):
        adapter = get_adapter("kuaishou_shop")
        self.assertEqual(adapter.order_reference("order.paid", {"event": "kwaishop_order_paySuccess", "info": {
            "oid": "2410301234567890123", "buyerOpenId": "b", "sellerId": 1}}), (ORDER, None))
        self.assertEqual(adapter.order_reference("refund.requested", {"event": "kwaishop_aftersales_addRefund",
                                                                      "info": {"orderId": 2410301234567890123,
                                                                               "refundId": 2410309876543210987}}),
                         (ORDER, "2410309876543210987"))
