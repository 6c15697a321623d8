"""WeChat Channels shop's order API client against the sandbox. WeChat signs no API
request: the app's access token (client_credential, /cgi-bin/stable_token) is all."""
import json

from odoo.tests import tagged

from ..models.platforms import get_adapter
from ..models.platforms.orders import ApiSettings, Token
from ..models.platforms.wechat_channels_shop import WechatChannelsShopClient
from .common import ApiSandboxCase, MemoryTokenStore, RecordingSession, at

ORDER = "3729145627718289152"  # beyond 2^53: as a float it would read 3729145627718289408


@tagged("post_install", "-at_install")
class TestWechatChannelsShopClient(ApiSandboxCase):
    platform = "wechat_channels_shop"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox.add_order(
            "wechat_channels_shop", ORDER, status="shipped", platform_status=21, buyer="o_buyer_openid",
            union_id="o_union_id", address={"name": "王**", "phone": "139****5678", "province": "上海市",
                                            "city": "上海市", "district": "浦东新区", "street": "世纪大道***号",
                                            "zip": "200120"},
            lines=[{"sku": "1800123456", "merchant_code": "LC-TEA-06", "name": "白茶饼", "quantity": 4,
                    "unit_price": 20630, "discount": 630},
                   {"sku": "1800123457", "name": "茶具", "quantity": 1, "unit_price": 5000}],
            shipping_fee=1000, discount=2000, platform_discount=500, room_id="export/UzFfAgtgekIEAQAAAAAA",
            host_ref="sphABCDEF", created_at=1795000000, paid_at=1795000010, updated_at=1795000500,
            shipments=[{"tracking_ref": "JD0012345678", "carrier": "JD", "lines": [["1800123456", 2]],
                        "shipped_at": 1795000400}])
        cls.sandbox.add_refund("wechat_channels_shop", "4200000123456789012", ORDER, 20000, state="succeeded",
                               return_goods=True, lines=[["1800123456", 1]], reason="包装破损")
        cls.sandbox.add_refund("wechat_channels_shop", "4200000123456789013", ORDER, 5000, state="requested",
                               lines=[["1800123457", 1]])

    def test_order_with_a_big_id_from_a_live_room(self):
        order = self._client().fetch_order(ORDER)
        self.assertEqual(order.order_ref, ORDER, "the id's digits, exactly, though WeChat sends a JSON number")
        self.assertEqual(order.status, "shipped", "21 partly shipped counts as shipped")
        self.assertEqual([(line.sku, line.merchant_code, line.quantity, line.unit_price, line.discount)
                          for line in order.lines],
                         [("1800123456", "LC-TEA-06", 4, 20630, 630), ("1800123457", None, 1, 5000, 0)])
        self.assertEqual((order.shipping_fee, order.discount, order.platform_discount, order.paid),
                         (1000, 2000, 500, 4 * 20630 - 630 + 5000 - 2000 - 500 + 1000))
        self.assertEqual((order.buyer.id_type, order.buyer.id), ("open_id", "o_buyer_openid"))
        self.assertEqual([(fan.id_type, fan.id) for fan in order.other_identities], [("union_id", "o_union_id")])
        self.assertEqual((order.room_id, order.host_ref), ("export/UzFfAgtgekIEAQAAAAAA", "sphABCDEF"))
        self.assertEqual((order.address.name, order.address.phone, order.address.street, order.address.zip),
                         ("王**", "139****5678", "世纪大道***号", "200120"))
        self.assertEqual([(s.tracking_ref, s.carrier, s.lines) for s in order.shipments],
                         [("JD0012345678", "JD", [("1800123456", 2)])])
        self.assertEqual((order.created_at, order.paid_at), (1795000000, 1795000010))

    def test_after_sales(self):
        refund = self._client().fetch_refund("4200000123456789012", ORDER)
        self.assertEqual((refund.refund_ref, refund.amount, refund.state, refund.return_goods, refund.lines,
                          refund.reason),
                         ("4200000123456789012", 20000, "succeeded", True, [("1800123456", 1)], "包装破损"))
        refund = self._client().fetch_refund("4200000123456789013")
        self.assertEqual((refund.state, refund.return_goods), ("requested", False))

    def test_stable_token_forced_only_when_the_token_was_refused(self):
        for rejected in (False, True):
            session = RecordingSession({"access_token": "wx-new-token", "expires_in": 7200})
            client = WechatChannelsShopClient(ApiSettings("https://api.weixin.qq.com", "wx-app", "wx-secret"),
                                              MemoryTokenStore(), session=session)
            with at(1795000000):
                token = client._refresh(Token("wx-old", 1795000100), rejected=rejected)
            self.assertEqual((token.access_token, token.expires_at), ("wx-new-token", 1795007200))
            self.assertEqual(session.sent[0].url, "https://api.weixin.qq.com/cgi-bin/stable_token")
            self.assertEqual(json.loads(session.sent[0].body), {
                "grant_type": "client_credential", "appid": "wx-app", "secret": "wx-secret",
                "force_refresh": rejected})

    def test_push_names_its_order_and_after_sale(self):
        adapter = get_adapter("wechat_channels_shop")
        self.assertEqual(adapter.order_reference("order.paid", {"Event": "channels_ec_order_pay", "order_info": {
            "order_id": "3729145627718289152", "pay_time": 1795000000}}), (ORDER, None))
        self.assertEqual(adapter.order_reference("refund.updated", {
            "Event": "channels_ec_aftersale_update", "finder_shop_aftersale_status_update": {
                "after_sale_order_id": "4200000123456789012", "status": "MERCHANT_PROCESSING",
                "order_id": "3729145627718289152"}}), (ORDER, "4200000123456789012"))
