"""TikTok Shop's order API client against the sandbox, and its signature checked
against a public SDK's test and known answers computed with openssl."""
from odoo.tests import tagged

from ..models.platforms import get_adapter
from ..models.platforms.orders import ApiError, ApiSettings, Token
from ..models.platforms.tiktok_shop import TiktokShopClient, api_sign, minor_units
from .common import ApiSandboxCase, MemoryTokenStore, RecordingSession, at

# -- Known answers ----------------------------------------------------------------------
# sign = hex(HMAC_SHA256(key=app_secret, msg=app_secret + path + sorted {key}{value} of the
# query but sign and access_token + raw body + app_secret)).
# EcomPHP/tiktokshop-php tests/ClientTest.php testPrepareSignature: Client('app_key',
# 'app_secret'), GET /test-api with params foo=bar -> this sign.
TT_SDK_SIGN = "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
# The requests the client sends at 1795000000 (app tt-kat-app, secret tt-kat-secret, cipher GCP_kat):
#   printf '%s' "tt-kat-secret/order/202309/ordersapp_keytt-kat-appids576684019603311365shop_cipherGCP_kattimestamp1795000000tt-kat-secret" \
#     | openssl dgst -sha256 -hmac tt-kat-secret
TT_KAT_ORDER_SIGN = "cd8e6fb70bb97f8874cd48e441b1a02819889e0867b5b1044469a52b4f050ff0"
#   B='{"return_ids":["4035318504387641111"]}'
#   printf '%s' "tt-kat-secret/return_refund/202309/returns/searchapp_keytt-kat-apppage_size10shop_cipherGCP_kattimestamp1795000000${B}tt-kat-secret" \
#     | openssl dgst -sha256 -hmac tt-kat-secret
TT_KAT_RETURNS_SIGN = "55860c806f60b234468a45a76406615178fdc7130c6deafecadf2d8b00f3e6c7"

ORDER = "576684019603311365"


@tagged("post_install", "-at_install")
class TestTiktokShopClient(ApiSandboxCase):
    platform = "tiktok_shop"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sandbox.add_order(
            "tiktok_shop", ORDER, status="shipped", platform_status="PARTIALLY_SHIPPING", currency="USD",
            buyer="7494726673780148744",
            lines=[{"sku": "1729382476852921560", "merchant_code": "LC-SCARF-01", "name": "Cashmere Scarf",
                    "quantity": 3, "unit_price": 1999, "discount": 100},
                   {"sku": "1729382476852921561", "merchant_code": "LC-CUP-02", "name": "Thermos Cup",
                    "quantity": 1, "unit_price": 1031}],
            shipping_fee=499, discount=200, platform_discount=150, created_at=1795000000, paid_at=1795000020,
            updated_at=1795000300,
            address={"name": "J*** D**", "phone": "(+1)213*****21", "province": "California", "city": "Los Angeles",
                     "district": "", "street": "1*** W*** St", "zip": "90012"},
            shipments=[{"tracking_ref": "9400111899223344556677", "carrier": "USPS",
                        "lines": [["1729382476852921560", 2]]}])
        cls.sandbox.add_order("tiktok_shop", "576684019603311366", status="paid", currency="JPY",
                              buyer="7494726673780148745", lines=[{"sku": "1", "quantity": 2, "unit_price": 1990}])
        cls.sandbox.add_refund("tiktok_shop", "4035318504387641111", ORDER, 3798, state="succeeded",
                               return_goods=True, lines=[["1729382476852921560", 2]], currency="USD",
                               reason="Wrong size")
        cls.sandbox.add_refund("tiktok_shop", "4035318504387642222", ORDER, 1031, state="requested",
                               kind="cancellation", lines=[["1729382476852921561", 1]], currency="USD")

    def _recording_client(self, answer):
        session = RecordingSession(answer)
        client = TiktokShopClient(ApiSettings("https://open-api.tiktokglobalshop.com", "tt-kat-app", "tt-kat-secret",
                                              shop_cipher="GCP_kat"),
                                  MemoryTokenStore(Token("tt-kat-token", 1795003600)), session=session)
        return client, session

    def test_signature_is_the_sdk_known_answer(self):
        self.assertEqual(api_sign("app_secret", "/test-api", {"foo": "bar"}), TT_SDK_SIGN)

    def test_requests_sent_are_the_known_answers(self):
        client, session = self._recording_client({"code": 0, "data": {"orders": [{
            "id": ORDER, "status": "UNPAID", "payment": {"currency": "USD", "total_amount": "19.99"}}]}})
        with at(1795000000):
            self.assertEqual(client.fetch_order(ORDER).status, "created")
        self.assertEqual((session.sent[0].method, session.sent[0].url.split("?")[0]),
                         ("GET", "https://open-api.tiktokglobalshop.com/order/202309/orders"))
        self.assertEqual(session.query(), {"ids": ORDER, "app_key": "tt-kat-app", "timestamp": "1795000000",
                                           "shop_cipher": "GCP_kat", "sign": TT_KAT_ORDER_SIGN})
        self.assertEqual(session.sent[0].headers["x-tts-access-token"], "tt-kat-token")

        client, session = self._recording_client({"code": 0, "data": {"return_orders": [{
            "return_id": "4035318504387641111", "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            "return_type": "REFUND", "refund_amount": {"currency": "USD", "refund_total": "10.00"}}]}})
        with at(1795000000):
            self.assertEqual(client.fetch_refund("4035318504387641111").amount, 1000)
        self.assertEqual(session.sent[0].body, b'{"return_ids":["4035318504387641111"]}')
        self.assertEqual(session.query()["sign"], TT_KAT_RETURNS_SIGN)

    def test_one_line_item_per_unit_becomes_quantities(self):
        order = self._client().fetch_order(ORDER)
        self.assertEqual((order.order_ref, order.status, order.currency), (ORDER, "shipped", "USD"))
        self.assertEqual([(line.sku, line.merchant_code, line.quantity, line.unit_price, line.discount)
                          for line in order.lines],
                         [("1729382476852921560", "LC-SCARF-01", 3, 1999, 100),
                          ("1729382476852921561", "LC-CUP-02", 1, 1031, 0)])
        self.assertEqual(len(order.lines[0].line_ref.split(",")), 3, "the three line items it stands for")
        self.assertEqual((order.shipping_fee, order.discount, order.platform_discount, order.paid),
                         (499, 200, 150, 3 * 1999 - 100 + 1031 - 200 - 150 + 499), "decimal strings to cents, exactly")
        self.assertEqual((order.buyer.id_type, order.buyer.id), ("user_id", "7494726673780148744"))
        self.assertEqual((order.room_id, order.host_ref), (None, None), "TikTok orders name no live room")
        self.assertEqual([(s.tracking_ref, s.carrier, s.lines) for s in order.shipments],
                         [("9400111899223344556677", "USPS", [("1729382476852921560", 2)])])
        self.assertEqual((order.address.name, order.address.phone, order.address.province, order.address.zip),
                         ("J*** D**", "(+1)213*****21", "California", "90012"))

    def test_zero_decimal_currency(self):
        order = self._client().fetch_order("576684019603311366")
        self.assertEqual((order.currency, order.lines[0].quantity, order.lines[0].unit_price, order.paid),
                         ("JPY", 2, 1990, 3980), "yen are the smallest unit")

    def test_amounts_are_exact_or_refused(self):
        self.assertEqual(minor_units("0.29", "USD"), 29)
        self.assertEqual(minor_units("1234567890123.45", "USD"), 123456789012345)
        with self.assertRaises(ApiError):
            minor_units("1.005", "USD")

    def test_return_and_cancellation(self):
        refund = self._client().fetch_refund("4035318504387641111", ORDER)
        self.assertEqual((refund.amount, refund.state, refund.return_goods, refund.lines, refund.reason),
                         (3798, "succeeded", True, [("1729382476852921560", 2)], "Wrong size"),
                         "one return line per unit, counted per SKU")
        self.assertEqual(self._calls("refund"), [("refund", "ok")])
        refund = self._client().fetch_refund("4035318504387642222")
        self.assertEqual((refund.amount, refund.state, refund.return_goods, refund.lines),
                         (1031, "requested", False, [("1729382476852921561", 1)]))
        self.assertEqual([call["path"] for call in self.sandbox.calls_to("tiktok_shop", "refund")][1:], [
            "/return_refund/202309/returns/search", "/return_refund/202309/cancellations/search"])

    def test_push_names_its_order_and_after_sale(self):
        adapter = get_adapter("tiktok_shop")
        self.assertEqual(adapter.order_reference("order.paid", {"type": 1, "data": {"order_id": ORDER}}),
                         (ORDER, None))
        self.assertEqual(adapter.order_reference("refund.updated", {"type": 12, "data": {
            "order_id": ORDER, "return_id": "4035318504387641111", "return_status": "AWAITING_BUYER_SHIP"}}),
            (ORDER, "4035318504387641111"))
        self.assertEqual(adapter.order_reference("refund.updated", {"type": 11, "data": {
            "order_id": ORDER, "cancel_id": "4035318504387642222"}}), (ORDER, "4035318504387642222"))
