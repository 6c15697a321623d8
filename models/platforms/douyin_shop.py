"""Douyin shop (抖店) message push.

event-sign = md5_hex(app_key + raw body + app_secret); the body is a JSON array of
{tag, msg_id, data} where data is itself a JSON string (a single object is accepted
too). Tag "0" is the verification push sent when the URL is saved. Amounts are fen.

Binding: the app-id header must be the channel's App Key, and when the channel has a
Platform Shop ID every message's data.shop_id must be it: one app's credentials may
serve many shops, so a valid signature alone does not say which shop a push is for.
Douyin signs no timestamp: a replayed push is a duplicate of its (tag, msg_id).
"""
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

from .base import Adapter, Fan, InboxEvent, Rejected, check_shop, constant_time_equal, exact_json, register
from .orders import (NOT_SUPPORTED, Address, ApiClient, ApiError, OrderLine, PlatformOrder, Refund, Shipment, Token,
                     as_int, as_str, expiry, register_client)
from .orders import ListedRefund, ListPage
from .settlements import SettlementPage, SettlementRow

TAG_TYPES = {
    "100": "order.created", "101": "order.paid", "102": "order.shipped", "103": "order.completed",
    "104": "order.updated", "105": "order.updated", "106": "order.cancelled", "108": "order.shipped",
    "109": "order.updated", "110": "order.paid",
    "200": "refund.requested", "201": "refund.updated", "202": "refund.updated", "203": "refund.updated",
    "204": "refund.updated", "205": "refund.updated", "206": "refund.succeeded", "207": "refund.updated",
    "208": "refund.updated", "209": "refund.updated", "211": "order.updated",
}
VERIFICATION_TAG = "0"


def sign_body(app_key, app_secret, body):
    return hashlib.md5(app_key.encode() + body + app_secret.encode()).hexdigest()


@register
class DouyinShopAdapter(Adapter):
    platform = "douyin_shop"

    def parse(self, creds, request):
        if not (creds.app_key and creds.app_secret):
            raise Rejected(401, "The channel has no app key/secret configured")
        if request.headers.get("app-id") != creds.app_key:
            raise Rejected(401, "app-id is missing or is not the channel's App Key")
        expected = sign_body(creds.app_key, creds.app_secret, request.body)
        if not constant_time_equal(request.headers.get("event-sign", "").lower(), expected):
            raise Rejected(401, "Bad signature")
        body = self.load_json(request.body)
        messages = body if isinstance(body, list) else [body]
        events = []
        for message in messages:
            if not isinstance(message, dict) or "tag" not in message:
                raise Rejected(400, "Each message needs a 'tag'")
            tag = str(message["tag"])
            if tag == VERIFICATION_TAG:
                continue
            if not message.get("msg_id"):
                raise Rejected(400, f"Message with tag {tag} has no msg_id")
            data = message.get("data")
            if isinstance(data, str):
                try:
                    data = exact_json(data)
                except ValueError:
                    raise Rejected(400, f"Message {message['msg_id']}: 'data' is not JSON") from None
            check_shop(creds, data.get("shop_id") if isinstance(data, dict) else None)
            payload = {"tag": tag, "msg_id": str(message["msg_id"]), "data": data}
            occurred = (data or {}).get("update_time") or (data or {}).get("create_time") if isinstance(data, dict) else None
            event_type = TAG_TYPES.get(tag, f"douyin_shop.tag_{tag}")
            events.append(InboxEvent.make(f"{tag}:{message['msg_id']}", event_type, payload, None,
                                          occurred if isinstance(occurred, (int, float)) else None))
        return events

    def sign(self, creds, body, **kwargs):
        return {"app-id": creds.app_key, "event-sign": sign_body(creds.app_key, creds.app_secret, body),
                "Content-Type": "application/json"}, {}, body

    def order_reference(self, event_type, payload):
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return None, None
        # Order pushes name the parent order p_id; after-sale pushes (tags 2xx) add aftersale_id.
        return as_str(data.get("p_id")), as_str(data.get("aftersale_id"))


# -- Order API (抖店开放平台) -------------------------------------------------------
# POST {base}/{method with dots as slashes}; business parameters are the JSON body
# (param_json), the common ones the query. The platform parses param_json and
# serializes it again with its keys sorted before checking the signature, so the body
# must already be that canonical form or the signature fails (isv.signature-invalid).
ORDER_STATUSES = {1: "created", 105: "paid", 2: "paid", 101: "shipped", 3: "shipped", 4: "cancelled", 5: "completed"}
TOKEN_SUB_CODES = {"isv.access-token-expired", "isv.access-token-no-existed"}
NOT_FOUND_SUB_CODES = {
    "isv.parameter-invalid:20001", "isv.parameter-invalid:20014",   # order.orderDetail: no such order
    "isv.business-failed:20015",                                   # the order is another shop's
    "isv.parameter-invalid:11000",                                 # afterSale.Detail: no such after-sale
}
RETRY_SUB_CODES = {"isv.business-failed:20004", "isv.business-failed:20045", "isv.business-failed:20055",
                   "isv.business-failed:10002"}
# after_sale_status: 12 success, 53 reverse trade done; 27/28/29 refused or failed.
# 14: an exchange done, which is no money back.
REFUND_SUCCEEDED, REFUND_CLOSED = {12, 53}, {14, 27, 28, 29}
RETURN_TYPES = {0, 3}  # return + refund, exchange: goods come back
# aftersale_type (afterSale.Detail after_sale_type). 4 / 5 (detail only): the
# system or the buyer cancelled the order before shipping.
AFTERSALE_KINDS = {0: "return_refund", 1: "refund", 2: "before_shipping", 3: "exchange", 4: "before_shipping",
                   5: "before_shipping", 6: "price_protection", 7: "resend", 8: "repair"}
AFTERSALE_STAGES = {6: "seller", 7: "buyer_return", 8: "seller", 11: "seller_receipt", 12: "done", 13: "buyer",
                    14: "done", 27: "closed", 28: "closed", 29: "closed", 53: "done"}


def param_json(params):
    """The canonical param_json: compact, keys sorted at every level, UTF-8 as is."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def api_sign(app_key, app_secret, method, timestamp, params_text):
    pattern = f"app_key{app_key}method{method}param_json{params_text}timestamp{timestamp}v2"
    return hmac.new(app_secret.encode(), (app_secret + pattern + app_secret).encode(), hashlib.sha256).hexdigest()


def _check(document, method):
    code = document.get("code")
    if str(code) == "10000":
        return document.get("data") or {}
    sub_code = str(document.get("sub_code") or "")
    message = f"Douyin {method}: {code} {document.get('msg') or ''} {sub_code} {document.get('sub_msg') or ''}".strip()
    if code == 40003 and sub_code in TOKEN_SUB_CODES:
        kind = "token"
    elif code == 60000:
        kind = "rate_limit"
    elif code in (20000, 20001) or sub_code in RETRY_SUB_CODES:
        kind = "transient"
    elif sub_code in NOT_FOUND_SUB_CODES:
        kind = "not_found"
    else:  # 30001 authorization gone, 30002 IP not whitelisted, bad signature, 50001 refresh failed, ...
        kind = "permanent"
    raise ApiError(kind, message, code=code)


@register_client
class DouyinShopClient(ApiClient):
    platform = "douyin_shop"

    def _call(self, method, params, access_token=None):
        text = param_json(params)
        timestamp = str(int(time.time()))
        query = {"app_key": self.settings.app_key, "method": method, "timestamp": timestamp, "v": "2",
                 "sign_method": "hmac-sha256",
                 "sign": api_sign(self.settings.app_key, self.settings.app_secret or "", method, timestamp, text)}
        if access_token:
            query["access_token"] = access_token
        _status, _headers, document = self._http(
            "POST", f"{self.settings.base_url.rstrip('/')}/{method.replace('.', '/')}", params=query,
            data=text.encode(), headers={"Content-Type": "application/json;charset=UTF-8"})
        return _check(document, method)

    def _refresh(self, token, rejected=False):
        if not (token and token.refresh_token):
            raise ApiError("permanent", "Douyin: no refresh token on the channel: authorize the app for the shop")
        now = time.time()
        data = self._call("token.refresh", {"grant_type": "refresh_token", "refresh_token": token.refresh_token})
        if not data.get("access_token"):
            raise ApiError("transient", "Douyin token.refresh answered without an access_token")
        return Token(data["access_token"], expiry(now, data.get("expires_in")) or now + 7 * 86400,
                     data.get("refresh_token") or None)

    def fetch_order(self, order_ref):
        data = self._with_token(
            lambda access: self._call("order.orderDetail", {"shop_order_id": str(order_ref)}, access))
        detail = data.get("shop_order_detail")
        if not detail:
            raise ApiError("not_found", f"Douyin order.orderDetail: no order {order_ref}")
        return self._mapped("Douyin order.orderDetail", order_from_detail, detail)

    def fetch_refund(self, refund_ref, order_ref=None):
        data = self._with_token(
            lambda access: self._call("afterSale.Detail", {"after_sale_id": str(refund_ref)}, access))
        process = data.get("process_info") or {}
        info = process.get("after_sale_info")
        if not info:
            raise ApiError("not_found", f"Douyin afterSale.Detail: no after-sale {refund_ref}")
        return self._mapped("Douyin afterSale.Detail", refund_from_detail, info, data.get("order_info") or {},
                            process.get("logistics_info") or {})

    # -- stock levels: sku.syncStock overwrites (incremental false), sku.stockNum reads --
    stock_mode = "absolute"
    stock_readable = True

    def _stock_target(self, item):
        if item.sku and item.sku.isdigit():
            return {"sku_id": int(item.sku)}
        return {"code": item.merchant_code or item.sku}

    def set_stock(self, item, quantity):
        params = {**self._stock_target(item), "stock_num": int(quantity), "incremental": False}
        if item.product_ref:
            params["product_id"] = int(item.product_ref) if item.product_ref.isdigit() else item.product_ref
        self._with_token(lambda access: self._call("sku.syncStock", params, access))

    def read_stock(self, item):
        data = self._with_token(lambda access: self._call("sku.stockNum", self._stock_target(item), access))
        if "stock_num" not in data:
            raise ApiError("not_found", f"Douyin sku.stockNum: no SKU {item.sku}")
        return as_int(data.get("stock_num"))

    # -- shipments: order.logisticsAddMultiPack takes request_id (a repeat returns the
    # first success), so a parcel uploaded again after a crash is not a second one.
    idempotent_upload = True

    def list_carriers(self):
        data = self._with_token(lambda access: self._call("order.logisticsCompanyList", {}, access))
        # The answer's data is the array itself.
        return [(str(item.get("code")), item.get("name") or str(item.get("code")))
                for item in data if isinstance(item, dict) and item.get("code")]

    def upload_shipment(self, order, parcel):
        pack = {"logistics_code": parcel.tracking_ref, "company_code": parcel.company_code,
                "shipped_order_info": [{"shipped_order_id": line.line_ref, "shipped_num": quantity}
                                       for line, quantity in parcel.lines]}
        data = self._with_token(lambda access: self._call("order.logisticsAddMultiPack", {
            "order_id": str(order.order_ref), "request_id": parcel.request_id, "pack_list": [pack]}, access))
        packs = (data.get("pack_list") or []) if isinstance(data, dict) else []
        return as_str(packs[0].get("pack_id")) if packs else parcel.tracking_ref

    @classmethod
    def buyer_message_support(cls):
        # ../shared/docs/platform-apis.md: Douyin's buyer chat (飞鸽) and shop coupons are not in its
        # documented open API calls.
        return NOT_SUPPORTED

    # -- settlement bills: order.getSettleBillDetailV3, by settle time, one row per SKU
    # order; page by passing next_start_index and next_start_time back until is_end.
    def list_settlements(self, start, end, cursor=None):
        params = {"size": SETTLE_PAGE_SIZE, "time_type": "0", "start_time": beijing_time(start),
                  "end_time": beijing_time(end), "start_index": ""}
        if cursor:
            params["start_index"], params["start_time"] = json.loads(cursor)
        data = self._with_token(lambda access: self._call("order.getSettleBillDetailV3", params, access))
        if str(data.get("code") or SETTLE_OK) != SETTLE_OK:
            raise ApiError("transient", f"Douyin order.getSettleBillDetailV3: {data.get('code')} "
                                        f"{data.get('code_msg') or ''}".strip())
        rows = self._mapped("Douyin order.getSettleBillDetailV3",
                            lambda items: [settlement_from_bill(item) for item in items], data.get("data") or [])
        done = as_int(data.get("is_end"), 1) == 1 or not rows
        return SettlementPage(rows, None if done else json.dumps(
            [str(data.get("next_start_index") or ""), data.get("next_start_time") or params["start_time"]]))

    # -- the backstop: order.searchList answers whole orders (the detail's shape),
    # afterSale.List the after-sales with their order; pages count from 0.
    list_size = 100

    def list_orders_since(self, start, end, cursor=None):
        page = int(cursor or 0)
        data = self._with_token(lambda access: self._call("order.searchList", {
            "update_time_start": int(start), "update_time_end": int(end), "order_by": "update_time",
            "order_asc": True, "page": page, "size": self.list_size}, access))
        rows = data.get("shop_order_list") or []
        orders = [self._mapped("Douyin order.searchList", order_from_detail, row) for row in rows]
        more = (page + 1) * self.list_size < as_int(data.get("total")) if data.get("total") is not None \
            else len(rows) == self.list_size
        return ListPage(orders=orders, cursor=str(page + 1) if more and rows else None)

    def list_refunds_since(self, start, end, cursor=None):
        page = int(cursor or 0)
        data = self._with_token(lambda access: self._call("afterSale.List", {
            "update_start_time": int(start), "update_end_time": int(end), "order_by": ["update_time asc"],
            "page": page, "size": self.list_size}, access))
        refunds = []
        for item in data.get("items") or []:
            info, order = item.get("aftersale_info") or {}, item.get("order_info") or {}
            if as_str(info.get("aftersale_id")) and as_str(order.get("shop_order_id")):
                refunds.append(ListedRefund(as_str(info["aftersale_id"]), as_str(order["shop_order_id"])))
        return ListPage(refunds=refunds, cursor=str(page + 1) if data.get("has_more") and refunds else None)


def _name(part):
    return part.get("name") if isinstance(part, dict) else None


def order_from_detail(detail):
    """order.orderDetail's shop_order_detail as a PlatformOrder (amounts in fen)."""
    status = ORDER_STATUSES.get(as_int(detail.get("order_status"), None))
    if status is None:
        raise ApiError("permanent", f"Douyin order {detail.get('order_id')}: unknown order_status "
                                    f"{detail.get('order_status')!r}")
    lines, room_id, host_ref, host_name = [], None, None, None
    for sku in detail.get("sku_order_list") or []:
        code = sku.get("code") or sku.get("out_sku_id") or None
        lines.append(OrderLine(
            sku=as_str(sku.get("sku_id")) or code, quantity=as_int(sku.get("item_num")),
            unit_price=as_int(sku.get("origin_amount")), name=sku.get("product_name") or "",
            discount=as_int(sku.get("promotion_shop_amount")), merchant_code=code,
            line_ref=as_str(sku.get("order_id"))))
        room = as_str(sku.get("room_id_str")) or as_str(sku.get("room_id"))
        if room and room != "0" and room_id is None:
            room_id, host_ref, host_name = room, as_str(sku.get("author_id")), sku.get("author_name") or None
    shipments = [
        Shipment(tracking_ref=str(parcel.get("tracking_no") or ""), carrier=parcel.get("company_name") or
                 as_str(parcel.get("company")),
                 lines=[(as_str(item.get("sku_id")), as_int(item.get("product_count")))
                        for item in parcel.get("product_info") or []],
                 shipped_at=as_int(parcel.get("ship_time"), None) or None)
        for parcel in detail.get("logistics_info") or [] if parcel.get("tracking_no")]
    masked, plain = detail.get("mask_post_addr") or {}, detail.get("post_addr") or {}
    addr = masked or plain
    street = " ".join(filter(None, [_name(addr.get("street")), addr.get("detail") or addr.get("encrypt_detail")]))
    address = Address(
        name=detail.get("mask_post_receiver") or detail.get("encrypt_post_receiver") or None,
        phone=detail.get("mask_post_tel") or detail.get("encrypt_post_tel") or None,
        province=_name(addr.get("province")), city=_name(addr.get("city")), district=_name(addr.get("town")),
        street=street or None)
    open_id = as_str(detail.get("doudian_open_id"))
    line_discounts = sum(line.discount for line in lines)
    return PlatformOrder(
        order_ref=str(detail.get("order_id")), status=status, lines=lines,
        shipping_fee=as_int(detail.get("post_amount")),
        discount=max(0, as_int(detail.get("promotion_shop_amount")) - line_discounts),
        # The talent's (达人) coupons, like the platform's, are not the seller's money.
        platform_discount=as_int(detail.get("promotion_platform_amount")) +
        as_int(detail.get("promotion_talent_amount")),
        paid=as_int(detail.get("pay_amount"), None), created_at=as_int(detail.get("create_time"), None) or None,
        paid_at=as_int(detail.get("pay_time"), None) or None,
        updated_at=as_int(detail.get("update_time"), None) or None,
        buyer=Fan("douyin_shop", "open_id", open_id) if open_id else None, address=address,
        room_id=room_id, host_ref=host_ref, host_name=host_name, shipments=shipments,
        cancel_reason=detail.get("cancel_reason") or None)


def refund_from_detail(info, order_info, logistics=None):
    status, refund_status = as_int(info.get("after_sale_status"), None), as_int(info.get("refund_status"), None)
    if refund_status == 3 or status in REFUND_SUCCEEDED:
        state = "succeeded"
    elif status in REFUND_CLOSED or refund_status in (4, 5):
        state = "closed"
    else:
        state = "requested"
    amount = as_int(info.get("real_refund_amount")) if state == "succeeded" else 0
    kind = as_int(info.get("after_sale_type"), None)
    stage = "refunding" if refund_status == 2 and state == "requested" else AFTERSALE_STAGES.get(status)
    # logistics_info.return: the parcel the buyer sends back; its field names are
    # not in the docs we have (the order detail's parcels say tracking_no / company).
    parcel = (logistics or {}).get("return") or {}
    return Refund(
        refund_ref=str(info.get("after_sale_id")), amount=amount or as_int(info.get("refund_total_amount")),
        state=state, return_goods=kind in RETURN_TYPES,
        lines=_refund_lines(order_info), reason=info.get("reason") or None,
        kind=AFTERSALE_KINDS.get(kind, "other" if kind is not None else None),
        platform_status=as_str(info.get("after_sale_status")), stage=stage,
        requested_at=as_int(info.get("apply_time"), None) or None,
        updated_at=as_int(info.get("update_time"), None) or None,
        # Douyin documents no reply deadline in the after-sale detail.
        return_tracking_ref=as_str(parcel.get("tracking_no")),
        return_carrier=as_str(parcel.get("company_name") or parcel.get("company")))


def _refund_lines(order_info):
    lines = []
    for sku in order_info.get("sku_order_infos") or []:
        count = as_int(sku.get("after_sale_item_count"), None)
        count = as_int(sku.get("item_quantity")) if count is None else count
        if count:
            lines.append((as_str(sku.get("sku_id")), count))
    return lines


# -- Settlement bills ----------------------------------------------------------------
SETTLE_OK = "100000"          # the bill call's own code inside a successful answer
SETTLE_PAGE_SIZE = 100        # the most the call gives per page
BEIJING = timezone(timedelta(hours=8))  # the bill's times are Beijing times, as text
REFUND_AFTER_SETTLEMENT = {1, 3}        # trade_type: refunded after settlement (3: not by the original route)


def beijing_time(unix_seconds):
    return datetime.fromtimestamp(int(unix_seconds), BEIJING).strftime("%Y-%m-%d %H:%M:%S")


def _unix(text):
    if not text:
        return None
    if str(text).isdigit():
        return float(text)
    return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=BEIJING).timestamp()


def settlement_from_bill(item):
    """A bill row (fen). platform_service_fee is the platform's technical service fee,
    the commission the channel books at completion; `commission` is the talent's
    (佣金; the docs are unsure), colonel_service_fee the 团长's."""
    trade_type = as_int(item.get("trade_type"))
    sku_order = as_str(item.get("order_id")) or as_str(item.get("shop_order_id"))
    return SettlementRow(
        bill_ref=f"{sku_order}:{trade_type}:{item.get('settle_time') or ''}",
        order_ref=as_str(item.get("shop_order_id")) or sku_order,
        settled_at=_unix(item.get("settle_time")),
        income=as_int(item.get("total_income")), settle_amount=as_int(item.get("settle_amount")),
        commission=as_int(item.get("platform_service_fee")),
        fees={"affiliate": as_int(item.get("commission")), "service": as_int(item.get("colonel_service_fee")),
              "promotion": as_int(item.get("channel_promotion_fee")),
              "other": as_int(item.get("other_sharing_amount"))},
        refund=as_int(item.get("refund_before_settle")),
        refund_after_settlement=trade_type in REFUND_AFTER_SETTLEMENT)
