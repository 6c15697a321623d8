"""WeChat Channels shop (视频号小店 / 微信小店), secure JSON mode.

GET ?signature&timestamp&nonce&echostr verifies the URL: sha1 of the sorted
token/timestamp/nonce, then echostr is returned as is. POST carries msg_signature =
sha1 of the sorted token/timestamp/nonce/Encrypt; Encrypt is AES-256-CBC with key =
base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 over 32-byte blocks, and the
plaintext is 16 random bytes + 4-byte big-endian length + message + appid.
order_id exceeds 2^53: it is kept as a string.

Binding: the appid that ends the plaintext must be the channel's App Key (one
EncodingAESKey may be configured for several apps), and the signed `timestamp` must
be within the replay window, on POST and on the GET verification.
"""
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import time
from datetime import datetime, timedelta, timezone

from .base import (Adapter, Fan, InboxEvent, Rejected, Reply, check_replay_window, constant_time_equal, exact_json,
                   register)
from .crypto import aes_cbc_decrypt, aes_cbc_encrypt, pkcs7_pad, pkcs7_unpad
from .orders import (NOT_SUPPORTED, Address, ApiClient, ApiError, OrderLine, PlatformOrder, Refund, Shipment, Token,
                     as_int, as_str, expiry, register_client)
from .orders import ListedRefund, ListPage
from .settlements import SettlementPage, SettlementRow

# What the GET verification may echo (see challenge()): WeChat sends digits.
PLAIN_ECHOSTR = re.compile(r"[A-Za-z0-9_-]{1,64}")
EVENT_TYPES = {
    "channels_ec_order_new": "order.created",
    "channels_ec_order_pay": "order.paid",
    "channels_ec_order_deliver": "order.shipped",
    "channels_ec_order_confirm": "order.completed",
    "channels_ec_order_settle": "order.updated",
    "channels_ec_order_cancel": "order.cancelled",
    "channels_ec_order_ext_info_update": "order.updated",
    "channels_ec_aftersale_update": "refund.updated",
}


def sha1_signature(*parts):
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def _key(creds):
    try:
        key = base64.b64decode((creds.encoding_aes_key or "") + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise Rejected(401, "The channel's EncodingAESKey is not a 43-character key")
    return key


def decrypt(creds, encrypted):
    key = _key(creds)
    try:
        plain = pkcs7_unpad(aes_cbc_decrypt(key, key[:16], base64.b64decode(encrypted, validate=True)), 32)
        (length,) = struct.unpack(">I", plain[16:20])
        message, appid = plain[20:20 + length], plain[20 + length:].decode()
    except (binascii.Error, ValueError, struct.error, UnicodeDecodeError):
        raise Rejected(401, "Encrypt does not decrypt with the channel's EncodingAESKey") from None
    if not creds.app_key or appid != creds.app_key:
        raise Rejected(401, "The message is for another appid than the channel's App Key")
    return message


def encrypt(creds, message, random16=None):
    key = _key(creds)
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + (creds.app_key or "").encode()
    return base64.b64encode(aes_cbc_encrypt(key, key[:16], pkcs7_pad(plain, 32))).decode()


@register
class WechatChannelsShopAdapter(Adapter):
    platform = "wechat_channels_shop"

    def challenge(self, creds, request):
        # The docs (developers.weixin.qq.com/doc/channels/API/basics/message_push.html,
        # "验证消息的确来自微信服务器") sign only token, timestamp and nonce, and ask for
        # echostr back "as is". echostr is not signed: with one captured signature
        # triple anyone could make this URL answer content of their choosing. So the
        # triple is only good within the replay window, echostr must be a short plain
        # token (the docs' example is digits, 4375120948345356249), and when a
        # msg_signature comes along (as in the secure-mode verification of other WeChat
        # products) it must sign the echostr too.
        query = request.query
        if not creds.token:
            raise Rejected(401, "The channel has no token configured")
        timestamp, nonce, echostr = query.get("timestamp", ""), query.get("nonce", ""), query.get("echostr", "")
        if not constant_time_equal(query.get("signature", ""), sha1_signature(creds.token, timestamp, nonce)):
            raise Rejected(401, "Bad signature")
        if "msg_signature" in query and not constant_time_equal(
                query["msg_signature"], sha1_signature(creds.token, timestamp, nonce, echostr)):
            raise Rejected(401, "Bad msg_signature")
        check_replay_window(timestamp)
        if not PLAIN_ECHOSTR.fullmatch(echostr):
            raise Rejected(401, "echostr is not a plain token (at most 64 letters, digits, '-' or '_')")
        return Reply(200, echostr.encode(), "text/plain")

    def parse(self, creds, request):
        query = request.query
        if not creds.token:
            raise Rejected(401, "The channel has no token configured")
        body = self.load_json(request.body)
        encrypted = body.get("Encrypt") if isinstance(body, dict) else None
        if not isinstance(encrypted, str):
            raise Rejected(400, "The body has no 'Encrypt' field")
        expected = sha1_signature(creds.token, query.get("timestamp", ""), query.get("nonce", ""), encrypted)
        if not constant_time_equal(query.get("msg_signature", ""), expected):
            raise Rejected(401, "Bad signature")
        check_replay_window(query.get("timestamp"))
        try:
            message = exact_json(decrypt(creds, encrypted).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "The decrypted message is not JSON") from None
        if not isinstance(message, dict) or not message.get("Event"):
            raise Rejected(400, "The decrypted message has no 'Event'")
        order_info = message.get("order_info") or {}
        if isinstance(order_info, dict) and "order_id" in order_info:
            order_info["order_id"] = str(order_info["order_id"])
        key = order_info.get("order_id") if isinstance(order_info, dict) else None
        # After-sale updates carry finder_shop_aftersale_status_update {after_sale_order_id,
        # status, order_id} (WxJava AfterSaleMessage); without its id in the key, two
        # after-sales updated in the same second would be taken for one.
        aftersale = message.get("finder_shop_aftersale_status_update") or message.get("aftersale_info")
        if isinstance(aftersale, dict) and "after_sale_order_id" in aftersale:
            aftersale["after_sale_order_id"] = str(aftersale["after_sale_order_id"])
            key = key or aftersale["after_sale_order_id"]
        key = key or ""
        create_time = message.get("CreateTime")
        event_type = EVENT_TYPES.get(message["Event"], f"wechat.{message['Event']}")
        return [InboxEvent.make(f"{message['Event']}:{key}:{create_time}", event_type, message, None,
                                create_time if isinstance(create_time, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b"success", "text/plain")

    def reject(self, rejected):
        return Reply(rejected.status, rejected.message.encode(), "text/plain")

    def sign(self, creds, body, timestamp=None, nonce="415670741", **kwargs):
        timestamp = timestamp or str(int(time.time()))
        encrypted = encrypt(creds, body)
        query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "openid": kwargs.get("openid", ""),
                 "signature": sha1_signature(creds.token, timestamp, nonce),
                 "msg_signature": sha1_signature(creds.token, timestamp, nonce, encrypted)}
        return {"Content-Type": "application/json"}, query, json.dumps(
            {"ToUserName": kwargs.get("to_user", "gh_shop"), "Encrypt": encrypted}).encode()

    def order_reference(self, event_type, payload):
        if not isinstance(payload, dict):
            return None, None
        aftersale = payload.get("finder_shop_aftersale_status_update") or payload.get("aftersale_info") or {}
        order_info = payload.get("order_info") or {}
        order_ref = order_info.get("order_id") if isinstance(order_info, dict) else None
        if isinstance(aftersale, dict):
            order_ref = order_ref or aftersale.get("order_id")
            return as_str(order_ref), as_str(aftersale.get("after_sale_order_id"))
        return as_str(order_ref), None


# -- Order API (微信小店) -------------------------------------------------------------
# POST {base}{path}?access_token=...; JSON in and out, no request signature. The access
# token is the app's own (client_credential), from /cgi-bin/stable_token: in its normal
# mode it hands out the current token and a new one only in its last 5 minutes, so the
# client refreshes within that window; force_refresh (20 a day) only when the API has
# just refused the token. Order ids exceed 2^53: parsed exactly, kept as text.
ORDER_STATUSES = {10: "created", 20: "paid", 21: "shipped", 30: "shipped", 100: "completed", 200: "cancelled",
                  250: "cancelled"}
TOKEN_ERRORS = {40001, 40014, 42001}
RATE_LIMIT_ERRORS = {45009: None, 45011: 60}  # daily quota; per-minute limit
NOT_FOUND_ERRORS = {100002}
TRANSIENT_ERRORS = {-1}
REFUND_SUCCEEDED = {"MERCHANT_REFUND_SUCCESS", "MERCHANT_RETURN_SUCCESS"}
RETURN_TYPES = {"RETURN", "EXCHANGE", "RESHIP"}  # REFUND is refund only
REFUND_CLOSED = {"USER_CANCELD", "MERCHANT_REJECT_REFUND", "MERCHANT_REJECT_RETURN", "RETURN_CLOSED",
                 "MERCHANT_EXCHANGE_SUCCESS",  # exchanged: no money back
                 "MERCHANT_REJECT_EXCHANGE", "MERCHANT_REJECT_RESHIP"}
AFTERSALE_KINDS = {"REFUND": "refund", "RETURN": "return_refund", "EXCHANGE": "exchange", "RESHIP": "resend"}
AFTERSALE_STAGES = {
    "MERCHANT_PROCESSING": "seller", "WAIT_PACKAGE_INTERCEPT": "seller", "MERCHANT_REFUND_RETRY_FAIL": "seller",
    "MERCHANT_FAIL": "seller", "USER_WAIT_RETURN": "buyer_return", "MERCHANT_WAIT_RECEIPT": "seller_receipt",
    "USER_WAIT_CONFIRM": "buyer", "USER_WAIT_CONFIRM_UPDATE": "buyer", "USER_WAIT_HANDLE_MERCHANT_AFTER_SALE": "buyer",
    "USER_WAIT_RECEIPT": "buyer", "PLATFORM_REFUNDING": "refunding", "MERCHANT_OVERDUE_REFUND": "refunding",
    "PLATFORM_REFUND_FAIL": "platform", "MERCHANT_REFUND_SUCCESS": "done", "MERCHANT_RETURN_SUCCESS": "done",
    "MERCHANT_EXCHANGE_SUCCESS": "done", **{status: "closed" for status in REFUND_CLOSED
                                           if status != "MERCHANT_EXCHANGE_SUCCESS"}}


def _check(document, what):
    code = as_int(document.get("errcode"), 0)
    if code == 0:
        return document
    message = f"WeChat {what}: {code} {document.get('errmsg') or ''}".strip()
    if code in TOKEN_ERRORS:
        raise ApiError("token", message, code=code)
    if code in RATE_LIMIT_ERRORS:
        raise ApiError("rate_limit", message, code=code, retry_after=RATE_LIMIT_ERRORS[code])
    if code in TRANSIENT_ERRORS:
        raise ApiError("transient", message, code=code)
    if code in NOT_FOUND_ERRORS:
        raise ApiError("not_found", message, code=code)
    raise ApiError("permanent", message, code=code)  # 40013 bad appid, 40125 bad secret, 48001 no permission, ...


@register_client
class WechatChannelsShopClient(ApiClient):
    platform = "wechat_channels_shop"
    refresh_margin = 240

    def _post(self, path, body, query=None):
        _status, _headers, document = self._http(
            "POST", f"{self.settings.base_url.rstrip('/')}{path}", params=query,
            data=json.dumps(body, ensure_ascii=False).encode(), headers={"Content-Type": "application/json"})
        return _check(document, path)

    def _refresh(self, token, rejected=False):
        now = time.time()
        document = self._post("/cgi-bin/stable_token", {
            "grant_type": "client_credential", "appid": self.settings.app_key, "secret": self.settings.app_secret,
            "force_refresh": bool(rejected)})
        if not document.get("access_token"):
            raise ApiError("transient", "WeChat stable_token answered without an access_token")
        return Token(document["access_token"], expiry(now, document.get("expires_in")) or now + 7200)

    def fetch_order(self, order_ref):
        document = self._with_token(lambda access: self._post(
            "/channels/ec/order/get", {"order_id": str(order_ref)}, {"access_token": access}))
        if not document.get("order"):
            raise ApiError("not_found", f"WeChat order/get: no order {order_ref}")
        return self._mapped("WeChat order/get", order_from_document, document["order"])

    def fetch_refund(self, refund_ref, order_ref=None):
        document = self._with_token(lambda access: self._post(
            "/channels/ec/aftersale/getaftersaleorder", {"after_sale_order_id": str(refund_ref)},
            {"access_token": access}))
        if not document.get("after_sale_order"):
            raise ApiError("not_found", f"WeChat getaftersaleorder: no after-sale {refund_ref}")
        return self._mapped("WeChat getaftersaleorder", refund_from_document, document["after_sale_order"])

    # -- stock levels: product/stock/update with diff_type 1 (add) / 2 (subtract) ----
    # diff_type 3 (set) exists, but ../shared/docs/platform-apis.md: the SDK advises
    # 1 / 2 because 3 misbehaves under concurrency. The stock read's answer shape is
    # not documented there: the level last sent stands in for it.
    stock_mode = "increment"

    def add_stock(self, item, delta, request_id):
        if not item.product_ref:
            raise ApiError("permanent", f"WeChat: SKU {item.sku} has no platform product id")
        body = {"product_id": item.product_ref, "sku_id": item.sku, "diff_type": 1 if delta > 0 else 2,
                "num": abs(int(delta))}
        self._with_token(lambda access: self._post("/channels/ec/product/stock/update", body,
                                                   {"access_token": access}))

    # -- shipments: delivery/send has no idempotency key; the caller checks the
    # order's delivery_product_info before sending (idempotent_upload False).
    def list_carriers(self):
        document = self._with_token(lambda access: self._post(
            "/channels/ec/order/deliverycompanylist/get", {}, {"access_token": access}))
        return [(str(item.get("delivery_id")), item.get("delivery_name") or str(item.get("delivery_id")))
                for item in document.get("company_list") or [] if item.get("delivery_id")]

    def upload_shipment(self, order, parcel):
        self._with_token(lambda access: self._post("/channels/ec/order/delivery/send", {
            "order_id": str(order.order_ref),
            "delivery_list": [{"delivery_id": parcel.company_code, "waybill_id": parcel.tracking_ref,
                               "deliver_type": 1,
                               "product_infos": [{"product_id": line.product_ref, "sku_id": line.sku,
                                                  "product_cnt": quantity} for line, quantity in parcel.lines]}],
        }, {"access_token": access}))
        return parcel.tracking_ref  # WeChat names no parcel id: the waybill is the parcel

    @classmethod
    def buyer_message_support(cls):
        # ../shared/docs/platform-apis.md: no documented WeChat Channels shop call messages a buyer
        # or issues a coupon to one buyer.
        return NOT_SUPPORTED

    # -- the backstop: order/list/get and aftersale/getaftersalelist answer ids only,
    # windows of at most 7 days and 24 h (seconds). The after-sale list filters by
    # creation time (the documented parameters) and names no order: each after-sale
    # is read here for its order id, and handed over whole.
    order_window = 7 * 86400
    refund_window = 86400
    list_size = 100  # page_size <= 100

    def list_orders_since(self, start, end, cursor=None):
        body = {"update_time_range": {"start_time": int(start), "end_time": int(end)}, "page_size": self.list_size}
        if cursor:
            body["next_key"] = cursor
        document = self._with_token(lambda access: self._post(
            "/channels/ec/order/list/get", body, {"access_token": access}))
        orders = [as_str(ref) for ref in document.get("order_id_list") or [] if as_str(ref)]
        return ListPage(orders=orders, cursor=(document.get("next_key") or None) if document.get("has_more") else None)

    def list_refunds_since(self, start, end, cursor=None):
        body = {"begin_create_time": int(start), "end_create_time": int(end)}
        if cursor:
            body["next_key"] = cursor
        document = self._with_token(lambda access: self._post(
            "/channels/ec/aftersale/getaftersalelist", body, {"access_token": access}))
        refunds = []
        for ref in document.get("after_sale_order_id_list") or []:
            detail = self._with_token(lambda access, ref=ref: self._post(
                "/channels/ec/aftersale/getaftersaleorder", {"after_sale_order_id": str(ref)},
                {"access_token": access})).get("after_sale_order")
            if not detail or not as_str(detail.get("order_id")):
                raise ApiError("not_found", f"WeChat getaftersaleorder: no after-sale {ref}")
            refunds.append(ListedRefund(as_str(ref), as_str(detail["order_id"]),
                                        self._mapped("WeChat getaftersaleorder", refund_from_document, detail)))
        return ListPage(refunds=refunds,
                        cursor=(document.get("next_key") or None) if document.get("has_more") else None)


    # -- settlement bills: the shop's funds flows. getfundsflowlist answers the ids of
    # the flows booked in the window, page by page (pages from 1; next_key once
    # page * page_size reaches 10,000); getfundsflowdetail reads each one. Each flow
    # of an order is one bill row keyed by its flow_id: a re-import that pages
    # differently stores nothing twice, and the matching adds up an order's rows.
    settle_page_size = 100

    def list_settlements(self, start, end, cursor=None):
        page, next_key = json.loads(cursor) if cursor else (1, "")
        body = {"page": page, "page_size": self.settle_page_size, "start_time": int(start), "end_time": int(end)}
        if next_key:
            body["next_key"] = next_key
        document = self._with_token(lambda access: self._post(
            "/channels/ec/funds/getfundsflowlist", body, {"access_token": access}))
        rows = []
        for flow_id in document.get("flow_ids") or []:
            flow = self._with_token(lambda access, flow_id=flow_id: self._post(
                "/channels/ec/funds/getfundsflowdetail", {"flow_id": str(flow_id)},
                {"access_token": access})).get("funds_flow")
            if not flow:
                raise ApiError("not_found", f"WeChat getfundsflowdetail: no flow {flow_id}")
            row = self._mapped("WeChat getfundsflowdetail", settlement_from_flow, flow)
            if row:
                rows.append(row)
        more = document.get("has_more") and (document.get("flow_ids") or [])
        return SettlementPage(rows, json.dumps([page + 1, document.get("next_key") or ""]) if more else None)


def order_from_document(order):
    """order/get's `order` as a PlatformOrder (amounts in fen)."""
    status = ORDER_STATUSES.get(as_int(order.get("status"), None))
    if status is None:
        raise ApiError("permanent", f"WeChat order {order.get('order_id')}: unknown status {order.get('status')!r}")
    detail = order.get("order_detail") or {}
    lines = []
    for product in detail.get("product_infos") or []:
        code = product.get("sku_code") or product.get("out_sku_id") or None
        lines.append(OrderLine(
            sku=as_str(product.get("sku_id")) or code, quantity=as_int(product.get("sku_cnt")),
            unit_price=as_int(product.get("sale_price")), name=product.get("title") or "",
            discount=as_int(product.get("merchant_discounted_price")), merchant_code=code,
            product_ref=as_str(product.get("product_id"))))
    price = detail.get("price_info") or {}
    seller_discount = as_int(price.get("merchant_discounted_price"), None)
    seller_discount = as_int(price.get("discounted_price")) if seller_discount is None else seller_discount
    delivery = detail.get("delivery_info") or {}
    address = delivery.get("address_info") or {}
    ext = detail.get("ext_info") or order.get("ext_info") or {}
    live_id = as_str(ext.get("live_id"))
    openid, unionid = as_str(order.get("openid")), as_str(order.get("unionid"))
    return PlatformOrder(
        order_ref=str(order.get("order_id")), status=status, lines=lines, shipping_fee=as_int(price.get("freight")),
        discount=seller_discount - sum(line.discount for line in lines),
        # The talent's (达人) and the platform's coupons are not the seller's money.
        platform_discount=as_int(price.get("finder_discounted_price")) +
        as_int(price.get("cash_coupon_discounted_price")),
        paid=as_int(price.get("order_price"), None), created_at=as_int(order.get("create_time"), None) or None,
        paid_at=as_int((detail.get("pay_info") or {}).get("pay_time"), None) or None,
        updated_at=as_int(order.get("update_time"), None) or None,
        buyer=Fan("wechat_channels_shop", "open_id", openid) if openid else None,
        other_identities=[Fan("wechat_channels_shop", "union_id", unionid)] if unionid else [],
        address=Address(name=address.get("user_name") or None, phone=address.get("tel_number") or None,
                        province=address.get("province_name") or None, city=address.get("city_name") or None,
                        district=address.get("county_name") or None, street=address.get("detail_info") or None,
                        zip=address.get("postal_code") or None),
        room_id=live_id if live_id and live_id != "0" else None,
        host_ref=as_str(ext.get("finder_id")) if live_id and live_id != "0" else None,
        shipments=[Shipment(tracking_ref=str(parcel["waybill_id"]),
                            carrier=parcel.get("delivery_name") or as_str(parcel.get("delivery_id")),
                            lines=[(as_str(item.get("sku_id")), as_int(item.get("product_cnt")))
                                   for item in parcel.get("product_infos") or []],
                            shipped_at=as_int(parcel.get("delivery_time"), None) or None)
                   for parcel in delivery.get("delivery_product_info") or [] if parcel.get("waybill_id")])


def _deadline(value):
    """The after-sale's deadline in unix seconds. Its unit is not documented (the
    other times are seconds): a value in milliseconds is read as such rather than
    failing the after-sale."""
    value = as_int(value, None)
    if not value:
        return None
    return value / 1000 if value > 10**11 else value


def refund_from_document(after_sale):
    status = str(after_sale.get("status") or "")
    # Unknown statuses (the list grows) are open requests.
    state = "succeeded" if status in REFUND_SUCCEEDED else "closed" if status in REFUND_CLOSED else "requested"
    product, refund = after_sale.get("product_info") or {}, after_sale.get("refund_info") or {}
    parcel = after_sale.get("return_info") or {}
    sku, count = as_str(product.get("sku_id")), as_int(product.get("count"), None)
    return Refund(
        refund_ref=str(after_sale.get("after_sale_order_id")), amount=as_int(refund.get("amount")), state=state,
        return_goods=after_sale.get("type") in RETURN_TYPES, lines=[(sku, count)] if sku and count else [],
        # refund_reason is an enum number; reason_text is the buyer's words.
        reason=after_sale.get("reason_text") or as_str(refund.get("refund_reason")),
        kind=AFTERSALE_KINDS.get(after_sale.get("type"), "other" if after_sale.get("type") else None),
        platform_status=status or None, stage=AFTERSALE_STAGES.get(status),
        requested_at=as_int(after_sale.get("create_time"), None) or None,
        updated_at=as_int(after_sale.get("update_time"), None) or None,
        deadline=_deadline(after_sale.get("deadline")),
        return_tracking_ref=as_str(parcel.get("waybill_id")),
        return_carrier=as_str(parcel.get("delivery_name") or parcel.get("delivery_id")))


# Funds flows as bill rows (amounts in fen, like the rest of the API; the docs leave
# the unit unsure). A flow moves money in (flow_type 1) or out (2) of the shop's
# account: settle_amount is that signed amount, so an order's rows add up to what the
# merchant receives. Order income (1) is the income; the platform's commission (11) is
# the commission the channel books at completion; the other outgoing shares are fees
# kept: guide / league shares and league commissions (6, 7, 9, 10) the talent's,
# the order fee (2) and the 团长's commission (12) service fees, freight insurance and
# any other share (8, 16, 99, ...) other fees. A refund (3) takes back settled money.
# Flows of no order (withdrawals, insurance) are not bill rows.
FLOW_INCOME, FLOW_REFUND, FLOW_COMMISSION = 1, 3, 11
FLOW_FEES = {2: "service", 6: "affiliate", 7: "affiliate", 9: "affiliate", 10: "affiliate", 12: "service"}
FLOW_NOT_ORDERS = {4}  # withdrawal
RELATED_ORDER, RELATED_AFTERSALE = 1, 2


def _flow_time(value):
    """bookkeeping_time: unix seconds, or Beijing time text (the docs do not say)."""
    if value in (None, "", 0):
        return None
    if isinstance(value, int) or str(value).isdigit():
        return float(value)
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(
            tzinfo=timezone(timedelta(hours=8))).timestamp()
    except ValueError:
        return None


def settlement_from_flow(flow):
    """getfundsflowdetail's funds_flow as a SettlementRow, None for a flow of no order."""
    funds_type = as_int(flow.get("funds_type"))
    order_ref = next((as_str(info.get("order_id")) for info in flow.get("related_info_list") or []
                      if as_int(info.get("related_type"), None) in (RELATED_ORDER, RELATED_AFTERSALE)
                      and as_str(info.get("order_id"))), None)
    if not order_ref or funds_type in FLOW_NOT_ORDERS:
        return None
    flow_id = as_str(flow["flow_id"])
    if not flow_id:
        raise ValueError("no flow_id")
    amount = abs(as_int(flow.get("amount")))
    signed = amount if as_int(flow.get("flow_type")) == 1 else -amount
    row = SettlementRow(bill_ref=f"flow:{flow_id}", order_ref=order_ref,
                        settled_at=_flow_time(flow.get("bookkeeping_time")), settle_amount=signed)
    if funds_type == FLOW_INCOME:
        row.income = signed
    elif funds_type == FLOW_COMMISSION:
        row.commission = -signed
    elif funds_type == FLOW_REFUND:
        row.refund, row.refund_after_settlement = -signed, True
    else:
        row.fees = {FLOW_FEES.get(funds_type, "other"): -signed}
    return row
