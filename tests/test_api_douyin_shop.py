"""Douyin shop's order API client against the sandbox, and its signature checked
against known answers computed with openssl (not with our code)."""
from odoo.tests import tagged

from ..models.platforms import get_adapter
from ..models.platforms.douyin_shop import DouyinShopClient, api_sign, param_json
from ..models.platforms.orders import ApiSettings, Token
from .common import ApiSandboxCase, MemoryTokenStore, RecordingSession, at

# -- Known answers ------------------------------------------------------------------
# sign = hex(HMAC_SHA256(key=SECRET, msg=SECRET + "app_key"KEY"method"METHOD"param_json"
# PARAM_JSON"timestamp"TS"v2" + SECRET)), param_json compact with its keys sorted at
# every level. With PJ the text below:
#   printf '%s' "dy-kat-secretapp_keydy-kat-keymethodorder.orderDetailparam_json${PJ}timestamp1795000000v2dy-kat-secret" \
#     | openssl dgst -sha256 -hmac dy-kat-secret
DY_KAT_PARAMS_TEXT = ('{"aftersale":{"name":"退货","status":[6,12],"type":1},"need_operation_record":true,'
                      '"shop_order_id":"6919412345678901234"}')
DY_KAT_SIGN = "f2cf2cf756b8958053e5a9b9df4593c1e34382f1790824805782dcdaa7279980"
# The request fetch_order("6919412345678901234") sends at 1795000000, PJ='{"shop_order_id":"6919412345678901234"}':
#   (same command)
DY_KAT_ORDER_SIGN = "e82166021ba3c075323b5827f52c83dedf0de9bb00133230e5cc2583c9ddd922"

ORDER = "6919412345678901234"
ADDRESS = {"name": "张**", "phone": "1**********88", "province": "浙江省", "city": "杭州市", "district": "西湖区",
           "street": "文三路***号"}


@tagged("post_install", "-at_install")
class TestDouyinShopClient(ApiSandboxCase):
    platform = "douyin_shop"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox.add_order(
            "douyin_shop", ORDER, status="shipped", platform_status=101, buyer="dy-open-id-1", address=ADDRESS,
            lines=[{"sku": "1768301234567", "merchant_code": "LC-SCARF-01", "name": "羊绒围巾", "quantity": 2,
                    "unit_price": 31910, "discount": 2000, "line_ref": "6919412345678901235"},
                   {"sku": "1768309999999", "merchant_code": "LC-CUP-02", "name": "保温杯", "quantity": 1,
                    "unit_price": 10310, "line_ref": "6919412345678901236"}],
            shipping_fee=600, discount=500, platform_discount=1000, room_id="7301002123456789012",
            host_ref="98765432101", host_name="主播小鹿", created_at=1795000000, paid_at=1795000060,
            updated_at=1795000600,
            shipments=[{"tracking_ref": "SF1234567890", "carrier": "顺丰速运", "lines": [["1768301234567", 2]],
                        "shipped_at": 1795000500}])
        cls.sandbox.add_order("douyin_shop", "6919412345678900001", status="cancelled", buyer="dy-open-id-2",
                              lines=[{"sku": "1", "quantity": 1, "unit_price": 100}], cancel_reason="不想要了")
        cls.sandbox.add_refund("douyin_shop", "7260541234567890123", ORDER, 31910 - 1000, state="succeeded",
                               return_goods=True, lines=[["1768301234567", 1]], reason="尺码不合适")
        cls.sandbox.add_refund("douyin_shop", "7260541234567890124", ORDER, 10310, state="requested",
                               lines=[["1768309999999", 1]])

    def test_param_json_sorted_and_signed_as_the_known_answer(self):
        # Built out of order on purpose: only a recursive sort gives the platform's text.
        params = {"shop_order_id": "6919412345678901234", "need_operation_record": True,
                  "aftersale": {"type": 1, "status": [6, 12], "name": "退货"}}
        self.assertEqual(param_json(params), DY_KAT_PARAMS_TEXT)
        self.assertEqual(api_sign("dy-kat-key", "dy-kat-secret", "order.orderDetail", "1795000000",
                                  param_json(params)), DY_KAT_SIGN)

    def test_request_sent_is_the_known_answer(self):
        session = RecordingSession({"code": 10000, "msg": "success", "data": {"shop_order_detail": {
            "order_id": ORDER, "order_status": 2, "sku_order_list": []}}})
        client = DouyinShopClient(ApiSettings("https://openapi-fxg.jinritemai.com", "dy-kat-key", "dy-kat-secret"),
                                  MemoryTokenStore(Token("dy-kat-token", 1795003600)), session=session)
        with at(1795000000):
            self.assertEqual(client.fetch_order(ORDER).status, "paid")
        request, query = session.sent[0], session.query()
        self.assertEqual((request.method, request.url.split("?")[0]),
                         ("POST", "https://openapi-fxg.jinritemai.com/order/orderDetail"))
        self.assertEqual(request.body, b'{"shop_order_id":"6919412345678901234"}', "byte-identical to what is signed")
        self.assertEqual(query, {"app_key": "dy-kat-key", "method": "order.orderDetail", "timestamp": "1795000000",
                                 "v": "2", "sign_method": "hmac-sha256", "access_token": "dy-kat-token",
                                 "sign": DY_KAT_ORDER_SIGN})

    def test_live_room_order(self):
        order = self._client().fetch_order(ORDER)
        self.assertEqual((order.order_ref, order.status), (ORDER, "shipped"), "101 partly shipped counts as shipped")
        self.assertEqual([(line.sku, line.merchant_code, line.quantity, line.unit_price, line.discount, line.line_ref)
                          for line in order.lines],
                         [("1768301234567", "LC-SCARF-01", 2, 31910, 2000, "6919412345678901235"),
                          ("1768309999999", "LC-CUP-02", 1, 10310, 0, "6919412345678901236")])
        self.assertEqual((order.shipping_fee, order.discount, order.platform_discount, order.paid),
                         (600, 500, 1000, 2 * 31910 - 2000 + 10310 - 500 - 1000 + 600))
        self.assertEqual((order.created_at, order.paid_at, order.updated_at), (1795000000, 1795000060, 1795000600))
        self.assertEqual((order.buyer.platform, order.buyer.id_type, order.buyer.id),
                         ("douyin_shop", "open_id", "dy-open-id-1"))
        self.assertEqual((order.room_id, order.host_ref, order.host_name),
                         ("7301002123456789012", "98765432101", "主播小鹿"))
        self.assertEqual((order.address.name, order.address.phone, order.address.street),
                         ("张**", "1**********88", "文三路***号"), "masked values kept as received")
        self.assertEqual((order.address.province, order.address.city, order.address.district),
                         ("浙江省", "杭州市", "西湖区"))
        self.assertEqual([(s.tracking_ref, s.carrier, s.lines, s.shipped_at) for s in order.shipments],
                         [("SF1234567890", "顺丰速运", [("1768301234567", 2)], 1795000500)])

    def test_cancelled_order_has_its_reason(self):
        order = self._client().fetch_order("6919412345678900001")
        self.assertEqual((order.status, order.cancel_reason, order.room_id), ("cancelled", "不想要了", None))

    def test_after_sales(self):
        refund = self._client().fetch_refund("7260541234567890123", ORDER)
        self.assertEqual((refund.refund_ref, refund.amount, refund.state, refund.return_goods, refund.lines,
                          refund.reason),
                         ("7260541234567890123", 30910, "succeeded", True, [("1768301234567", 1)], "尺码不合适"))
        refund = self._client().fetch_refund("7260541234567890124")
        self.assertEqual((refund.amount, refund.state, refund.return_goods, refund.lines),
                         (10310, "requested", False, [("1768309999999", 1)]))

    def test_push_names_its_order_and_after_sale(self):
        adapter = get_adapter("douyin_shop")
        self.assertEqual(adapter.order_reference("order.paid", {"tag": "101", "msg_id": "m", "data": {
            "p_id": 6919412345678901234, "s_ids": [6919412345678901235], "shop_id": 1}}), (ORDER, None))
        self.assertEqual(adapter.order_reference("refund.requested", {"tag": "200", "msg_id": "m", "data": {
            "p_id": "6919412345678901234", "aftersale_id": 7260541234567890123, "aftersale_type": 0}}),
            (ORDER, "7260541234567890123"))
        self.assertEqual(adapter.order_reference("order.paid", {"tag": "101", "data": "not parsed"}), (None, None))
