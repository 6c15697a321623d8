"""Kuaishou shop (快手电商) message push.

The body is Base64 of AES-CBC ciphertext (key = base64_decode(message secret),
IV = 16 zero bytes, PKCS#7). There is no signature header: decrypting with the
shared key is the check. `test: true` envelopes are heartbeats.

Binding: the message secret may be shared by the shops of one app, so the envelope's
appKey must be the channel's App Key (an envelope without one is refused), and when
the channel has a Platform Shop ID the seller must be it: `sellerId` in `info`, or
for events whose info has none (after-sales) the envelope's `userId`, the seller who
authorised the app. Nothing time-bound is signed: replays are inbox duplicates.
"""
import base64
import binascii
import hashlib
import hmac
import json
import time

from .base import Adapter, Fan, InboxEvent, Rejected, Reply, check_shop, exact_json, register
from .crypto import aes_cbc_decrypt, aes_cbc_encrypt, pkcs7_pad, pkcs7_unpad
from .orders import (NOT_SUPPORTED, Address, ApiClient, ApiError, OrderLine, PlatformOrder, Refund, Shipment, Token,
                     as_int, as_str, expiry, register_client)
from .orders import ListedRefund, ListPage
from .settlements import SettlementPage, SettlementRow

ZERO_IV = b"\0" * 16
EVENT_TYPES = {
    "kwaishop_order_addOrder": "order.created",
    "kwaishop_order_paySuccess": "order.paid",
    "kwaishop_order_delivering": "order.shipped",
    "kwaishop_order_deliverySuccess": "order.updated",
    "kwaishop_order_orderSuccess": "order.completed",
    "kwaishop_order_orderFail": "order.cancelled",
    "kwaishop_order_totalFeeChange": "order.updated",
    "kwaishop_order_addNote": "order.updated",
    "kwaishop_order_addressUpdateAudit": "order.updated",
    "kwaishop_aftersales_addRefund": "refund.requested",
    "kwaishop_aftersales_updateRefund": "refund.updated",
}


def _key(creds):
    try:
        key = base64.b64decode(creds.message_secret or "", validate=True)
    except binascii.Error:
        key = b""
    if len(key) not in (16, 24, 32):
        raise Rejected(401, "The channel's message secret is not a Base64 AES key")
    return key


@register
class KuaishouShopAdapter(Adapter):
    platform = "kuaishou_shop"

    def parse(self, creds, request):
        key = _key(creds)
        try:
            plain = pkcs7_unpad(aes_cbc_decrypt(key, ZERO_IV, base64.b64decode(request.body.strip(), validate=True)), 16)
            envelope = exact_json(plain.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            # Without a signature, a body that does not decrypt to JSON is not from Kuaishou.
            raise Rejected(401, "The body does not decrypt with the channel's message secret") from None
        if not isinstance(envelope, dict):
            raise Rejected(400, "The decrypted message is not an object")
        if not creds.app_key:
            raise Rejected(401, "The channel has no app key configured")
        if envelope.get("appKey") != creds.app_key:
            raise Rejected(401, "appKey is missing or is not the channel's App Key")
        if envelope.get("test"):
            return []
        message_id = envelope.get("msgId") or envelope.get("eventId")
        if not message_id or not envelope.get("event"):
            raise Rejected(400, "The message needs 'msgId' and 'event'")
        info = envelope.get("info")
        if isinstance(info, str):
            try:
                envelope = dict(envelope, info=exact_json(info))
            except ValueError:
                raise Rejected(400, "'info' is not JSON") from None
        info = envelope.get("info")
        seller = info.get("sellerId") if isinstance(info, dict) else None
        check_shop(creds, envelope.get("userId") if seller is None else seller)
        occurred = envelope.get("updateTime") or envelope.get("createTime")
        occurred = occurred / 1000.0 if isinstance(occurred, (int, float)) and occurred > 1e11 else occurred
        event_type = EVENT_TYPES.get(envelope["event"], f"kuaishou.{envelope['event']}")
        return [InboxEvent.make(message_id, event_type, envelope, None,
                                occurred if isinstance(occurred, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b'{"result":1}')

    def reject(self, rejected):
        return Reply(rejected.status, json.dumps({"result": 0, "error_msg": rejected.message}).encode())

    def sign(self, creds, body, **kwargs):
        # Kuaishou encrypts instead of signing.
        cipher = aes_cbc_encrypt(_key(creds), ZERO_IV, pkcs7_pad(body, 16))
        return {"Content-Type": "text/plain"}, {}, base64.b64encode(cipher)

    def order_reference(self, event_type, payload):
        info = payload.get("info") if isinstance(payload, dict) else None
        if not isinstance(info, dict):
            return None, None
        # Order events name the order oid; after-sale events orderId and refundId.
        return as_str(info.get("oid") or info.get("orderId")), as_str(info.get("refundId"))


# -- Order API (快手电商开放平台) -----------------------------------------------------
# GET {base}/{method with dots as slashes}?appkey&method&version&param&access_token&
# timestamp(ms)&signMethod&sign. sign = base64(HMAC_SHA256(key=signSecret, msg=the seven
# parameters sorted, k=v joined by & + "&signSecret=" + signSecret)), computed on the
# values before URL encoding. Errors come as {"result": <not 1>, "error_msg": ...} and
# are told apart by their text: the docs give messages, not stable codes.
ORDER_STATUSES = {10: "created", 30: "paid", 40: "shipped", 50: "shipped", 70: "completed", 80: "cancelled"}
REFUND_SUCCEEDED, REFUND_CLOSED = {60}, {70}
RETURN_WAYS = {1, 3}  # return + refund, exchange
# handlingWay; specialRefundType 1 makes a refund a price protection.
AFTERSALE_KINDS = {1: "return_refund", 10: "refund", 3: "exchange", 4: "resend", 5: "repair"}
AFTERSALE_STAGES = {10: "seller", 11: "seller", 20: "platform", 21: "platform", 22: "platform", 30: "buyer_return",
                    40: "seller_receipt", 45: "buyer", 50: "refunding", 60: "done", 70: "closed"}
TOKEN_MESSAGES = ("TOKEN过期", "鉴权失败")
RETRY_MESSAGES = ("系统繁忙", "系统错误", "服务异常", "timeout")
NOT_FOUND_MESSAGES = ("不存在", "NOT FOUND", "not exist")
REFRESH_SERVER_ERROR = "100200500"  # server_error; the other 1002001xx need a new authorization


def api_sign(params, sign_secret):
    text = "&".join(f"{key}={params[key]}" for key in sorted(params)) + "&signSecret=" + sign_secret
    return base64.b64encode(hmac.new(sign_secret.encode(), text.encode(), hashlib.sha256).digest()).decode()


def _check(document, method):
    if str(document.get("result")) == "1":
        data = document.get("data")
        return data if isinstance(data, dict) else {}
    text = str(document.get("error_msg") or document.get("msg") or "")
    message = f"Kuaishou {method}: result {document.get('result')} {text}".strip()
    lowered = text.lower()
    if any(marker in text for marker in TOKEN_MESSAGES):
        raise ApiError("token", message, code=document.get("result"))
    if "exceed qps limit" in lowered:
        raise ApiError("rate_limit", message, code=document.get("result"), retry_after=1)
    if "exceed quota limit" in lowered:  # the app's (or a test user's) daily quota
        raise ApiError("rate_limit", message, code=document.get("result"))
    if any(marker.lower() in lowered for marker in RETRY_MESSAGES):
        raise ApiError("transient", message, code=document.get("result"))
    if any(marker.lower() in lowered for marker in NOT_FOUND_MESSAGES) or str(document.get("result")) == "300011":
        raise ApiError("not_found", message, code=document.get("result"))
    # AUTHORIZATION_REVOKED, bad signature (验签失败), no permission, ...
    raise ApiError("permanent", message, code=document.get("result"))


def _int_ref(ref, what):
    text = str(ref)
    if not text.isdigit():
        raise ApiError("not_found", f"Kuaishou: {what} {text!r} is not a Kuaishou id")
    return int(text)


@register_client
class KuaishouShopClient(ApiClient):
    platform = "kuaishou_shop"

    def _call(self, method, param, access_token, http_method="GET"):
        if not self.settings.sign_secret:
            raise ApiError("permanent", "Kuaishou: the channel has no Sign Secret")
        params = {"appkey": self.settings.app_key, "method": method, "version": "1",
                  "param": json.dumps(param, separators=(",", ":"), ensure_ascii=False),
                  "access_token": access_token, "timestamp": str(int(time.time() * 1000)),
                  "signMethod": "HMAC_SHA256"}
        params["sign"] = api_sign(params, self.settings.sign_secret)
        url = f"{self.settings.base_url.rstrip('/')}/{method.replace('.', '/')}"
        if http_method == "POST":  # form-encoded, as the write calls take it
            _status, _headers, document = self._http("POST", url, data=params)
        else:
            _status, _headers, document = self._http("GET", url, params=params)
        return _check(document, method)

    def _refresh(self, token, rejected=False):
        if not (token and token.refresh_token):
            raise ApiError("permanent", "Kuaishou: no refresh token on the channel: authorize the app for the shop")
        now = time.time()
        _status, _headers, document = self._http(
            "POST", f"{self.settings.base_url.rstrip('/')}/oauth2/refresh_token",
            data={"grant_type": "refresh_token", "refresh_token": token.refresh_token,
                  "app_id": self.settings.app_key, "app_secret": self.settings.app_secret})
        if str(document.get("result")) != "1" or not document.get("access_token"):
            # refreshToken.discarded / expired / revoked: only a new authorization helps.
            kind = "transient" if str(document.get("result")) == REFRESH_SERVER_ERROR else "permanent"
            raise ApiError(kind, f"Kuaishou token refresh: result {document.get('result')} "
                                 f"{document.get('error') or ''} {document.get('error_msg') or ''}".strip(),
                           code=document.get("result"))
        # Each refresh issues a new refresh token and the old one dies: keep the new one.
        return Token(document["access_token"], expiry(now, document.get("expires_in")) or now + 172800,
                     document.get("refresh_token") or None, expiry(now, document.get("refresh_token_expires_in")))

    def fetch_order(self, order_ref):
        oid = _int_ref(order_ref, "order")
        data = self._with_token(lambda access: self._call("open.order.detail", {"oid": oid}, access))
        if not data.get("orderBaseInfo"):
            raise ApiError("not_found", f"Kuaishou open.order.detail: no order {order_ref}")
        return self._mapped("Kuaishou open.order.detail", order_from_detail, data)

    def fetch_refund(self, refund_ref, order_ref=None):
        refund_id = _int_ref(refund_ref, "after-sale")
        data = self._with_token(
            lambda access: self._call("open.seller.order.refund.detail", {"refundId": refund_id}, access))
        if not data.get("refundId"):
            raise ApiError("not_found", f"Kuaishou open.seller.order.refund.detail: no after-sale {refund_ref}")
        return self._mapped("Kuaishou open.seller.order.refund.detail", refund_from_detail, data)

    # -- stock levels: open.item.sku.stock.update adds or subtracts, nothing sets ----
    # (../shared/docs/platform-apis.md: no absolute set and no stock read found, and
    # the call takes no idempotency key: request_id stays on our side.)
    stock_mode = "increment"

    def add_stock(self, item, delta, request_id):
        if not item.product_ref:
            raise ApiError("permanent", f"Kuaishou: SKU {item.sku} has no platform item id (kwaiItemId)")
        param = {"kwaiItemId": _int_ref(item.product_ref, "item"), "skuId": _int_ref(item.sku, "SKU"),
                 "skuChangeStock": abs(int(delta)), "changeType": 1 if delta > 0 else 2}
        self._with_token(lambda access: self._call("open.item.sku.stock.update", param, access))

    # -- shipments: open.seller.order.goods.deliver ships whole orders only. Its
    # express codes have no list API (a table on the doc page 物流公司编号). A repeat
    # with the same tracking number succeeds, but the caller checks the order's
    # orderLogisticsInfo before re-sending anyway (idempotent_upload False).
    def list_carriers(self):
        return list(EXPRESS_CODES)

    def upload_shipment(self, order, parcel):
        if not parcel.whole_order:
            raise ApiError("permanent", "Kuaishou open.seller.order.goods.deliver ships whole orders only: "
                                        "deliver the order in one parcel")
        param = {"orderId": _int_ref(order.order_ref, "order"), "expressNo": parcel.tracking_ref,
                 "expressCode": as_int(parcel.company_code)}
        self._with_token(lambda access: self._call("open.seller.order.goods.deliver", param, access, "POST"))
        return parcel.tracking_ref  # no parcel id in the answer

    @classmethod
    def buyer_message_support(cls):
        # ../shared/docs/platform-apis.md: no documented Kuaishou call messages a buyer or hands one
        # buyer a coupon.
        return NOT_SUPPORTED

    # -- settlement bills: open.funds.financial.settled.bill.detail by settlement time (ms),
    # paged by the cursor it answers ("" first; "no_more" ends it, "nomore" in one caller).
    def list_settlements(self, start, end, cursor=None):
        param = {"settlementStartTime": int(start) * 1000, "settlementEndTime": int(end) * 1000,
                 "size": SETTLE_PAGE_SIZE, "cursor": cursor or ""}
        data = self._with_token(lambda access: self._call("open.funds.financial.settled.bill.detail", param, access))
        rows = self._mapped("Kuaishou open.funds.financial.settled.bill.detail",
                            lambda items: [settlement_from_bill(item) for item in items], data.get("orders") or [])
        next_cursor = str(data.get("cursor") or "")
        done = not rows or next_cursor in SETTLE_LAST_CURSORS or next_cursor == (cursor or "")
        return SettlementPage(rows, None if done else next_cursor)

    # -- the backstop: open.order.cursor.list by update time (queryType 2), windows of
    # at most 7 days; open.seller.order.refund.pcursor.list, windows of 1 day. Times in
    # ms; both cursors start "" and end "nomore". The docs do not show the order list's
    # rows: a row in the detail's shape is taken as the order, any other by its oid and
    # fetched (unsure). The refund rows lack the SKU lines: their details are fetched.
    order_window = 7 * 86400
    refund_window = 86400
    END_OF_LIST = "nomore"
    list_size = 50  # pageSize <= 50

    def list_orders_since(self, start, end, cursor=None):
        param = {"orderViewStatus": 1, "pageSize": self.list_size, "sort": 1, "queryType": 2,
                 "beginTime": int(start * 1000), "endTime": int(end * 1000), "cursor": cursor or ""}
        data = self._with_token(lambda access: self._call("open.order.cursor.list", param, access))
        orders = []
        for row in data.get("orderList") or []:
            if row.get("orderBaseInfo"):
                orders.append(self._mapped("Kuaishou open.order.cursor.list", order_from_detail, row))
            elif as_str(row.get("oid")):
                orders.append(as_str(row["oid"]))
        following = as_str(data.get("cursor"))
        return ListPage(orders=orders, cursor=None if following in (None, self.END_OF_LIST, cursor) else following)

    def list_refunds_since(self, start, end, cursor=None):
        param = {"beginTime": int(start * 1000), "endTime": int(end * 1000), "type": 9, "pageSize": 2 * self.list_size,
                 "sort": 1, "pcursor": cursor or ""}
        data = self._with_token(lambda access: self._call("open.seller.order.refund.pcursor.list", param, access))
        refunds = [ListedRefund(as_str(row["refundId"]), as_str(row["oid"]))
                   for row in data.get("refundOrderInfoList") or [] if as_str(row.get("refundId")) and
                   as_str(row.get("oid"))]
        following = as_str(data.get("pcursor"))
        return ListPage(refunds=refunds, cursor=None if following in (None, self.END_OF_LIST, cursor) else following)


# ../shared/docs/platform-apis.md (Kuaishou, 物流公司编号): codes retired by mergers are left out.
EXPRESS_CODES = [("2", "EMS"), ("3", "申通快递"), ("4", "顺丰速运"), ("6", "圆通速递"), ("8", "邮政快递包裹"),
                 ("9", "中通快递"), ("11", "韵达快递"), ("14", "京东物流"), ("17", "德邦快递"), ("109", "极兔速递")]


def _seconds(milliseconds):
    value = as_int(milliseconds, None)
    return value / 1000.0 if value else None


def _talent(roles):
    for role in roles if isinstance(roles, list) else [roles]:
        if isinstance(role, dict) and as_int(role.get("roleType"), None) == 2:
            return as_str(role.get("roleId")), role.get("roleName") or None
    return None, None


def order_from_detail(data):
    """open.order.detail's data as a PlatformOrder. One SKU per Kuaishou order."""
    base, item = data.get("orderBaseInfo") or {}, data.get("orderItemInfo") or {}
    status = ORDER_STATUSES.get(as_int(base.get("status"), None))
    if status is None:
        raise ApiError("permanent", f"Kuaishou order {base.get('oid')}: unknown status {base.get('status')!r}")
    lines = []
    if item:
        code = item.get("skuNick") or item.get("goodsCode") or None
        lines.append(OrderLine(
            sku=as_str(item.get("skuId")) or code, quantity=as_int(item.get("num")),
            unit_price=as_int(item.get("price")), name=item.get("itemTitle") or "",
            discount=as_int(item.get("discountFee")), merchant_code=code))
    room_id = as_str(base.get("carrierId")) if as_int(base.get("carrierType"), None) == 2 else None
    host_ref, host_name = _talent(base.get("orderSellerRoleInfo"))
    shipping, paid = as_int(base.get("expressFee")), as_int(base.get("totalFee"), None)
    discount = max(0, as_int(base.get("discountFee")) - sum(line.discount for line in lines))
    goods = sum(line.quantity * line.unit_price - line.discount for line in lines)
    address = data.get("orderAddress") or {}
    buyer = as_str(base.get("buyerOpenId"))
    return PlatformOrder(
        order_ref=str(base.get("oid")), status=status, lines=lines, shipping_fee=shipping, discount=discount,
        # What the buyer did not pay and the seller did not give (the docs do not say
        # who funds discountFee; it is taken as the seller's).
        platform_discount=max(0, goods - discount + shipping - paid) if paid is not None else 0,
        paid=paid, created_at=_seconds(base.get("createTime")), paid_at=_seconds(base.get("payTime")),
        updated_at=_seconds(base.get("updateTime")),
        buyer=Fan("kuaishou_shop", "buyer_open_id", buyer, nickname=base.get("buyerNick") or None) if buyer else None,
        address=Address(
            name=address.get("desensitiseConsignee") or address.get("encryptedConsignee") or None,
            phone=address.get("desensitiseMobile") or address.get("encryptedMobile") or None,
            province=address.get("province") or None, city=address.get("city") or None,
            district=address.get("district") or None,
            street=address.get("desensitiseAddress") or address.get("encryptedAddress") or None),
        room_id=room_id, host_ref=host_ref, host_name=host_name,
        shipments=[Shipment(tracking_ref=str(parcel["expressNo"]), carrier=as_str(parcel.get("expressCode")))
                   for parcel in data.get("orderLogisticsInfo") or [] if parcel.get("expressNo")])


def refund_from_detail(data):
    status = as_int(data.get("status"), None)
    state = "succeeded" if status in REFUND_SUCCEEDED else "closed" if status in REFUND_CLOSED else "requested"
    sku, count = as_str(data.get("skuId")), as_int(data.get("num"), None)
    way = as_int(data.get("handlingWay"), None)
    kind = "price_protection" if as_int(data.get("specialRefundType"), 0) == 1 \
        else AFTERSALE_KINDS.get(way, "other" if way is not None else None)
    return Refund(
        refund_ref=str(data.get("refundId")), amount=as_int(data.get("refundFee")), state=state,
        return_goods=way in RETURN_WAYS,
        lines=[(sku, count)] if sku and count else [], reason=data.get("refundReason") or None,
        kind=kind, platform_status=as_str(data.get("status")), stage=AFTERSALE_STAGES.get(status),
        # Kuaishou's times are unix milliseconds.
        requested_at=_seconds(data.get("submitTime") or data.get("createTime")),
        updated_at=_seconds(data.get("updateTime")), deadline=_seconds(data.get("expireTime")))


def _seconds(milliseconds):
    value = as_int(milliseconds, None)
    return value / 1000 if value else None


# -- Settlement bills ----------------------------------------------------------------
SETTLE_PAGE_SIZE = 100
SETTLE_LAST_CURSORS = {"", "no_more", "nomore"}


def settlement_from_bill(item):
    """A settled bill row, in fen (the docs say "likely fen"): the platform's
    commission, the distributor's and 快赚客's (affiliates), the activity 团长's
    (service), the service amount and other amounts."""
    settled = as_int(item.get("settlementTime"), None)
    return SettlementRow(
        bill_ref=f"{item['orderNo']}:{settled or ''}", order_ref=str(item["orderNo"]),
        settled_at=settled / 1000.0 if settled else None,
        income=as_int(item.get("totalIncome")), settle_amount=as_int(item.get("settlementAmount")),
        commission=as_int(item.get("platformCommissionAmount")),
        fees={"affiliate": as_int(item.get("distributorCommissionAmount")) + as_int(item.get("kzkCommissionAmount")),
              "service": as_int(item.get("serviceAmount")) + as_int(item.get("activityUserCommissionAmount")),
              "other": as_int(item.get("otherAmount"))},
        refund=as_int(item.get("totalRefundAmount")))
