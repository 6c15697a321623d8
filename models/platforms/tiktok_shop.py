"""TikTok Shop webhooks.

Authorization (no "Bearer") = hex(HMAC_SHA256(key=app_secret, msg=app_key + raw
body)); 401 otherwise. At-least-once delivery: dedup on tts_notification_id. The
answer is 200 with an empty body.

Binding: one app signs for all the shops that authorised it, so when the channel has
a Platform Shop ID the body's shop_id must be it. No replay window: the signature
covers app_key + body only, and TikTok retries the very same body (its `timestamp`
included) about 2 min, 30 min, 3 h and 12 h later, so a window would refuse its own
retries. A replay into the same channel is a duplicate of its tts_notification_id;
into another shop's channel, the shop_id check refuses it.
"""
import hashlib
import hmac
import json
import time
from decimal import Decimal, InvalidOperation

from .base import Adapter, Fan, InboxEvent, Rejected, Reply, check_shop, constant_time_equal, register
from .orders import (NOT_SUPPORTED, Address, ApiClient, ApiError, OrderLine, PlatformOrder, Refund, Shipment, Token,
                     as_int, as_str, expiry, register_client, retry_after)
from .orders import ListedRefund, ListPage
from .settlements import SettlementPage, SettlementRow

ORDER_STATUS_TYPES = {
    "UNPAID": "order.created", "ON_HOLD": "order.paid", "AWAITING_SHIPMENT": "order.paid",
    "PARTIALLY_SHIPPING": "order.shipped", "AWAITING_COLLECTION": "order.shipped", "IN_TRANSIT": "order.shipped",
    "DELIVERED": "order.updated", "COMPLETED": "order.completed", "CANCEL": "order.cancelled",
    "CANCELLED": "order.cancelled",
}


def signature(app_key, app_secret, body):
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


@register
class TiktokShopAdapter(Adapter):
    platform = "tiktok_shop"

    def parse(self, creds, request):
        if not (creds.app_key and creds.app_secret):
            raise Rejected(401, "The channel has no app key/secret configured")
        expected = signature(creds.app_key, creds.app_secret, request.body)
        if not constant_time_equal(request.headers.get("authorization", ""), expected):
            raise Rejected(401, "Bad signature")
        body = self.load_json(request.body)
        if not isinstance(body, dict) or not body.get("tts_notification_id"):
            raise Rejected(400, "The body needs a 'tts_notification_id'")
        # No time window, on purpose: TikTok retries the same signed body for hours.
        check_shop(creds, body.get("shop_id"))
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        if body.get("type") == 1:
            event_type = ORDER_STATUS_TYPES.get(data.get("order_status"), "order.updated")
        elif body.get("type") in (2, 11, 12):
            # 11 cancellation status, 12 return status (2: the legacy reverse-order status).
            event_type = "refund.updated"
        else:
            event_type = f"tiktok.type_{body.get('type')}"
        for key in ("order_id", "return_id", "cancel_id"):
            if data.get(key) is not None:
                data[key] = str(data[key])
        occurred = data.get("update_time") or body.get("timestamp")
        return [InboxEvent.make(body["tts_notification_id"], event_type, body, None,
                                occurred if isinstance(occurred, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b"", "text/plain")

    def sign(self, creds, body, **kwargs):
        return {"Authorization": signature(creds.app_key, creds.app_secret, body),
                "Content-Type": "application/json"}, {}, body

    def order_reference(self, event_type, payload):
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return None, None
        # Type 12 (return status) names the return, type 11 (cancellation status) the cancellation.
        return as_str(data.get("order_id")), as_str(data.get("return_id") or data.get("cancel_id"))


# -- Order API (TikTok Shop, API version 202309) ---------------------------------------
# {base}{path}?app_key&timestamp&shop_cipher&...&sign, header x-tts-access-token.
# sign = hex(HMAC_SHA256(key=app_secret, msg=app_secret + path + every query parameter
# but sign and access_token sorted by key as {key}{value} + the raw body + app_secret)).
# Amounts are decimal strings in currency units. An order has one line item per unit.
DEFAULT_BASE_URL = "https://open-api.tiktokglobalshop.com"
# Tokens come from another host; a gateway or a local stand-in serves both at its base.
AUTH_URL = "https://auth.tiktok-shops.com"
ORDER_STATUSES = {"UNPAID": "created", "ON_HOLD": "paid", "AWAITING_SHIPMENT": "paid",
                  "PARTIALLY_SHIPPING": "shipped", "AWAITING_COLLECTION": "shipped", "IN_TRANSIT": "shipped",
                  "DELIVERED": "shipped", "COMPLETED": "completed", "CANCELLED": "cancelled"}
RETURN_SUCCEEDED = {"RETURN_OR_REFUND_REQUEST_COMPLETE"}
RETURN_CLOSED = {"RETURN_OR_REFUND_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_CANCEL", "REJECT_RECEIVE_PACKAGE"}
CANCEL_SUCCEEDED, CANCEL_CLOSED = {"CANCELLATION_REQUEST_COMPLETE"}, {"CANCELLATION_REQUEST_CANCEL"}
RETURN_KINDS = {"REFUND": "refund", "RETURN_AND_REFUND": "return_refund", "REPLACEMENT": "exchange"}
AFTERSALE_STAGES = {
    "RETURN_OR_REFUND_REQUEST_PENDING": "seller", "AWAITING_BUYER_SHIP": "buyer_return",
    "BUYER_SHIPPED_ITEM": "seller_receipt", "AWAITING_BUYER_RESPONSE": "buyer",
    "RETURN_OR_REFUND_REQUEST_SUCCESS": "refunding", "RETURN_OR_REFUND_REQUEST_COMPLETE": "done",
    "RETURN_OR_REFUND_REQUEST_REJECT": "closed", "RETURN_OR_REFUND_REQUEST_CANCEL": "closed",
    "REJECT_RECEIVE_PACKAGE": "closed", "CANCELLATION_REQUEST_PENDING": "seller",
    "CANCELLATION_REQUEST_SUCCESS": "refunding", "CANCELLATION_REQUEST_COMPLETE": "done",
    "CANCELLATION_REQUEST_CANCEL": "closed"}
RATE_LIMIT_CODES = {36009002}
TRANSIENT_CODES = {36009003}
TOKEN_CODES = {36004004}
PERMISSION_CODES = {105005}  # the app lacks the scope: a refresh does not help
# Currencies TikTok Shop sells in whose smallest unit is the unit itself (ISO 4217).
ZERO_DECIMAL_CURRENCIES = {"JPY", "KRW", "VND", "CLP", "ISK"}


def api_sign(app_secret, path, query, body=b""):
    pairs = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in ("sign", "access_token"))
    message = app_secret.encode() + path.encode() + pairs.encode() + body + app_secret.encode()
    return hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()


def minor_units(value, currency):
    """A decimal amount in currency units as an integer in the smallest unit (fen,
    cents; yen for JPY), exactly: an amount with more decimals is refused."""
    if value is None or value == "":
        return 0
    try:
        amount = Decimal(str(value)).scaleb(0 if currency in ZERO_DECIMAL_CURRENCIES else 2)
    except InvalidOperation:
        raise ApiError("permanent", f"TikTok: {value!r} is not an amount") from None
    if amount != amount.to_integral_value():
        raise ApiError("permanent", f"TikTok: the amount {value!r} has more decimals than {currency} has")
    return int(amount)


def _check(status, headers, document, what):
    try:
        code = int(document.get("code"))
    except (TypeError, ValueError):
        code = -1
    if code == 0:
        data = document.get("data")
        return data if isinstance(data, dict) else {}
    message = f"TikTok {what}: {code} {document.get('message') or ''}".strip()
    text = str(document.get("message") or "").lower()
    if code in RATE_LIMIT_CODES:
        raise ApiError("rate_limit", message, code=code, retry_after=retry_after(headers.get("Retry-After")))
    if code in TRANSIENT_CODES or status >= 500:
        raise ApiError("transient", message, code=code)
    if code in PERMISSION_CODES:
        raise ApiError("permanent", message, code=code)
    # 105xxx: the access token is expired or invalid; 36009004 is overloaded and means
    # the token only when its message names the token header.
    names_token = "access-token" in text.replace("_", "-")
    if str(code).startswith("105") or code in TOKEN_CODES or (code == 36009004 and names_token):
        raise ApiError("token", message, code=code)
    raise ApiError("permanent", message, code=code)


@register_client
class TiktokShopClient(ApiClient):
    platform = "tiktok_shop"

    def _auth_url(self):
        base = self.settings.base_url.rstrip("/")
        return AUTH_URL if base == DEFAULT_BASE_URL else base

    def _call(self, method, path, access_token, query=None, body=None):
        query = dict(query or {}, app_key=self.settings.app_key, timestamp=str(int(time.time())))
        if self.settings.shop_cipher:
            query["shop_cipher"] = self.settings.shop_cipher
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() if body is not None else b""
        query["sign"] = api_sign(self.settings.app_secret or "", path, query, raw)
        status, headers, document = self._http(
            method, self.settings.base_url.rstrip("/") + path, params=query, data=raw or None,
            headers={"x-tts-access-token": access_token, "Content-Type": "application/json"})
        return _check(status, headers, document, path)

    def _refresh(self, token, rejected=False):
        if not (token and token.refresh_token):
            raise ApiError("permanent", "TikTok: no refresh token on the channel: authorize the app for the shop")
        now = time.time()
        status, headers, document = self._http("GET", self._auth_url() + "/api/v2/token/refresh", params={
            "app_key": self.settings.app_key, "app_secret": self.settings.app_secret,
            "refresh_token": token.refresh_token, "grant_type": "refresh_token"})
        try:
            data = _check(status, headers, document, "token refresh")
        except ApiError as exc:
            if exc.kind == "token":  # the refresh token itself is refused: authorize again
                raise ApiError("permanent", exc.message, code=exc.code) from None
            raise
        if not data.get("access_token"):
            raise ApiError("transient", "TikTok token refresh answered without an access_token")
        # access_token_expire_in is a timestamp (a lifetime is accepted too).
        return Token(data["access_token"], expiry(now, data.get("access_token_expire_in")) or now + 7 * 86400,
                     data.get("refresh_token") or None, expiry(now, data.get("refresh_token_expire_in")))

    def fetch_order(self, order_ref):
        data = self._with_token(lambda access: self._call(
            "GET", "/order/202309/orders", access, {"ids": str(order_ref)}))
        for order in data.get("orders") or []:
            if str(order.get("id")) == str(order_ref):
                return self._mapped("TikTok orders", order_from_document, order)
        raise ApiError("not_found", f"TikTok orders: no order {order_ref}")

    def fetch_refund(self, refund_ref, order_ref=None):
        # There is no GET for one return: search by id; a cancellation (before
        # shipping) is found by the cancellations search instead.
        data = self._with_token(lambda access: self._call(
            "POST", "/return_refund/202309/returns/search", access, {"page_size": "10"},
            {"return_ids": [str(refund_ref)]}))
        for row in data.get("return_orders") or []:
            if str(row.get("return_id")) == str(refund_ref):
                return self._mapped("TikTok returns", refund_from_return, row)
        data = self._with_token(lambda access: self._call(
            "POST", "/return_refund/202309/cancellations/search", access, {"page_size": "10"},
            {"cancel_ids": [str(refund_ref)]}))
        for row in data.get("cancellations") or []:
            if str(row.get("cancel_id")) == str(refund_ref):
                return self._mapped("TikTok cancellations", refund_from_cancellation, row)
        raise ApiError("not_found", f"TikTok: no return or cancellation {refund_ref}")

    @classmethod
    def buyer_message_support(cls):
        # ../shared/docs/platform-apis.md: no documented TikTok Shop call messages a buyer or issues
        # a coupon to one buyer.
        return NOT_SUPPORTED

    # -- settlement bills: the statements of the window, then each statement's
    # transactions (one per order), both paged by page_token. The cursor carries the
    # statements not read yet and where the current one stands.
    def list_settlements(self, start, end, cursor=None):
        state = json.loads(cursor) if cursor else {"statements": "", "more": True, "pending": [], "page": ""}
        if not state["pending"]:
            query = {"statement_time_ge": str(int(start)), "statement_time_lt": str(int(end)),
                     "sort_field": "statement_time", "sort_order": "ASC", "page_size": "20"}
            if state["statements"]:
                query["page_token"] = state["statements"]
            data = self._with_token(lambda access: self._call("GET", "/finance/202309/statements", access, query))
            state["pending"] = [str(row["id"]) for row in data.get("statements") or [] if row.get("id")]
            state["statements"] = data.get("next_page_token") or ""
            state["more"] = bool(state["statements"])
            if not state["pending"]:
                return SettlementPage([], json.dumps(state) if state["more"] else None)
        statement_id = state["pending"][0]
        query = {"sort_field": "order_create_time", "page_size": "50"}
        if state["page"]:
            query["page_token"] = state["page"]
        data = self._with_token(lambda access: self._call(
            "GET", f"/finance/202309/statements/{statement_id}/statement_transactions", access, query))
        rows = self._mapped("TikTok statement_transactions", lambda items: [
            settlement_from_transaction(item, data) for item in items], data.get("statement_transactions") or [])
        state["page"] = data.get("next_page_token") or ""
        if not state["page"]:
            state["pending"].pop(0)
        done = not state["pending"] and not state["more"]
        return SettlementPage(rows, None if done else json.dumps(state))

    # -- the backstop: orders/search and returns/search by update time, whole
    # documents, paged by next_page_token ("" on the last page). Cancellations (before
    # shipping) are not listed here: their pushes and the order's own status carry them.
    list_size = 100

    def list_orders_since(self, start, end, cursor=None):
        query = {"page_size": str(self.list_size), "sort_field": "update_time"}
        if cursor:
            query["page_token"] = cursor
        data = self._with_token(lambda access: self._call(
            "POST", "/order/202309/orders/search", access, query,
            {"update_time_ge": int(start), "update_time_lt": int(end)}))
        orders = [self._mapped("TikTok orders/search", order_from_document, row) for row in data.get("orders") or []]
        return ListPage(orders=orders, cursor=data.get("next_page_token") or None)

    def list_refunds_since(self, start, end, cursor=None):
        query = {"page_size": str(self.list_size)}
        if cursor:
            query["page_token"] = cursor
        data = self._with_token(lambda access: self._call(
            "POST", "/return_refund/202309/returns/search", access, query,
            {"update_time_ge": int(start), "update_time_lt": int(end)}))
        refunds = [ListedRefund(as_str(row["return_id"]), as_str(row["order_id"]),
                                self._mapped("TikTok returns/search", refund_from_return, row))
                   for row in data.get("return_orders") or [] if as_str(row.get("return_id"))]
        return ListPage(refunds=refunds, cursor=data.get("next_page_token") or None)

    # -- shipments: POST /fulfillment/202309/orders/{order_id}/packages names the
    # line items (one per unit) the parcel holds; a subset is a partial shipment. No
    # idempotency key is documented: the caller checks the order's packages first
    # (idempotent_upload False), and the units already in a package are never named.
    def list_carriers(self):
        # Providers hang off each warehouse's delivery options: the union, by id.
        carriers = {}
        warehouses = self._with_token(lambda access: self._call("GET", "/logistics/202309/warehouses", access))
        for warehouse in warehouses.get("warehouses") or []:
            options = self._with_token(lambda access, w=warehouse: self._call(
                "GET", f"/logistics/202309/warehouses/{w.get('id')}/delivery_options", access))
            for option in options.get("delivery_options") or []:
                providers = self._with_token(lambda access, o=option: self._call(
                    "GET", f"/logistics/202309/delivery_options/{o.get('id')}/shipping_providers", access))
                for provider in providers.get("shipping_providers") or []:
                    if provider.get("id"):
                        carriers.setdefault(str(provider["id"]), provider.get("name") or str(provider["id"]))
        return list(carriers.items())

    def upload_shipment(self, order, parcel):
        # `order` is read just before (stock_picking._live_upload): its packed units are current.
        packaged = set(order.packed_line_refs)
        chosen = []
        for line, quantity in parcel.lines:
            # Units of the SKU at another price are another OrderLine: any of them will do.
            pool = [ref for other in [line] + [o for o in order.lines if o is not line and o.sku == line.sku]
                    for ref in (other.line_ref or "").split(",") if ref]
            free = [ref for ref in pool if ref not in packaged and ref not in chosen]
            if len(free) < quantity:
                raise ApiError("permanent", f"TikTok order {order.order_ref}: {quantity} unit(s) of SKU {line.sku} "
                                            f"to ship, {len(free)} not in a package yet")
            chosen.extend(free[:quantity])
        data = self._with_token(lambda access: self._call(
            "POST", f"/fulfillment/202309/orders/{order.order_ref}/packages", access, body={
                "tracking_number": parcel.tracking_ref, "shipping_provider_id": parcel.company_code,
                "order_line_item_ids": chosen}))
        return as_str(data.get("package_id")) or parcel.tracking_ref

    # -- stock levels: inventory/update sets the quantity of each warehouse (absolute);
    # the channel's Platform Warehouse ID names the one Odoo's level goes to. Its
    # read answer is not documented: the level last sent stands in for it.
    stock_mode = "absolute"

    def set_stock(self, item, quantity):
        if not item.product_ref:
            raise ApiError("permanent", f"TikTok: SKU {item.sku} has no platform product id")
        if not self.settings.warehouse_ref:
            raise ApiError("permanent", "TikTok: the channel has no platform warehouse id")
        self._with_token(lambda access: self._call(
            "POST", f"/product/202309/products/{item.product_ref}/inventory/update", access, body={
                "skus": [{"id": str(item.sku), "inventory": [
                    {"warehouse_id": self.settings.warehouse_ref, "quantity": int(quantity)}]}]}))


def _currency(amounts, what):
    # The amounts' scale depends on it: never guessed.
    if not amounts.get("currency"):
        raise ApiError("permanent", f"TikTok {what}: amounts without a currency")
    return amounts["currency"]


def _per_sku(items, currency, price=None):
    """Rows of one unit each -> [(sku, quantity, unit price, seller discount, first row,
    row ids)] in order of first appearance. Without `price` (shipments, refunds) the
    rows are only counted; with it, units of one SKU at different prices stay apart."""
    groups = {}
    for item in items:
        unit_price = price(item) if price else 0
        key = (as_str(item.get("sku_id")) or item.get("seller_sku"), unit_price)
        group = groups.setdefault(key, {"quantity": 0, "discount": 0, "item": item, "ids": []})
        group["quantity"] += 1
        group["discount"] += minor_units(item.get("seller_discount"), currency) if price else 0
        group["ids"].append(as_str(item.get("id") or item.get("return_line_item_id") or
                                   item.get("cancel_line_item_id")) or "")
    return [(sku, group["quantity"], unit_price, group["discount"], group["item"], group["ids"])
            for (sku, unit_price), group in groups.items()]


def order_from_document(order):
    """A 202309 order as a PlatformOrder: line items (one per unit) become one line per
    SKU and price with its quantity."""
    status = ORDER_STATUSES.get(order.get("status"))
    if status is None:
        raise ApiError("permanent", f"TikTok order {order.get('id')}: unknown status {order.get('status')!r}")
    payment = order.get("payment") or {}
    currency = _currency(payment, f"order {order.get('id')}")

    def unit_price(item):  # before the seller's discount
        if item.get("original_price") not in (None, ""):
            return minor_units(item["original_price"], currency)
        return minor_units(item.get("sale_price"), currency) + minor_units(item.get("seller_discount"), currency)

    items = order.get("line_items") or []
    lines = [OrderLine(sku=sku, quantity=quantity, unit_price=price, name=item.get("product_name") or "",
                       discount=discount, merchant_code=item.get("seller_sku") or None, line_ref=",".join(ids))
             for sku, quantity, price, discount, item, ids in _per_sku(items, currency, unit_price)]
    parcels = {}
    for item in items:
        if item.get("tracking_number"):
            parcels.setdefault((item["tracking_number"], item.get("shipping_provider_name")), []).append(item)
    shipments = [Shipment(tracking_ref=str(tracking), carrier=carrier or None,
                          lines=[(sku, quantity) for sku, quantity, *_rest in _per_sku(parcel, currency)])
                 for (tracking, carrier), parcel in parcels.items()]
    if not shipments and order.get("tracking_number"):
        shipments = [Shipment(tracking_ref=str(order["tracking_number"]), carrier=order.get("shipping_provider"))]
    address = order.get("recipient_address") or {}
    levels = {level.get("address_level"): level.get("address_name")
              for level in address.get("district_info") or [] if isinstance(level, dict)}
    user_id = as_str(order.get("user_id"))
    return PlatformOrder(
        order_ref=str(order.get("id")), status=status, lines=lines, currency=currency,
        shipping_fee=minor_units(payment.get("shipping_fee"), currency),
        discount=max(0, minor_units(payment.get("seller_discount"), currency) - sum(line.discount for line in lines)),
        platform_discount=minor_units(payment.get("platform_discount"), currency),
        paid=None if payment.get("total_amount") in (None, "") else minor_units(payment["total_amount"], currency),
        created_at=as_int(order.get("create_time"), None) or None, paid_at=as_int(order.get("paid_time"), None) or None,
        updated_at=as_int(order.get("update_time"), None) or None,
        buyer=Fan("tiktok_shop", "user_id", user_id) if user_id else None,
        address=Address(name=address.get("name") or None, phone=address.get("phone_number") or None,
                        province=levels.get("L1") or None, city=levels.get("L2") or None,
                        district=levels.get("L3") or None,
                        street=address.get("address_detail") or address.get("full_address") or None,
                        zip=address.get("postal_code") or None),
        shipments=shipments, cancel_reason=order.get("cancel_reason") or None,
        packed_line_refs=[as_str(item.get("id")) for item in items
                          if item.get("id") and (item.get("package_id") or item.get("tracking_number"))])


def _refund(ref, row, items, state, return_goods, reason, status, **aftersale):
    amount = row.get("refund_amount") or {}
    currency = _currency(amount, str(ref))
    stage = AFTERSALE_STAGES.get(status)
    if row.get("arbitration_status") == "IN_PROGRESS" and state == "requested":
        stage = "platform"
    return Refund(refund_ref=str(ref), amount=minor_units(amount.get("refund_total"), currency), state=state,
                  return_goods=return_goods,
                  lines=[(sku, quantity) for sku, quantity, *_rest in _per_sku(items, currency)],
                  reason=reason or None, platform_status=as_str(status), stage=stage,
                  requested_at=as_int(row.get("create_time"), None) or None,
                  updated_at=as_int(row.get("update_time"), None) or None, **aftersale)


def refund_from_return(row):
    status = row.get("return_status")
    state = "succeeded" if status in RETURN_SUCCEEDED else "closed" if status in RETURN_CLOSED else "requested"
    # The seller's next steps, each with its deadline (unix seconds): the earliest counts.
    deadlines = [as_int(action.get("deadline"), None) for action in row.get("seller_next_action_response") or []]
    kind = row.get("return_type")
    return _refund(row.get("return_id"), row, row.get("return_line_items") or [], state,
                   kind in ("RETURN_AND_REFUND", "REPLACEMENT"),
                   row.get("return_reason_text") or row.get("return_reason"), status,
                   kind=RETURN_KINDS.get(kind, "other" if kind else None),
                   deadline=min((d for d in deadlines if d), default=None),
                   return_tracking_ref=as_str(row.get("return_tracking_number")),
                   return_carrier=as_str(row.get("return_provider_name") or row.get("return_provider_id")))


def refund_from_cancellation(row):
    status = row.get("cancel_status")
    state = "succeeded" if status in CANCEL_SUCCEEDED else "closed" if status in CANCEL_CLOSED else "requested"
    return _refund(row.get("cancel_id"), row, row.get("cancel_line_items") or [], state, False,
                   row.get("cancel_reason_text") or row.get("cancel_reason"), status, kind="before_shipping")


def settlement_from_transaction(item, statement):
    """A statement transaction (decimal strings in currency units; what the platform
    keeps is negative): the commission, the affiliate's, the transaction fee, and the
    rest of fee_amount (with the shipping cost the platform charged) as other."""
    currency = item.get("currency") or statement.get("currency")
    if not currency:
        raise ApiError("permanent", f"TikTok statement transaction {item.get('id')}: amounts without a currency")

    def kept(name):
        return -minor_units(item.get(name), currency)

    commission = kept("platform_commission_amount")
    affiliate, service = kept("affiliate_commission_amount"), kept("transaction_fee_amount")
    other = kept("fee_amount") - commission - affiliate - service + kept("shipping_cost_amount")
    return SettlementRow(
        bill_ref=str(item["id"]), order_ref=str(item["order_id"]),
        settled_at=as_int(item.get("statement_time") or statement.get("statement_time"), None) or None,
        currency=currency, income=minor_units(item.get("revenue_amount"), currency),
        settle_amount=minor_units(item.get("settlement_amount"), currency), commission=commission,
        fees={"affiliate": affiliate, "service": service, "other": other},
        refund=kept("customer_refund_amount"))
