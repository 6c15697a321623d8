#!/usr/bin/env python3
"""A local stand-in for the order APIs of Douyin shop, Kuaishou shop, WeChat Channels
shop and TikTok Shop: one HTTP server, one base URL, each platform at its own paths.

    sandbox = PlatformSandbox(token_lifetime=5)
    sandbox.start()
    token = sandbox.add_app("douyin_shop", "app-key", "app-secret")
    sandbox.add_order("douyin_shop", "6919412345678901234", lines=[{"sku": "1001", "quantity": 2,
                      "unit_price": 1990}], buyer="dy-open-id", room_id="7301002")
    ... point a channel's API Base URL at sandbox.url ...
    sandbox.stop()

or from another process (the simulator): `scripts/platform_sandbox.py --port 8290`,
then JSON POSTs to /_sandbox/apps, /_sandbox/orders, /_sandbox/refunds,
/_sandbox/stock, /_sandbox/failures, /_sandbox/settings, /_sandbox/tokens, /_sandbox/expire and
GET /_sandbox/calls (see `Admin` below).

What it does the way the platforms do (as /work/shared/docs/platform-apis.md
describes them): it checks each request's signature with its own code (nothing is
imported from the addon's clients), issues access tokens that expire and refresh
tokens that work as each platform's do (Kuaishou's old refresh token dies when used),
answers in each platform's JSON shapes and error envelopes, and renders orders and
after-sales registered in one neutral form (amounts in fen, ids as text) as each
platform's own documents. Failures can be injected per order or after-sale id
(rate_limit, transient, not_found, permanent, token, stall; "lost": the call is done,
its answer is an error, as when the connection drops after the platform acted; a
key "ship:<order id>" limits a failure to the ship calls of an order), calls can be
limited per second, and every call is logged (`calls`) for the tests to assert on.

Shipments: each platform's ship call records parcels (`parcels`, GET /_sandbox/parcels)
and adds them to the order, so its detail lists them as the platform's does; unknown
company codes and an open refund are refused in the platform's envelope. Douyin's
logisticsAddMultiPack answers a repeated request_id with its first success.

Settlement bills (Douyin order.getSettleBillDetailV3, Kuaishou
open.funds.financial.settled.bill.detail, TikTok statements and their transactions, WeChat
funds flows): rows registered with add_settlement (POST /_sandbox/settlements), in fen,
rendered in each platform's units; failures on the key "settlements".

Standard library only.
"""
import argparse
import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PLATFORMS = ("douyin_shop", "kuaishou_shop", "wechat_channels_shop", "tiktok_shop")
FAILURE_KINDS = ("rate_limit", "transient", "not_found", "permanent", "token", "stall", "lost")
SIGNATURE_WINDOW = 600  # seconds a signed timestamp may be off


class Reject(Exception):
    """Answer the request with a platform error of `kind` ("signature", "token_expired",
    "token_invalid", "bad_credentials" or a FAILURE_KINDS entry)."""

    def __init__(self, kind, detail=""):
        super().__init__(kind)
        self.kind, self.detail = kind, detail


def _fen_text(fen, currency="USD"):
    """fen -> TikTok's decimal string in currency units."""
    digits = 0 if currency in ("JPY", "KRW", "VND", "CLP", "ISK") else 2
    return f"{Decimal(int(fen)).scaleb(-digits):.{digits}f}"


def _number(ref):
    """Ids the platform sends as JSON numbers (int64) when they are digits."""
    return int(ref) if str(ref).isdigit() else ref


def _default(value, default):
    """An after-sale's registered platform code, else the default one (0 is a code)."""
    return default if value is None else value


def _canonical_json(value):
    """Douyin's param_json: keys sorted at every level, no spaces, UTF-8 as is."""
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(key), ensure_ascii=False) + ":" + _canonical_json(value[key])
                              for key in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_canonical_json(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


class Platform:
    """One platform's paths, authentication, documents and error envelopes."""
    key = None
    routes = {}  # path -> (endpoint, method name of self)

    def __init__(self, sandbox):
        self.sandbox = sandbox

    # documents from the neutral form --------------------------------------------
    def order_document(self, order):
        raise NotImplementedError

    def refund_document(self, refund):
        raise NotImplementedError

    def error(self, kind, detail):
        """(HTTP status, JSON body, extra headers) of the platform's error of `kind`."""
        raise NotImplementedError

    def route(self, path):
        """(endpoint, method name) serving `path`, None when this platform has no such path."""
        return self.routes.get(path)


class Douyin(Platform):
    key = "douyin_shop"
    routes = {"/order/orderDetail": ("order", "order_detail"), "/afterSale/Detail": ("refund", "after_sale"),
              "/token/refresh": ("token", "refresh"),
              # stock levels
              "/sku/syncStock": ("stock", "sync_stock"), "/sku/stockNum": ("stock", "stock_num")}
    STATUS = {"created": 1, "paid": 2, "shipped": 3, "completed": 5, "cancelled": 4}
    ERRORS = {
        "signature": (40003, "非法的参数", "isv.signature-invalid", "签名校验失败"),
        "token_expired": (40003, "非法的参数", "isv.access-token-expired", "access_token已过期"),
        "token_invalid": (40003, "非法的参数", "isv.access-token-no-existed", "access_token不存在，请使用最新的access_token访问"),
        "token": (40003, "非法的参数", "isv.access-token-expired", "access_token已过期"),
        "refresh_invalid": (50001, "平台处理失败", "dop.token-generate-failed:token-invalid", "生成token失败，token不存在"),
        "bad_credentials": (40003, "非法的参数", "isv.app-id-invalid", "认证失败，app_key格式不正确"),
        "rate_limit": (60000, "触发限流，请稍后重试", "", ""),
        "transient": (20000, "服务不可用", "isp.service-error:10000", "系统超时"),
        "not_found_order": (40004, "非法的参数", "isv.parameter-invalid:20014", "查询订单不存在"),
        "not_found_refund": (40004, "非法的参数", "isv.parameter-invalid:11000", "参数错误，售后单ID错误"),
        "not_found_stock": (40004, "非法的参数", "isv.parameter-invalid:sku", "SKU不存在"),
        "permanent": (30001, "操作权限不足", "dop.authorization-no-existed", "店铺授权已失效，请重新授权"),
    }

    def authenticate(self, request):
        query, body = request.query, request.body
        app = self.sandbox.app(self.key, query.get("app_key"))
        if app is None:
            raise Reject("bad_credentials")
        method = request.path.strip("/").replace("/", ".")
        if query.get("method") != method or query.get("v") != "2":
            raise Reject("signature", "method or v")
        try:
            params = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            raise Reject("signature", "param_json") from None
        # The platform re-serializes param_json with sorted keys and signs that.
        pattern = (f"app_key{query.get('app_key')}method{method}param_json{_canonical_json(params)}"
                   f"timestamp{query.get('timestamp')}v2")
        secret = app["app_secret"]
        if query.get("sign_method") == "hmac-sha256":
            expected = hmac.new(secret.encode(), (secret + pattern + secret).encode(), hashlib.sha256).hexdigest()
        else:
            expected = hashlib.md5((secret + pattern + secret).encode()).hexdigest()
        if not hmac.compare_digest(str(query.get("sign", "")), expected):
            raise Reject("signature")
        if not str(query.get("timestamp", "")).isdigit() or \
                abs(time.time() - int(query["timestamp"])) > SIGNATURE_WINDOW:
            raise Reject("signature", "timestamp")
        request.params = params
        if method != "token.refresh":
            self.sandbox.check_access_token(self.key, app, query.get("access_token"))
        return app

    def order_detail(self, request, app):
        ref = str(request.params.get("shop_order_id", ""))
        return ref, lambda order: {"shop_order_detail": self.order_document(order)}

    # -- shipments (order.logisticsAddMultiPack, order.logisticsCompanyList) ----------
    routes = dict(routes, **{"/order/logisticsAddMultiPack": ("ship", "ship_multi_pack"),
                             "/order/logisticsCompanyList": ("carriers", "company_list")})
    COMPANIES = [{"id": 7, "name": "顺丰速运", "code": "shunfeng"}, {"id": 12, "name": "中通快递", "code": "zhongtong"},
                 {"id": 15, "name": "圆通快递", "code": "yuantong"}, {"id": 16, "name": "韵达快递", "code": "yunda"},
                 {"id": 6, "name": "京东物流", "code": "jd"}, {"id": 3, "name": "EMS", "code": "ems"}]
    # The docs name no error codes for these refusals: the sandbox's own, in Douyin's envelope.
    ERRORS = dict(ERRORS, **{
        "unknown_company": (40004, "非法的参数", "isv.parameter-invalid:company_code", "物流公司编码不存在"),
        "refund_open": (50002, "业务处理失败", "isv.business-failed:refund-in-progress", "订单存在进行中的售后，暂不能发货"),
        "ship_invalid": (40004, "非法的参数", "isv.parameter-invalid:shipped_order_info", "发货商品或数量不正确"),
    })

    def ship_multi_pack(self, request, app):
        params = request.params
        ref = str(params.get("order_id", ""))

        def ship(order):
            answer = self.sandbox.idempotent_answer(self.key, params.get("request_id"))
            if answer is not None:
                return answer
            codes = {company["code"]: company["name"] for company in self.COMPANIES}
            packs = params.get("pack_list") or []
            if not packs or any(pack.get("company_code") not in codes for pack in packs):
                raise Reject("unknown_company")
            if self.sandbox.refund_open(self.key, ref) and not params.get("is_refund_reject"):
                raise Reject("refund_open")
            skus = {line.get("line_ref") or f"{ref}{index}": line["sku"] for index, line in enumerate(order["lines"])}
            answer = {"pack_list": []}
            for pack in packs:
                lines = [[skus.get(str(item.get("shipped_order_id"))), int(item.get("shipped_num") or 0)]
                         for item in pack.get("shipped_order_info") or []]
                if not lines or any(sku is None or qty <= 0 for sku, qty in lines):
                    raise Reject("ship_invalid")
                parcel = self.sandbox.record_parcel(self.key, order, pack.get("logistics_code"),
                                                    codes[pack["company_code"]], pack["company_code"], lines,
                                                    params.get("request_id"))
                answer["pack_list"].append({"pack_id": parcel["parcel_ref"], "logistics_code": parcel["tracking_ref"],
                                            "shipped_order_info": pack.get("shipped_order_info")})
            self.sandbox.remember_answer(self.key, params.get("request_id"), answer)
            return answer
        return ref, ship

    def company_list(self, request, app):
        return None, lambda _record: list(self.COMPANIES)

    def after_sale(self, request, app):
        ref = str(request.params.get("after_sale_id", ""))
        return ref, self.refund_document

    # -- stock levels: sku.syncStock (overwrite, or add with idempotent_id), sku.stockNum
    def sync_stock(self, request, app):
        params = request.params
        sku = str(params.get("sku_id") or params.get("code") or "")
        if params.get("incremental"):
            if not params.get("idempotent_id"):
                raise Reject("permanent", "idempotent_id is required when incremental")
            apply = lambda: self.sandbox.change_stock(self.key, sku, int(params["stock_num"]),  # noqa: E731
                                                      str(params["idempotent_id"]))
        else:
            apply = lambda: self.sandbox.set_stock(self.key, sku, int(params.get("stock_num")))  # noqa: E731
        return sku, lambda: (apply(), {})[1]

    def stock_num(self, request, app):
        sku = str(request.params.get("sku_id") or request.params.get("code") or "")
        return sku, lambda: {"stock_num": self.sandbox.stock_of(self.key, sku), "prehold_stock_num": 0,
                             "prom_stock_num": 0, "sku_type": 0}

    def refresh(self, request, app):
        issued = self.sandbox.refresh(self.key, app, request.params.get("refresh_token"), rotate=True)
        return self.ok({"access_token": issued["access_token"], "expires_in": issued["lifetime"],
                        "refresh_token": issued["refresh_token"], "scope": "SCOPE", "shop_id": 88123456})

    def ok(self, data):
        return 200, {"code": 10000, "msg": "success", "sub_code": "", "sub_msg": "", "data": data,
                     "log_id": secrets.token_hex(8)}, {}

    def error(self, kind, detail):
        code, msg, sub_code, sub_msg = self.ERRORS.get(kind, self.ERRORS["permanent"])
        return 200, {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg, "data": {},
                     "log_id": secrets.token_hex(8)}, {}

    def order_document(self, order):
        lines, ref = order["lines"], order["order_ref"]
        shop_discount = order["discount"] + sum(line["discount"] for line in lines)
        room = order.get("room_id")
        address = order.get("address") or {}
        return {
            "order_id": ref, "order_status": order.get("platform_status") or self.STATUS[order["status"]],
            "create_time": order["created_at"], "pay_time": order.get("paid_at") or 0,
            "update_time": order["updated_at"], "order_amount": order["goods"] + order["shipping_fee"],
            "pay_amount": order["paid"], "post_amount": order["shipping_fee"],
            "promotion_amount": shop_discount + order["platform_discount"], "promotion_shop_amount": shop_discount,
            "promotion_platform_amount": order["platform_discount"], "promotion_talent_amount": 0,
            "doudian_open_id": order.get("buyer") or "", "cancel_reason": order.get("cancel_reason") or "",
            "encrypt_post_receiver": "#" + base64.b64encode((address.get("name") or "").encode()).decode() + "#",
            "mask_post_receiver": address.get("name") or "", "mask_post_tel": address.get("phone") or "",
            "mask_post_addr": {"province": {"name": address.get("province") or "", "id": "11"},
                               "city": {"name": address.get("city") or "", "id": "1101"},
                               "town": {"name": address.get("district") or "", "id": "110105"},
                               "street": {"name": "", "id": ""}, "detail": address.get("street") or ""},
            "logistics_info": [{
                "tracking_no": parcel["tracking_ref"], "company": parcel.get("carrier") or "",
                "company_name": parcel.get("carrier") or "", "ship_time": parcel.get("shipped_at") or 0,
                "product_info": [{"sku_id": _number(sku), "product_count": qty, "sku_order_id": ""}
                                 for sku, qty in parcel.get("lines") or []]}
                for parcel in order["shipments"]],
            "sku_order_list": [{
                "order_id": line.get("line_ref") or f"{ref}{index}", "parent_order_id": ref,
                "sku_id": _number(line["sku"]), "code": line.get("merchant_code") or "", "out_sku_id": "",
                "product_id": 3500000000000000000 + index, "product_name": line.get("name") or "",
                "item_num": line["quantity"], "origin_amount": line["unit_price"],
                "sum_amount": line["unit_price"] * line["quantity"],
                "pay_amount": line["unit_price"] * line["quantity"] - line["discount"],
                "promotion_shop_amount": line["discount"], "theme_type": "1" if room else "0",
                "author_id": _number(order.get("host_ref") or 0) if room else 0,
                "author_name": (order.get("host_name") or "") if room else "",
                "room_id": _number(room) if room else 0, "room_id_str": str(room) if room else ""}
                for index, line in enumerate(lines)],
        }

    def refund_document(self, refund):
        state = refund["state"]
        order = self.sandbox.orders.get((self.key, refund["order_ref"])) or {"lines": []}
        counts = dict((str(sku), qty) for sku, qty in refund["lines"])
        return {
            "process_info": {"after_sale_info": {
                "after_sale_id": _number(refund["refund_ref"]),
                "after_sale_status": refund.get("platform_status") or {"requested": 6, "succeeded": 12, "closed": 28}[state],
                "after_sale_type": _default(refund.get("aftersale_type"), 0 if refund["return_goods"] else 1),
                "refund_status": {"requested": 1, "succeeded": 3, "closed": 4}[state],
                "refund_total_amount": refund["amount"], "refund_post_amount": 0,
                "real_refund_amount": refund["amount"] if state == "succeeded" else 0,
                "apply_time": refund["created_at"], "update_time": refund.get("updated_at") or refund["created_at"],
                "reason": refund.get("reason") or ""},
                # The buyer's parcel back (no deadline in Douyin's detail).
                "logistics_info": {"return": {"tracking_no": refund.get("return_tracking") or "",
                                              "company_name": refund.get("return_carrier") or ""}}},
            "order_info": {"shop_order_id": _number(refund["order_ref"]), "sku_order_infos": [
                {"sku_order_id": _number(line.get("line_ref") or f"{refund['order_ref']}{index}"),
                 "sku_id": _number(line["sku"]), "shop_sku_code": line.get("merchant_code") or "",
                 "item_quantity": line["quantity"], "pay_amount": line["unit_price"] * line["quantity"],
                 "after_sale_item_count": counts.get(str(line["sku"]), 0)}
                for index, line in enumerate(order["lines"])]},
        }


class Kuaishou(Platform):
    key = "kuaishou_shop"
    routes = {"/open/order/detail": ("order", "order_detail"),
              "/open/seller/order/refund/detail": ("refund", "refund_detail"),
              "/oauth2/refresh_token": ("token", "refresh"),
              # stock levels: increments only, no read
              "/open/item/sku/stock/update": ("stock", "stock_update")}
    STATUS = {"created": 10, "paid": 30, "shipped": 40, "completed": 70, "cancelled": 80}
    ERRORS = {
        "signature": (2, "签名校验失败"), "token_expired": (28, "TOKEN过期"), "token_invalid": (28, "鉴权失败"),
        "token": (28, "TOKEN过期"), "bad_credentials": (100200101, "unauthorized_client"),
        "refresh_invalid": (100200102, "refreshToken.discarded"),
        "rate_limit": (23, "Exceed qps limit, KEY [apiId:{method};appkey:{appkey}], MAX_QPS [{qps}]"),
        "transient": (500, "系统繁忙，请稍后重试"), "not_found_order": (21, "订单不存在"),
        "not_found_refund": (300011, "退款单不存在"), "not_found_stock": (21, "商品不存在"),
        "permanent": (24, "AUTHORIZATION_REVOKED"),
    }
    SIGNED = ("appkey", "method", "version", "param", "access_token", "timestamp", "signMethod")

    def authenticate(self, request):
        if request.path == "/oauth2/refresh_token":
            form = request.form()
            app = self.sandbox.app(self.key, form.get("app_id"))
            if app is None or form.get("app_secret") != app["app_secret"]:
                raise Reject("bad_credentials")
            request.params = form
            return app
        params = dict(request.query, **request.form())
        app = self.sandbox.app(self.key, params.get("appkey"))
        if app is None:
            raise Reject("bad_credentials")
        secret = app.get("sign_secret") or ""
        text = "&".join(f"{key}={params[key]}" for key in sorted(self.SIGNED) if key in params)
        text += "&signSecret=" + secret
        if params.get("signMethod") == "MD5":
            expected = hashlib.md5(text.encode()).hexdigest()
        else:
            expected = base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha256).digest()).decode()
        if params.get("method") != request.path.strip("/").replace("/", ".") or \
                not hmac.compare_digest(str(params.get("sign", "")), expected):
            raise Reject("signature")
        if not str(params.get("timestamp", "")).isdigit() or \
                abs(time.time() - int(params["timestamp"]) / 1000) > SIGNATURE_WINDOW:
            raise Reject("signature", "timestamp")
        try:
            request.params = json.loads(params.get("param") or "{}")
        except ValueError:
            raise Reject("signature", "param") from None
        self.sandbox.check_access_token(self.key, app, params.get("access_token"))
        return app

    def order_detail(self, request, app):
        return str(request.params.get("oid", "")), self.order_document

    # -- shipments (open.seller.order.goods.deliver: whole orders only) ---------------
    routes = dict(routes, **{"/open/seller/order/goods/deliver": ("ship", "goods_deliver")})
    EXPRESS_CODES = {2: "EMS", 3: "申通快递", 4: "顺丰速运", 6: "圆通速递", 8: "邮政快递包裹", 9: "中通快递",
                     11: "韵达快递", 14: "京东物流", 17: "德邦快递", 109: "极兔速递"}
    # The docs name no result codes for these refusals: the sandbox's own.
    ERRORS = dict(ERRORS, **{
        "unknown_company": (80001, "快递公司编码错误"),
        "refund_open": (80002, "订单存在售后，不允许发货"),
        "ship_invalid": (80003, "订单状态不允许发货"),
    })

    def goods_deliver(self, request, app):
        params = request.params
        ref = str(params.get("orderId", ""))

        def deliver(order):
            tracking = str(params.get("expressNo") or "")
            if any(parcel["tracking_ref"] == tracking for parcel in order["shipments"]):
                return {}  # since 2024-11-25 a repeat with the same tracking number succeeds
            code = params.get("expressCode")
            if not isinstance(code, int) or code not in self.EXPRESS_CODES:
                raise Reject("unknown_company")
            if self.sandbox.refund_open(self.key, ref):
                raise Reject("refund_open")
            if order["status"] != "paid" or not tracking:
                raise Reject("ship_invalid")
            self.sandbox.record_parcel(self.key, order, tracking, code, str(code),
                                       [[line["sku"], line["quantity"]] for line in order["lines"]])
            return {}
        return ref, deliver

    def refund_detail(self, request, app):
        return str(request.params.get("refundId", "")), self.refund_document

    def stock_update(self, request, app):
        params = request.params
        sku, change = str(params.get("skuId", "")), int(params.get("skuChangeStock") or 0)
        if not 0 < change < 9999999 or params.get("changeType") not in (1, 2):
            raise Reject("permanent", "skuChangeStock / changeType")
        delta = change if params["changeType"] == 1 else -change
        return sku, lambda: (self.sandbox.change_stock(self.key, sku, delta), {})[1]

    def refresh(self, request, app):
        if request.params.get("grant_type") != "refresh_token":
            raise Reject("bad_credentials")
        # Each refresh issues a new refresh token; the old one dies (within 5 minutes on
        # the platform; here at once, so a client that keeps the old one fails).
        issued = self.sandbox.refresh(self.key, app, request.params.get("refresh_token"), rotate=True,
                                      kill_old=True)
        return 200, {"result": 1, "access_token": issued["access_token"], "expires_in": issued["lifetime"],
                     "refresh_token": issued["refresh_token"],
                     "refresh_token_expires_in": issued["refresh_lifetime"], "scopes": ["merchant_order"]}, {}

    def ok(self, data):
        return 200, {"result": 1, "msg": "success", "data": data, "requestId": secrets.token_hex(8)}, {}

    def error(self, kind, detail):
        result, message = self.ERRORS.get(kind, self.ERRORS["permanent"])
        if kind in ("bad_credentials", "refresh_invalid"):
            return 200, {"result": result, "error": "access_denied", "error_msg": message}, {}
        message = message.format(method=detail or "open.order.detail", appkey="ks-app", qps="10.0")
        return 200, {"result": result, "error_msg": message, "requestId": secrets.token_hex(8)}, {}

    def order_document(self, order):
        if len(order["lines"]) != 1:
            raise ValueError("a Kuaishou order has exactly one SKU")
        line, address, room = order["lines"][0], order.get("address") or {}, order.get("room_id")
        return {
            "orderBaseInfo": {
                "oid": _number(order["order_ref"]), "status": order.get("platform_status") or self.STATUS[order["status"]],
                "payTime": (order.get("paid_at") or 0) * 1000, "createTime": order["created_at"] * 1000,
                "updateTime": order["updated_at"] * 1000, "buyerOpenId": order.get("buyer") or "",
                "buyerNick": order.get("buyer_nickname") or "", "totalFee": order["paid"],
                "expressFee": order["shipping_fee"], "discountFee": order["discount"] + line["discount"],
                "carrierType": 2 if room else 1, "carrierId": _number(room) if room else 0,
                "orderSellerRoleInfo": {"roleType": 2, "roleId": _number(order.get("host_ref") or 0),
                                        "roleName": order.get("host_name") or ""} if room else None},
            "orderItemInfo": {
                "skuId": _number(line["sku"]), "skuNick": line.get("merchant_code") or "",
                "itemTitle": line.get("name") or "", "num": line["quantity"], "price": line["unit_price"],
                "originalPrice": line["unit_price"], "discountFee": line["discount"], "goodsCode": ""},
            "orderAddress": {
                "encryptedConsignee": "##" + secrets.token_hex(8) + "##", "desensitiseConsignee": address.get("name") or "",
                "encryptedMobile": "##" + secrets.token_hex(8) + "##", "desensitiseMobile": address.get("phone") or "",
                "province": address.get("province") or "", "city": address.get("city") or "",
                "district": address.get("district") or "", "desensitiseAddress": address.get("street") or ""},
            "orderLogisticsInfo": [{"expressNo": parcel["tracking_ref"], "expressCode": _number(parcel.get("carrier") or 0)}
                                   for parcel in order["shipments"]],
        }

    def refund_document(self, refund):
        lines = refund["lines"] or [[None, None]]
        return {"refundId": _number(refund["refund_ref"]), "oid": _number(refund["order_ref"]),
                "status": refund.get("platform_status") or
            {"requested": 10, "succeeded": 60, "closed": 70}[refund["state"]],
                "handlingWay": _default(refund.get("aftersale_type"), 1 if refund["return_goods"] else 10),
                "refundFee": refund["amount"],
                "skuId": _number(lines[0][0]) if lines[0][0] else None, "num": lines[0][1],
                "refundReason": refund.get("reason") or "", "endTime": refund["created_at"] * 1000,
                # Kuaishou's times are unix milliseconds.
                "submitTime": refund["created_at"] * 1000, "createTime": refund["created_at"] * 1000,
                "updateTime": (refund.get("updated_at") or refund["created_at"]) * 1000,
                "expireTime": refund["deadline"] * 1000 if refund.get("deadline") else None}


class Wechat(Platform):
    key = "wechat_channels_shop"
    routes = {"/channels/ec/order/get": ("order", "order_get"),
              "/channels/ec/aftersale/getaftersaleorder": ("refund", "after_sale"),
              "/cgi-bin/stable_token": ("token", "stable_token"),
              # stock levels: diff_type 1 add, 2 subtract, 3 set
              "/channels/ec/product/stock/update": ("stock", "stock_update")}
    STATUS = {"created": 10, "paid": 20, "shipped": 30, "completed": 100, "cancelled": 250}
    ERRORS = {
        "token_expired": (42001, "access_token expired"),
        "token_invalid": (40001, "invalid credential, access_token is invalid or not latest"),
        "token": (40001, "invalid credential, access_token is invalid or not latest"),
        "bad_credentials": (40125, "invalid appsecret"), "signature": (40125, "invalid appsecret"),
        "rate_limit": (45011, "api minute-quota reach limit  mustslower  retry next minute"),
        "transient": (-1, "system error"), "not_found_order": (100002, "Not exist"),
        "not_found_refund": (100002, "Not exist"), "not_found_stock": (100002, "Not exist"),
        "permanent": (48001, "api unauthorized"),
    }
    STABLE_WINDOW = 300  # stable_token hands out a new token only in the last 5 minutes

    def authenticate(self, request):
        try:
            request.params = json.loads(request.body.decode("utf-8") or "{}")
        except ValueError:
            raise Reject("permanent", "body") from None
        if request.path == "/cgi-bin/stable_token":
            app = self.sandbox.app(self.key, request.params.get("appid"))
            if app is None or request.params.get("secret") != app["app_secret"] or \
                    request.params.get("grant_type") != "client_credential":
                raise Reject("bad_credentials")
            return app
        return self.sandbox.check_access_token(self.key, None, request.query.get("access_token"))

    def order_get(self, request, app):
        return str(request.params.get("order_id", "")), lambda order: {"order": self.order_document(order)}

    # -- shipments (order/delivery/send, order/deliverycompanylist/get) -------------
    routes = dict(routes, **{"/channels/ec/order/delivery/send": ("ship", "delivery_send"),
                             "/channels/ec/order/deliverycompanylist/get": ("carriers", "company_list")})
    COMPANIES = [{"delivery_id": "SF", "delivery_name": "顺丰速运"}, {"delivery_id": "ZTO", "delivery_name": "中通快递"},
                 {"delivery_id": "YTO", "delivery_name": "圆通速递"}, {"delivery_id": "YD", "delivery_name": "韵达快递"},
                 {"delivery_id": "JD", "delivery_name": "京东物流"}, {"delivery_id": "EMS", "delivery_name": "EMS"},
                 {"delivery_id": "OTHER", "delivery_name": "其他"}]
    # The docs name no errcode for these refusals: the sandbox's own.
    ERRORS = dict(ERRORS, **{
        "unknown_company": (10020055, "delivery_id invalid"),
        "refund_open": (10020064, "order has after-sale in progress, can not send"),
        "ship_invalid": (10020052, "product_infos invalid"),
    })

    def delivery_send(self, request, app):
        params = request.params
        ref = str(params.get("order_id", ""))

        def send(order):
            names = {company["delivery_id"]: company["delivery_name"] for company in self.COMPANIES}
            deliveries = params.get("delivery_list") or []
            if not deliveries or any(d.get("delivery_id") not in names for d in deliveries):
                raise Reject("unknown_company")
            if self.sandbox.refund_open(self.key, ref):
                raise Reject("refund_open")
            skus = {str(line["sku"]) for line in order["lines"]}
            for delivery in deliveries:
                lines = [[str(item.get("sku_id")), int(item.get("product_cnt") or 0)]
                         for item in delivery.get("product_infos") or []]
                if not lines or any(sku not in skus or qty <= 0 for sku, qty in lines):
                    raise Reject("ship_invalid")
                self.sandbox.record_parcel(self.key, order, delivery.get("waybill_id"),
                                           names[delivery["delivery_id"]], delivery["delivery_id"], lines)
            return {}
        return ref, send

    def company_list(self, request, app):
        return None, lambda _record: {"company_list": list(self.COMPANIES)}

    def after_sale(self, request, app):
        return str(request.params.get("after_sale_order_id", "")), \
            lambda refund: {"after_sale_order": self.refund_document(refund)}

    def stock_update(self, request, app):
        params = request.params
        sku, num, diff_type = str(params.get("sku_id", "")), int(params.get("num") or 0), params.get("diff_type")
        if diff_type not in (1, 2, 3) or num < 0:
            raise Reject("permanent", "diff_type / num")
        if diff_type == 3:
            return sku, lambda: (self.sandbox.set_stock(self.key, sku, num), {})[1]
        return sku, lambda: (self.sandbox.change_stock(self.key, sku, num if diff_type == 1 else -num), {})[1]

    def stable_token(self, request, app):
        current = self.sandbox.current_access_token(self.key, app["app_key"])
        if current and not request.params.get("force_refresh") and \
                current["expires_at"] - time.time() > self.STABLE_WINDOW:
            issued = {"access_token": current["token"], "lifetime": int(current["expires_at"] - time.time())}
        else:
            issued = self.sandbox.issue(self.key, app["app_key"], with_refresh=False, kill_access=True)
        return 200, {"access_token": issued["access_token"], "expires_in": issued["lifetime"]}, {}

    def ok(self, data):
        return 200, dict({"errcode": 0, "errmsg": "ok"}, **data), {}

    def error(self, kind, detail):
        code, message = self.ERRORS.get(kind, self.ERRORS["permanent"])
        return 200, {"errcode": code, "errmsg": f"{message} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"}, {}

    def order_document(self, order):
        address, room = order.get("address") or {}, order.get("room_id")
        seller_discount = order["discount"] + sum(line["discount"] for line in order["lines"])
        document = {
            "order_id": _number(order["order_ref"]), "status": order.get("platform_status") or self.STATUS[order["status"]],
            "create_time": order["created_at"], "update_time": order["updated_at"], "openid": order.get("buyer") or "",
            "order_detail": {
                "product_infos": [{
                    "product_id": _number(line.get("product_id") or 10000000000 + index), "sku_id": str(line["sku"]),
                    "sku_code": line.get("merchant_code") or "", "title": line.get("name") or "",
                    "sku_cnt": line["quantity"], "sale_price": line["unit_price"],
                    "real_price": line["unit_price"] * line["quantity"] - line["discount"],
                    "merchant_discounted_price": line["discount"]} for index, line in enumerate(order["lines"])],
                "price_info": {"product_price": order["goods"], "order_price": order["paid"],
                               "freight": order["shipping_fee"], "discounted_price": seller_discount,
                               "merchant_discounted_price": seller_discount, "finder_discounted_price": 0,
                               "cash_coupon_discounted_price": order["platform_discount"],
                               "is_discounted": bool(seller_discount or order["platform_discount"])},
                "pay_info": {"pay_time": order.get("paid_at") or 0, "transaction_id": secrets.token_hex(14)},
                "delivery_info": {
                    "address_info": {"user_name": address.get("name") or "", "tel_number": address.get("phone") or "",
                                     "province_name": address.get("province") or "",
                                     "city_name": address.get("city") or "",
                                     "county_name": address.get("district") or "",
                                     "detail_info": address.get("street") or "",
                                     "postal_code": address.get("zip") or "", "hash_code": secrets.token_hex(16)},
                    "delivery_product_info": [{
                        "waybill_id": parcel["tracking_ref"], "delivery_id": parcel.get("carrier") or "",
                        "delivery_name": parcel.get("carrier") or "", "delivery_time": parcel.get("shipped_at") or 0,
                        "deliver_type": 1,
                        "product_infos": [{"sku_id": str(sku), "product_cnt": qty} for sku, qty in parcel.get("lines") or []]}
                        for parcel in order["shipments"]]},
                "ext_info": {"live_id": str(room) if room else "", "finder_id": order.get("host_ref") or "",
                             "order_scene": 2 if room else 1},
            },
        }
        if order.get("union_id"):
            document["unionid"] = order["union_id"]
        return document

    def refund_document(self, refund):
        state, sku, count = refund["state"], *((refund["lines"] or [[None, None]])[0])
        status = refund.get("platform_status") or {
            "requested": "MERCHANT_PROCESSING", "closed": "USER_CANCELD",
            "succeeded": "MERCHANT_RETURN_SUCCESS" if refund["return_goods"] else "MERCHANT_REFUND_SUCCESS"}[state]
        return {"after_sale_order_id": _number(refund["refund_ref"]), "order_id": _number(refund["order_ref"]),
                "status": status,
                "type": _default(refund.get("aftersale_type"), "RETURN" if refund["return_goods"] else "REFUND"),
                "deadline": refund.get("deadline") or 0,
                "return_info": {"waybill_id": refund.get("return_tracking") or "", "delivery_id": "",
                                "delivery_name": refund.get("return_carrier") or ""},
                "openid": "", "product_info": {"product_id": "1", "sku_id": str(sku) if sku else "", "count": count or 0},
                "refund_info": {"amount": refund["amount"], "refund_reason": 1},
                "reason_text": refund.get("reason") or "", "create_time": refund["created_at"],
                "update_time": refund.get("updated_at") or refund["created_at"]}


class Tiktok(Platform):
    key = "tiktok_shop"
    routes = {"/order/202309/orders": ("order", "orders"),
              "/return_refund/202309/returns/search": ("refund", "returns"),
              "/return_refund/202309/cancellations/search": ("refund", "cancellations"),
              "/api/v2/token/refresh": ("token", "refresh")}
    STATUS = {"created": "UNPAID", "paid": "AWAITING_SHIPMENT", "shipped": "IN_TRANSIT", "completed": "COMPLETED",
              "cancelled": "CANCELLED"}
    ERRORS = {
        "signature": (401, 106001, "Invalid signature."),
        "token_expired": (401, 105002, "Expired credentials. The access token has expired, please refresh it."),
        "token_invalid": (401, 105001, "Invalid credentials. The access token is invalid."),
        "token": (401, 105002, "Expired credentials. The access token has expired, please refresh it."),
        "bad_credentials": (400, 36009004, "Invalid credentials. Invalid `app_key` query parameter."),
        "refresh_invalid": (200, 36004004, "Invalid refresh_token."),
        "rate_limit": (429, 36009002, "Too many requests. The request rate limit has been exceeded."),
        "transient": (500, 36009003, "Internal error. Please try again later."),
        "permanent": (403, 105005, "Access denied. This app has not been granted any access scope required "
                                   "by this endpoint."),
    }

    def authenticate(self, request):
        query = request.query
        if request.path == "/api/v2/token/refresh":
            app = self.sandbox.app(self.key, query.get("app_key"))
            if app is None or query.get("app_secret") != app["app_secret"] or \
                    query.get("grant_type") != "refresh_token":
                raise Reject("bad_credentials")
            return app
        app = self.sandbox.app(self.key, query.get("app_key"))
        if app is None:
            raise Reject("bad_credentials")
        secret = app["app_secret"].encode()
        signed = "".join(f"{key}{query[key]}" for key in sorted(query) if key not in ("sign", "access_token"))
        message = secret + request.path.encode() + signed.encode() + request.body + secret
        if not hmac.compare_digest(query.get("sign", ""), hmac.new(secret, message, hashlib.sha256).hexdigest()):
            raise Reject("signature")
        if not str(query.get("timestamp", "")).isdigit() or abs(time.time() - int(query["timestamp"])) > 300:
            raise Reject("signature", "timestamp")
        if app.get("shop_cipher") and query.get("shop_cipher") != app["shop_cipher"]:
            raise Reject("bad_credentials", "shop_cipher")
        try:
            request.params = json.loads(request.body.decode("utf-8") or "{}")
        except ValueError:
            raise Reject("signature", "body") from None
        self.sandbox.check_access_token(self.key, app, request.headers.get("x-tts-access-token"))
        return app

    def orders(self, request, app):
        return request.query.get("ids", ""), lambda order: {"orders": [self.order_document(order)]}

    def returns(self, request, app):
        ids = request.params.get("return_ids") or [""]
        return str(ids[0]), lambda refund: {"return_orders": [self.refund_document(refund)]} \
            if refund.get("kind", "return") == "return" else None

    def cancellations(self, request, app):
        ids = request.params.get("cancel_ids") or [""]
        return str(ids[0]), lambda refund: {"cancellations": [self.refund_document(refund)]} \
            if refund.get("kind") == "cancellation" else None

    def refresh(self, request, app):
        issued = self.sandbox.refresh(self.key, app, request.query.get("refresh_token"), rotate=False)
        return self.ok({"access_token": issued["access_token"],
                        "access_token_expire_in": int(time.time()) + issued["lifetime"],
                        "refresh_token": issued["refresh_token"],
                        "refresh_token_expire_in": int(issued["refresh_expires_at"]),
                        "open_id": "tts-open-id", "seller_name": "Sandbox shop", "seller_base_region": "US",
                        "user_type": 0, "granted_scopes": ["seller.order.info"]})

    def ok(self, data):
        return 200, {"code": 0, "message": "Success", "request_id": secrets.token_hex(10), "data": data}, {}

    def not_found(self, endpoint):
        # The searches and the order detail answer an empty list for unknown ids.
        return self.ok({"orders": [], "return_orders": [], "cancellations": [], "total_count": 0})

    def error(self, kind, detail):
        status, code, message = self.ERRORS.get(kind, self.ERRORS["permanent"])
        headers = {"Retry-After": "1"} if kind == "rate_limit" else {}
        return status, {"code": code, "message": message, "request_id": secrets.token_hex(10), "data": None}, headers

    def order_document(self, order):
        currency, address = order.get("currency") or "USD", order.get("address") or {}
        items, units = [], {}
        for index, line in enumerate(order["lines"]):
            quantity, discount = line["quantity"], line["discount"]
            for unit in range(quantity):  # one line item per unit; the discount spread over them
                unit_discount = discount // quantity + (1 if unit < discount % quantity else 0)
                item = {"id": f"{order['order_ref']}{index}{unit:03d}", "sku_id": str(line["sku"]),
                        "seller_sku": line.get("merchant_code") or "", "product_name": line.get("name") or "",
                        "sku_name": "", "original_price": _fen_text(line["unit_price"], currency),
                        "sale_price": _fen_text(line["unit_price"] - unit_discount, currency),
                        "seller_discount": _fen_text(unit_discount, currency), "platform_discount": "0.00",
                        "currency": currency, "display_status": self.STATUS[order["status"]]}
                items.append(item)
                units.setdefault(str(line["sku"]), []).append(item)
        for parcel in order["shipments"]:
            for sku, qty in parcel.get("lines") or [(sku, len(group)) for sku, group in units.items()]:
                for item in [item for item in units.get(str(sku), []) if "tracking_number" not in item][:qty]:
                    item.update(tracking_number=parcel["tracking_ref"], shipping_provider_name=parcel.get("carrier") or "",
                                package_id=f"pkg-{parcel['tracking_ref']}")
        seller_discount = order["discount"] + sum(line["discount"] for line in order["lines"])
        document = {
            "id": str(order["order_ref"]), "status": order.get("platform_status") or self.STATUS[order["status"]],
            "create_time": order["created_at"], "update_time": order["updated_at"],
            "paid_time": order.get("paid_at") or 0, "user_id": order.get("buyer") or "",
            "payment": {"currency": currency, "sub_total": _fen_text(order["goods"], currency),
                        "shipping_fee": _fen_text(order["shipping_fee"], currency),
                        "seller_discount": _fen_text(seller_discount, currency),
                        "platform_discount": _fen_text(order["platform_discount"], currency),
                        "total_amount": _fen_text(order["paid"], currency),
                        "original_total_product_price": _fen_text(
                            sum(line["unit_price"] * line["quantity"] for line in order["lines"]), currency)},
            "recipient_address": {
                "name": address.get("name") or "", "phone_number": address.get("phone") or "",
                "address_detail": address.get("street") or "", "postal_code": address.get("zip") or "",
                "district_info": [{"address_level": level, "address_level_name": name, "address_name": value}
                                  for level, name, value in (("L1", "state", address.get("province")),
                                                             ("L2", "city", address.get("city")),
                                                             ("L3", "district", address.get("district"))) if value]},
            "line_items": items, "cancel_reason": order.get("cancel_reason") or "",
        }
        if order["shipments"]:
            document.update(tracking_number=order["shipments"][0]["tracking_ref"],
                            shipping_provider=order["shipments"][0].get("carrier") or "")
        return document

    def refund_document(self, refund):
        currency = refund.get("currency") or "USD"
        cancellation = refund.get("kind") == "cancellation"
        prefix = "cancel" if cancellation else "return"
        rows = [{f"{prefix}_line_item_id": f"{refund['refund_ref']}{index}{unit:03d}", "sku_id": str(sku),
                 "order_line_item_id": "", "seller_sku": ""}
                for index, (sku, qty) in enumerate(refund["lines"]) for unit in range(qty)]
        state = refund["state"]
        document = {f"{prefix}_id": str(refund["refund_ref"]), "order_id": str(refund["order_ref"]),
                    "create_time": refund["created_at"],
                    "update_time": refund.get("updated_at") or refund["created_at"], "role": "BUYER",
                    "refund_amount": {"currency": currency, "refund_total": _fen_text(refund["amount"], currency)},
                    f"{prefix}_line_items": rows, f"{prefix}_reason_text": refund.get("reason") or ""}
        if cancellation:
            document["cancel_status"] = refund.get("platform_status") or {
                "requested": "CANCELLATION_REQUEST_PENDING", "succeeded": "CANCELLATION_REQUEST_COMPLETE",
                "closed": "CANCELLATION_REQUEST_CANCEL"}[state]
        else:
            document.update(return_type=_default(refund.get("aftersale_type"),
                                                 "RETURN_AND_REFUND" if refund["return_goods"] else "REFUND"),
                            return_tracking_number=refund.get("return_tracking") or "",
                            return_provider_name=refund.get("return_carrier") or "",
                            seller_next_action_response=[
                                {"action": "SELLER_RESPOND_REQUEST", "deadline": refund["deadline"]}]
                            if refund.get("deadline") else [],
                            return_status=refund.get("platform_status") or {
                                "requested": "RETURN_OR_REFUND_REQUEST_PENDING",
                                "succeeded": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                                "closed": "RETURN_OR_REFUND_REQUEST_CANCEL"}[state])
        return document


# -- List-since endpoints (the backstop: orders and after-sales updated in a window) ----
# Each platform's list call, its parameter names, units, paging and window limits as
# /work/shared/docs/platform-apis.md gives them. A list call's ref (for `fail`) is
# "orders-list:<page cursor>" or "refunds-list:<page cursor>" ("" for the first page).
LIST_WINDOWS = {("kuaishou_shop", "orders"): 7 * 86400, ("kuaishou_shop", "refunds"): 86400,
                ("wechat_channels_shop", "orders"): 7 * 86400, ("wechat_channels_shop", "refunds"): 86400}
END_OF_LIST = "nomore"


def _listed(platform, kind, start, end, end_inclusive=True, by="updated_at"):
    """The platform's orders or after-sales whose update (or creation) time is in the
    window, oldest first: what a list call pages through."""
    sandbox = platform.sandbox
    window = LIST_WINDOWS.get((platform.key, kind))
    if start is None or end is None or end < start or (window and end - start > window) or end > 10**11:
        # (10**11 seconds is the year 5138: a time in ms where the platform takes seconds)
        raise Reject("permanent", f"{kind} list window {start}..{end}")
    store = sandbox.orders if kind == "orders" else sandbox.refunds
    with sandbox.lock:
        rows = [record for (key, _ref), record in store.items() if key == platform.key and
                (kind == "orders" or record.get("kind", "return") == "return" or platform.key != "tiktok_shop")]
    when = (lambda r: r.get(by) or r["created_at"]) if kind == "refunds" else (lambda r: r[by])
    rows = [r for r in rows if start <= when(r) and (when(r) <= end if end_inclusive else when(r) < end)]
    return sorted(rows, key=lambda r: (when(r), r.get("order_ref") if kind == "orders" else r["refund_ref"]))


def _offset(cursor):
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode()) if cursor else 0
    except ValueError:
        raise Reject("permanent", f"bad cursor {cursor!r}") from None


def _cursor(offset):
    return base64.urlsafe_b64encode(str(offset).encode()).decode()


def _douyin_search_list(self, request, app):
    params = request.params
    page, size = int(params.get("page") or 0), int(params.get("size") or 10)
    if size > 100:
        raise Reject("permanent", "size")

    def render(_record):
        rows = _listed(self, "orders", params.get("update_time_start"), params.get("update_time_end"))
        return {"shop_order_list": [self.order_document(order) for order in rows[page * size:(page + 1) * size]],
                "total": len(rows), "page": page, "size": size}
    return f"orders-list:{page or ''}", render


def _douyin_after_sale_list(self, request, app):
    params = request.params
    page, size = int(params.get("page") or 0), int(params.get("size") or 10)

    def render(_record):
        rows = _listed(self, "refunds", params.get("update_start_time"), params.get("update_end_time"))
        items = [{"aftersale_info": {
            "aftersale_id": str(refund["refund_ref"]), "aftersale_type": 0 if refund["return_goods"] else 1,
            "aftersale_status": refund.get("platform_status") or {"requested": 6, "succeeded": 12, "closed": 28}[
                refund["state"]], "related_id": str(refund["order_ref"]), "apply_time": refund["created_at"],
            "update_time": refund.get("updated_at") or refund["created_at"], "refund_amount": refund["amount"]},
            "order_info": {"shop_order_id": str(refund["order_ref"]), "related_order_info": []}}
            for refund in rows[page * size:(page + 1) * size]]
        return {"items": items, "has_more": (page + 1) * size < len(rows), "total": len(rows)}
    return f"refunds-list:{page or ''}", render


def _kuaishou_cursor_list(self, request, app):
    params = request.params
    size, cursor = int(params.get("pageSize") or 10), params.get("cursor") or ""
    if size > 50 or params.get("queryType") != 2:
        raise Reject("permanent", "pageSize / queryType")

    def render(_record):
        rows = _listed(self, "orders", params.get("beginTime") and params["beginTime"] / 1000,
                       params.get("endTime") and params["endTime"] / 1000)
        offset = _offset(cursor)
        following = offset + size
        return {"orderList": [self.order_document(order) for order in rows[offset:following]],
                "cursor": _cursor(following) if following < len(rows) else END_OF_LIST}
    return f"orders-list:{cursor}", render


def _kuaishou_refund_list(self, request, app):
    params = request.params
    size, cursor = int(params.get("pageSize") or 10), params.get("pcursor") or ""

    def render(_record):
        rows = _listed(self, "refunds", params.get("beginTime") and params["beginTime"] / 1000,
                       params.get("endTime") and params["endTime"] / 1000)
        offset = _offset(cursor)
        following = offset + size
        return {"refundOrderInfoList": [{
            "refundId": _number(refund["refund_ref"]), "oid": _number(refund["order_ref"]),
            "handlingWay": 1 if refund["return_goods"] else 10,
            "status": refund.get("platform_status") or
            {"requested": 10, "succeeded": 60, "closed": 70}[refund["state"]],
            "refundType": 1, "refundFee": refund["amount"], "createTime": refund["created_at"] * 1000,
            "updateTime": (refund.get("updated_at") or refund["created_at"]) * 1000}
            for refund in rows[offset:following]],
            "pcursor": _cursor(following) if following < len(rows) else END_OF_LIST}
    return f"refunds-list:{cursor}", render


def _wechat_order_list(self, request, app):
    params = request.params
    window = params.get("update_time_range") or {}
    size, key = int(params.get("page_size") or 10), params.get("next_key") or ""
    if size > 100:
        raise Reject("permanent", "page_size")

    def render(_record):
        rows = _listed(self, "orders", window.get("start_time"), window.get("end_time"))
        offset = _offset(key)
        following = offset + size
        return {"order_id_list": [_number(order["order_ref"]) for order in rows[offset:following]],
                "next_key": _cursor(following), "has_more": following < len(rows)}
    return f"orders-list:{key}", render


def _wechat_after_sale_list(self, request, app):
    params = request.params
    key = params.get("next_key") or ""

    def render(_record):
        rows = _listed(self, "refunds", params.get("begin_create_time"), params.get("end_create_time"),
                       by="created_at")
        offset = _offset(key)
        following = offset + 50
        return {"after_sale_order_id_list": [str(refund["refund_ref"]) for refund in rows[offset:following]],
                "next_key": _cursor(following), "has_more": following < len(rows)}
    return f"refunds-list:{key}", render


def _tiktok_search(self, request, app, kind):
    params, query = request.params, request.query
    size, token = int(query.get("page_size") or 10), query.get("page_token") or ""
    if size > 100 or (kind == "orders" and query.get("sort_field") not in (None, "update_time", "create_time")):
        raise Reject("permanent", "page_size / sort_field")
    request.endpoint = "list"

    def render(_record):
        rows = _listed(self, kind, params.get("update_time_ge"), params.get("update_time_lt"), end_inclusive=False)
        offset = _offset(token)
        following = offset + size
        documents = [self.order_document(row) if kind == "orders" else self.refund_document(row)
                     for row in rows[offset:following]]
        return {"orders" if kind == "orders" else "return_orders": documents, "total_count": len(rows),
                "next_page_token": _cursor(following) if following < len(rows) else ""}
    return f"{kind}-list:{token}", render


_tiktok_returns_by_id = Tiktok.returns


def _tiktok_returns(self, request, app):
    # One path for both: by return_ids (fetch_refund) or by update time (the list).
    if "update_time_ge" in request.params or "update_time_lt" in request.params:
        return _tiktok_search(self, request, app, "refunds")
    return _tiktok_returns_by_id(self, request, app)


for _cls, _routes in (
        (Douyin, {"/order/searchList": ("list", _douyin_search_list),
                  "/afterSale/List": ("list", _douyin_after_sale_list)}),
        (Kuaishou, {"/open/order/cursor/list": ("list", _kuaishou_cursor_list),
                    "/open/seller/order/refund/pcursor/list": ("list", _kuaishou_refund_list)}),
        (Wechat, {"/channels/ec/order/list/get": ("list", _wechat_order_list),
                  "/channels/ec/aftersale/getaftersalelist": ("list", _wechat_after_sale_list)}),
        (Tiktok, {"/order/202309/orders/search": ("list", lambda self, request, app: _tiktok_search(
            self, request, app, "orders"))})):
    for _path, (_endpoint, _function) in _routes.items():
        _name = "list_" + _path.strip("/").replace("/", "_")
        setattr(_cls, _name, _function)
        _cls.routes = dict(_cls.routes, **{_path: (_endpoint, _name)})
Tiktok.returns = _tiktok_returns


class PlatformSandbox:
    """The server and its state; safe to use from the test thread while it serves."""

    def __init__(self, host="127.0.0.1", port=0, token_lifetime=7200, refresh_lifetime=30 * 86400,
                 stall_seconds=30.0, rate_limit=None):
        self.host, self.port = host, port
        self.token_lifetime, self.refresh_lifetime = token_lifetime, refresh_lifetime
        self.stall_seconds = stall_seconds
        self.rate_limit = rate_limit  # calls per second and platform on order/after-sale endpoints; None: no limit
        self.platforms = {cls.key: cls(self) for cls in (Douyin, Kuaishou, Wechat, Tiktok)}
        self.lock = threading.RLock()
        self.apps, self.tokens, self.orders, self.refunds = {}, {}, {}, {}
        self.failures = {}  # ref -> [kind, remaining times or None for always]
        self.stock = {}  # (platform, sku) -> units on sale; a SKU not here is unknown to the platform
        self._stock_requests = set()  # (platform, idempotency id) already applied

        self.parcels, self._answers = [], {}  # shipments uploaded; (platform, request_id) -> first success
        self.settlements = []  # settlement bill rows, neutral form (add_settlement)
        self.calls = []
        self._recent = {}  # platform -> call times, for the rate limit
        self._server = self._thread = None
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------
    def start(self):
        handler = type("Handler", (_Handler,), {"sandbox": self})
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, name="platform-sandbox", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stopping.set()  # stalled requests give up
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    # -- apps and tokens ----------------------------------------------------------
    def add_app(self, platform, app_key, app_secret, sign_secret=None, shop_cipher=None, access_token=None,
                refresh_token=None):
        """Register an app and return a first token pair for it (what an authorization
        gives). access_token / refresh_token: take these (a channel's stored ones)
        instead of new ones."""
        assert platform in self.platforms, platform
        with self.lock:
            self.apps[(platform, app_key)] = {"platform": platform, "app_key": app_key, "app_secret": app_secret,
                                              "sign_secret": sign_secret, "shop_cipher": shop_cipher}
            return self.issue(platform, app_key, with_refresh=platform != "wechat_channels_shop",
                              access_token=access_token, refresh_token=refresh_token)

    def app(self, platform, app_key):
        with self.lock:
            return self.apps.get((platform, app_key))

    def issue(self, platform, app_key, with_refresh=True, kill_access=False, access_token=None, refresh_token=None):
        """A new access token (and refresh token, or `refresh_token` kept) for the app,
        with the current lifetimes."""
        now = time.time()
        with self.lock:
            if kill_access:
                for token in self.tokens.values():
                    if (token["platform"], token["app_key"], token["type"]) == (platform, app_key, "access"):
                        token["valid"] = False
            access = access_token or f"{platform[:2]}-at-{secrets.token_hex(12)}"
            self.tokens[access] = {"token": access, "platform": platform, "app_key": app_key, "type": "access",
                                   "expires_at": now + self.token_lifetime, "valid": True}
            issued = {"access_token": access, "expires_at": now + self.token_lifetime,
                      "lifetime": int(self.token_lifetime), "refresh_lifetime": int(self.refresh_lifetime)}
            if with_refresh:
                refresh = refresh_token or f"{platform[:2]}-rt-{secrets.token_hex(12)}"
                if refresh not in self.tokens:
                    self.tokens[refresh] = {"token": refresh, "platform": platform, "app_key": app_key,
                                            "type": "refresh", "expires_at": now + self.refresh_lifetime, "valid": True}
                issued.update(refresh_token=refresh, refresh_expires_at=self.tokens[refresh]["expires_at"])
            return issued

    def refresh(self, platform, app, refresh_token, rotate=True, kill_old=False):
        with self.lock:
            token = self.tokens.get(refresh_token or "")
            if not token or token["type"] != "refresh" or not token["valid"] or \
                    (token["platform"], token["app_key"]) != (platform, app["app_key"]) or \
                    token["expires_at"] < time.time():
                raise Reject("refresh_invalid")
            if kill_old:
                token["valid"] = False
            return self.issue(platform, app["app_key"], refresh_token=None if rotate else refresh_token)

    def current_access_token(self, platform, app_key):
        with self.lock:
            live = [token for token in self.tokens.values()
                    if (token["platform"], token["app_key"], token["type"]) == (platform, app_key, "access")
                    and token["valid"] and token["expires_at"] > time.time()]
            return max(live, key=lambda token: token["expires_at"]) if live else None

    def check_access_token(self, platform, app, access_token):
        """The app the token belongs to; Reject("token_expired"/"token_invalid") otherwise."""
        with self.lock:
            token = self.tokens.get(access_token or "")
            if not token or token["type"] != "access" or token["platform"] != platform or not token["valid"] or \
                    (app is not None and token["app_key"] != app["app_key"]):
                raise Reject("token_invalid")
            if token["expires_at"] <= time.time():
                raise Reject("token_expired")
            return self.apps[(platform, token["app_key"])]

    def expire_access_tokens(self, platform=None):
        """Every access token (of `platform`) expires now: the next call gets the platform's token error."""
        with self.lock:
            for token in self.tokens.values():
                if token["type"] == "access" and platform in (None, token["platform"]):
                    token["expires_at"] = min(token["expires_at"], time.time() - 1)

    # -- orders, after-sales, failures --------------------------------------------
    def add_order(self, platform, order_ref, status="paid", lines=(), shipping_fee=0, discount=0,
                  platform_discount=0, paid=None, created_at=None, paid_at=None, updated_at=None, buyer=None,
                  buyer_nickname=None, union_id=None, address=None, room_id=None, host_ref=None, host_name=None,
                  shipments=(), cancel_reason=None, currency="CNY", platform_status=None):
        """Register an order in the neutral form (fen, ids as text). lines: [{sku,
        quantity, unit_price, name, discount (line total), merchant_code, line_ref}];
        shipments: [{tracking_ref, carrier, lines: [[sku, quantity]], shipped_at}];
        platform_status overrides the rendered status (e.g. 101, 21, "PARTIALLY_SHIPPING")."""
        assert platform in self.platforms, platform
        assert status in Douyin.STATUS, status
        now = int(time.time())
        lines = [{"discount": 0, "name": "", "merchant_code": None, "line_ref": None, **line,
                  "sku": str(line["sku"]), "quantity": int(line["quantity"]), "unit_price": int(line["unit_price"])}
                 for line in lines]
        goods = sum(line["unit_price"] * line["quantity"] for line in lines)
        if paid is None:
            paid = goods - sum(line["discount"] for line in lines) - discount - platform_discount + shipping_fee
        order = {"order_ref": str(order_ref), "status": status, "lines": lines, "shipping_fee": shipping_fee,
                 "discount": discount, "platform_discount": platform_discount, "paid": paid, "goods": goods,
                 "created_at": created_at or now, "paid_at": paid_at if paid_at is not None else
                 (None if status == "created" else now), "updated_at": updated_at or now, "buyer": buyer,
                 "buyer_nickname": buyer_nickname, "union_id": union_id, "address": address or {},
                 "room_id": room_id and str(room_id), "host_ref": host_ref and str(host_ref), "host_name": host_name,
                 "shipments": [dict(parcel, lines=[list(pair) for pair in parcel.get("lines") or []])
                               for parcel in shipments],
                 "cancel_reason": cancel_reason, "currency": currency, "platform_status": platform_status}
        self.platforms[platform].order_document(order)  # fails now, not at fetch time, on a bad order
        with self.lock:
            self.orders[(platform, str(order_ref))] = order
        return order

    def add_refund(self, platform, refund_ref, order_ref, amount, state="requested", return_goods=False, lines=(),
                   reason=None, kind="return", currency="CNY", created_at=None, platform_status=None,
                   aftersale_type=None, deadline=None, return_tracking=None, return_carrier=None, updated_at=None):
        """Register an after-sale: amount in fen, state requested / succeeded / closed,
        lines [[sku, quantity]]; kind "cancellation" is a TikTok cancellation (found by
        the cancellations search, not the returns search). aftersale_type: the
        platform's own type code (else refund only or return + refund, by
        return_goods); deadline, created_at, updated_at: unix seconds, rendered in
        each platform's unit; return_tracking / return_carrier: the buyer's parcel back."""
        assert state in ("requested", "succeeded", "closed"), state
        refund = {"refund_ref": str(refund_ref), "order_ref": str(order_ref), "amount": int(amount), "state": state,
                  "return_goods": bool(return_goods), "lines": [list(pair) for pair in lines], "reason": reason,
                  "kind": kind, "currency": currency, "created_at": created_at or int(time.time()),
                  "platform_status": platform_status, "aftersale_type": aftersale_type, "deadline": deadline,
                  "return_tracking": return_tracking, "return_carrier": return_carrier, "updated_at": updated_at}
        with self.lock:
            self.refunds[(platform, str(refund_ref))] = refund
        return refund

    def fail(self, ref, kind, times=1):
        """The next `times` calls about order or after-sale `ref` (None: all of them)
        answer the platform's error of `kind` (FAILURE_KINDS); "stall" answers only
        after `stall_seconds`, for client timeouts."""
        assert kind in FAILURE_KINDS, kind
        with self.lock:
            self.failures[str(ref)] = [kind, times]

    # -- stock levels ---------------------------------------------------------------
    def add_sku(self, platform, sku, quantity=0):
        """A SKU the platform knows, with its stock (calls about other SKUs: unknown SKU)."""
        with self.lock:
            self.stock[(platform, str(sku))] = int(quantity)

    def stock_of(self, platform, sku):
        with self.lock:
            if (platform, str(sku)) not in self.stock:
                raise Reject("not_found_stock")
            return self.stock[(platform, str(sku))]

    def set_stock(self, platform, sku, quantity):
        with self.lock:
            self.stock_of(platform, sku)
            self.stock[(platform, str(sku))] = max(0, int(quantity))

    def change_stock(self, platform, sku, delta, request_id=None):
        """Add `delta`; a request id seen before changes nothing (the platform's idempotency)."""
        with self.lock:
            current = self.stock_of(platform, sku)
            if request_id is not None:
                if (platform, request_id) in self._stock_requests:
                    return
                self._stock_requests.add((platform, request_id))
            self.stock[(platform, str(sku))] = max(0, current + int(delta))

    # -- shipments ------------------------------------------------------------------
    def record_parcel(self, platform, order, tracking_ref, carrier, company_code, lines, request_id=None):
        """A parcel the platform now has: in `parcels`, and on the order (its detail
        lists it; the order is shipped once every unit is)."""
        with self.lock:
            parcel = {"platform": platform, "order_ref": order["order_ref"], "parcel_ref": secrets.token_hex(8),
                      "tracking_ref": str(tracking_ref or ""), "carrier": carrier, "company_code": company_code,
                      "lines": [list(line) for line in lines], "request_id": request_id, "at": time.time()}
            self.parcels.append(parcel)
            order["shipments"].append({"tracking_ref": parcel["tracking_ref"], "carrier": carrier,
                                       "lines": parcel["lines"], "shipped_at": int(parcel["at"])})
            shipped = {}
            for shipment in order["shipments"]:
                for sku, qty in shipment.get("lines") or []:
                    shipped[str(sku)] = shipped.get(str(sku), 0) + qty
            if order["status"] == "paid":
                whole = all(shipped.get(line["sku"], 0) >= line["quantity"] for line in order["lines"])
                order["status"], order["platform_status"] = ("shipped", None) if whole else \
                    ("paid", {"douyin_shop": 101, "wechat_channels_shop": 21}.get(platform))
            order["updated_at"] = int(time.time())
        print(f"parcel {parcel['parcel_ref']} of {platform} order {parcel['order_ref']}: {carrier} "
              f"{parcel['tracking_ref']} {parcel['lines']}", flush=True)
        return parcel

    def parcels_of(self, platform=None, order_ref=None):
        with self.lock:
            return [dict(parcel) for parcel in self.parcels
                    if platform in (None, parcel["platform"]) and order_ref in (None, parcel["order_ref"])]

    def refund_open(self, platform, order_ref):
        with self.lock:
            return any(refund["state"] == "requested" for (key, _ref), refund in self.refunds.items()
                       if key == platform and refund["order_ref"] == str(order_ref))

    def idempotent_answer(self, platform, request_id):
        with self.lock:
            return self._answers.get((platform, request_id)) if request_id else None

    def remember_answer(self, platform, request_id, answer):
        if request_id:
            with self.lock:
                self._answers[(platform, request_id)] = answer

    def calls_to(self, platform=None, endpoint=None):
        with self.lock:
            return [call for call in self.calls
                    if platform in (None, call["platform"]) and endpoint in (None, call["endpoint"])]

    def reset_calls(self):
        with self.lock:
            self.calls.clear()

    def _take_failure(self, ref):
        with self.lock:
            failure = self.failures.get(ref)
            if not failure:
                return None
            kind, times = failure
            if times is not None:
                failure[1] -= 1
                if failure[1] <= 0:
                    del self.failures[ref]
            return kind

    def _over_rate_limit(self, platform):
        if not self.rate_limit:
            return False
        with self.lock:
            now = time.monotonic()
            recent = [at for at in self._recent.get(platform, []) if now - at < 1.0]
            over = len(recent) >= self.rate_limit
            if not over:
                recent.append(now)
            self._recent[platform] = recent
            return over

    # -- settlement bills -------------------------------------------------------------
    def add_settlement(self, platform, order_ref, commission=0, affiliate=0, service_fee=0, promotion_fee=0,
                       other_fee=0, refund=0, income=None, settle_amount=None, settled_at=None, trade_type=0,
                       bill_ref=None, statement_id=None, currency=None):
        """A bill row the platform settled (fen): `income` defaults to what the buyer
        paid plus the platform's discount (what the order earns the shop), the merchant
        receives `settle_amount`, by default the income less the commission, the fees
        and the refund. trade_type 1 / 3 (Douyin): a refund after settlement, whose
        settle_amount is negative. Looked up by settle time."""
        assert platform in ("douyin_shop", "kuaishou_shop", "tiktok_shop", "wechat_channels_shop")
        with self.lock:
            order = self.orders.get((platform, str(order_ref)))
        if income is None:
            income = order["paid"] + order["platform_discount"] if order else 0
        if settle_amount is None:
            settle_amount = income - commission - affiliate - service_fee - promotion_fee - other_fee - refund
        settled_at = int(settled_at or time.time())
        row = {"platform": platform, "order_ref": str(order_ref), "commission": commission, "affiliate": affiliate,
               "service_fee": service_fee, "promotion_fee": promotion_fee, "other_fee": other_fee,
               "refund": refund, "income": income, "settle_amount": settle_amount, "settled_at": settled_at,
               "trade_type": trade_type, "bill_ref": bill_ref or secrets.token_hex(6),
               "statement_id": str(statement_id or f"7{settled_at // 86400}"),
               "currency": currency or (order or {}).get("currency") or "CNY",
               "line_ref": ((order or {}).get("lines") or [{}])[0].get("line_ref") or f"{order_ref}0",
               "shipping_fee": (order or {}).get("shipping_fee", 0), "paid": (order or {}).get("paid", income)}
        with self.lock:
            self.settlements.append(row)
        return row

    def settlements_of(self, platform, start, end):
        with self.lock:
            return sorted((row for row in self.settlements
                           if row["platform"] == platform and start <= row["settled_at"] < end),
                          key=lambda row: (row["settled_at"], row["bill_ref"]))

    # -- dispatch -----------------------------------------------------------------
    def handle(self, request):
        """(status, JSON body, headers) for one platform request."""
        for platform in self.platforms.values():
            if platform.route(request.path):
                break
        else:
            return 404, {"error": f"unknown path {request.path}"}, {}
        endpoint, method_name = platform.route(request.path)
        call = {"platform": platform.key, "endpoint": endpoint, "path": request.path, "ref": None,
                "at": time.time(), "outcome": "ok"}
        with self.lock:
            self.calls.append(call)
        try:
            app = platform.authenticate(request)
            answer = getattr(platform, method_name)(request, app)
            if endpoint == "token":
                return answer
            ref, render = answer
            endpoint = call["endpoint"] = getattr(request, "endpoint", None) or endpoint  # a path serving two calls
            call["ref"] = ref
            failure = (self._take_failure(f"{endpoint}:{ref}") if endpoint == "ship" else None) or \
                self._take_failure(ref)
            if failure == "stall":
                call["outcome"] = "stall"
                self._stopping.wait(self.stall_seconds)
                failure = None
            if failure and failure != "lost":
                raise Reject(failure if failure != "not_found" else f"not_found_{endpoint}")
            if self._over_rate_limit(platform.key):
                raise Reject("rate_limit", request.path)
            if endpoint in ("stock", "settlement"):
                return platform.ok(render())
            with self.lock:
                store = self.refunds if endpoint == "refund" else self.orders
                record = {} if ref is None or endpoint == "list" else store.get((platform.key, ref))
                # Rendered under the lock: a ship call changes the order.
                document = render(record) if record is not None else None
            if document is None:
                raise Reject(f"not_found_{'order' if endpoint == 'ship' else endpoint}")
            if failure == "lost":
                raise Reject("transient", "the platform acted; its answer was lost")
            return platform.ok(document)
        except Reject as reject:
            call["outcome"] = reject.kind
            if reject.kind.startswith("not_found") and hasattr(platform, "not_found"):
                return platform.not_found(endpoint)
            return platform.error(reject.kind, reject.detail)


# -- Settlement bills: Douyin, Kuaishou, TikTok ------------------------------------------
# (kept in a block of their own; add_settlement registers the rows in neutral form)
_BEIJING_OFFSET = 8 * 3600  # Douyin's bill times are Beijing times, as text


def _beijing_text(unix_seconds):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(unix_seconds + _BEIJING_OFFSET))


def _beijing_unix(text):
    import calendar
    try:
        return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S")) - _BEIJING_OFFSET
    except (TypeError, ValueError):
        raise Reject("bad_params", "start_time / end_time: yyyy-MM-dd HH:mm:ss") from None


def _douyin_settle_bill(self, request, app):
    params = request.params
    size = params.get("size")
    if not isinstance(size, int) or not 1 <= size <= 100 or params.get("time_type", "0") not in ("0", 0):
        raise Reject("bad_params", "size 1-100, time_type 0")
    start, end = _beijing_unix(params.get("start_time")), _beijing_unix(params.get("end_time"))
    offset = int(params.get("start_index") or 0)

    def render():
        rows = self.sandbox.settlements_of(self.key, start, end)
        page = rows[offset:offset + size]
        return {"code": "100000", "code_msg": "success", "size": size, "is_end": int(offset + size >= len(rows)),
                "next_start_index": str(offset + size), "next_start_time": params.get("start_time"),
                "data": [_douyin_bill_row(row) for row in page]}
    return "settlements", render


def _douyin_bill_row(row):
    outcome = row["commission"] + row["affiliate"] + row["service_fee"] + row["promotion_fee"] + row["other_fee"]
    return {"shop_order_id": _number(row["order_ref"]), "order_id": _number(row["line_ref"]),
            "settle_time": _beijing_text(row["settled_at"]), "trade_type": row["trade_type"],
            "settle_amount": row["settle_amount"], "total_amount": row["paid"], "total_goods_amount":
            row["paid"] - row["shipping_fee"], "post_amount": row["shipping_fee"], "shop_coupon": 0,
            "platform_coupon": row["income"] - row["paid"], "author_coupon": 0, "real_pay_amount": row["paid"],
            "refund_before_settle": row["refund"], "total_income": row["income"],
            "platform_service_fee": row["commission"], "commission": row["affiliate"],
            "colonel_service_fee": row["service_fee"], "channel_promotion_fee": row["promotion_fee"],
            "other_sharing_amount": row["other_fee"], "total_outcome": outcome}


Douyin.routes = dict(Douyin.routes, **{"/order/getSettleBillDetailV3": ("settlement", "settle_bill")})
Douyin.settle_bill = _douyin_settle_bill
Douyin.ERRORS = dict(Douyin.ERRORS, bad_params=(40004, "非法的参数", "isv.parameter-invalid", "参数不合法"))

_TIKTOK_TRANSACTIONS = "/finance/202309/statements/{}/statement_transactions"


def _tiktok_route(self, path):
    parts = path.strip("/").split("/")
    if len(parts) == 5 and parts[:3] == ["finance", "202309", "statements"] and parts[4] == "statement_transactions":
        return ("settlement", "statement_transactions")
    return self.routes.get(path)


def _tiktok_statements(self, request, app):
    query = request.query
    if not (query.get("statement_time_ge", "").isdigit() and query.get("statement_time_lt", "").isdigit()):
        raise Reject("permanent", "statement_time_ge / statement_time_lt")
    size, offset = int(query.get("page_size") or 20), int(query.get("page_token") or 0)

    def render():
        statements = {}
        for row in self.sandbox.settlements_of(self.key, int(query["statement_time_ge"]),
                                               int(query["statement_time_lt"])):
            statements.setdefault(row["statement_id"], []).append(row)
        documents = [_tiktok_statement(statement_id, rows) for statement_id, rows in statements.items()]
        page = documents[offset:offset + size]
        more = offset + size < len(documents)
        return {"statements": page, "next_page_token": str(offset + size) if more else ""}
    return "settlements", render


def _tiktok_statement(statement_id, rows):
    currency = rows[0]["currency"]
    return {"id": statement_id, "statement_time": rows[0]["settled_at"], "currency": currency,
            "settlement_amount": _fen_text(sum(row["settle_amount"] for row in rows), currency),
            "revenue_amount": _fen_text(sum(row["income"] for row in rows), currency), "payment_status": "PAID"}


def _tiktok_statement_transactions(self, request, app):
    statement_id = request.path.strip("/").split("/")[3]
    if not request.query.get("sort_field"):
        raise Reject("permanent", "sort_field is required")
    size, offset = int(request.query.get("page_size") or 20), int(request.query.get("page_token") or 0)

    def render():
        with self.sandbox.lock:
            rows = [row for row in self.sandbox.settlements
                    if row["platform"] == self.key and row["statement_id"] == statement_id]
        page = rows[offset:offset + size]
        more = offset + size < len(rows)
        return {"statement_id": statement_id, "total_count": len(rows),
                "next_page_token": str(offset + size) if more else "",
                "statement_transactions": [_tiktok_transaction(row) for row in page]}
    return "settlements", render


def _tiktok_transaction(row):
    currency = row["currency"]
    fees = row["commission"] + row["affiliate"] + row["service_fee"] + row["promotion_fee"] + row["other_fee"]
    return {"id": row["bill_ref"], "order_id": row["order_ref"], "type": "ORDER", "status": "SETTLED",
            "statement_time": row["settled_at"], "currency": currency,
            "settlement_amount": _fen_text(row["settle_amount"], currency),
            "revenue_amount": _fen_text(row["income"], currency), "fee_amount": _fen_text(-fees, currency),
            "platform_commission_amount": _fen_text(-row["commission"], currency),
            "affiliate_commission_amount": _fen_text(-row["affiliate"], currency),
            "transaction_fee_amount": _fen_text(-row["service_fee"], currency),
            "shipping_cost_amount": _fen_text(0, currency),
            "customer_refund_amount": _fen_text(-row["refund"], currency), "adjustment_amount": _fen_text(0, currency)}


def _kuaishou_settled_bill(self, request, app):
    params = request.params
    start, end, size = params.get("settlementStartTime"), params.get("settlementEndTime"), params.get("size")
    if not all(isinstance(value, int) for value in (start, end, size)) or start < 10 ** 12:
        raise Reject("permanent", "settlementStartTime / settlementEndTime in ms, size")
    cursor = str(params.get("cursor") or "")
    offset = int(cursor) if cursor.isdigit() else 0

    def render():
        rows = self.sandbox.settlements_of(self.key, start // 1000, end // 1000)
        page = rows[offset:offset + size]
        more = offset + size < len(rows)
        return {"cursor": str(offset + size) if more else "no_more", "orders": [{
            "orderNo": _number(row["order_ref"]), "productNum": 1, "actualPayAmount": row["paid"],
            "platformCommissionAmount": row["commission"], "distributorCommissionAmount": row["affiliate"],
            "activityUserCommissionAmount": 0, "kzkCommissionAmount": 0, "serviceAmount": row["service_fee"],
            "platformAllowanceAmount": row["income"] - row["paid"], "governmentSubsidyAmount": 0,
            "otherAmount": row["other_fee"] + row["promotion_fee"], "totalIncome": row["income"],
            "totalOutgoingAmount": row["commission"] + row["affiliate"] + row["service_fee"] + row["other_fee"]
            + row["promotion_fee"], "totalRefundAmount": row["refund"], "settlementAmount": row["settle_amount"],
            "settlementStatus": 2, "settlementTime": row["settled_at"] * 1000} for row in page]}
    return "settlements", render


Kuaishou.routes = dict(Kuaishou.routes, **{"/open/funds/financial/settled/bill/detail": ("settlement", "settled_bill")})
Kuaishou.settled_bill = _kuaishou_settled_bill

Tiktok.route = _tiktok_route
Tiktok.routes = dict(Tiktok.routes, **{"/finance/202309/statements": ("settlement", "statements")})
Tiktok.statements = _tiktok_statements
Tiktok.statement_transactions = _tiktok_statement_transactions


# -- Settlement bills: WeChat Channels funds flows ---------------------------------------
# A bill row (add_settlement) is booked as the flows WeChat writes for it, all at its
# settle time: the order income in, then each amount kept out (platform commission 11,
# league commission 10, 团长 commission 12, any other share 99); a refund after
# settlement (trade_type != 0) is one refund flow (3) out. getfundsflowlist pages from
# 1 and answers a next_key that must come back with the next page.
_WECHAT_FLOW_KINDS = (("commission", 11), ("affiliate", 10), ("service_fee", 12), ("promotion_fee", 99),
                      ("other_fee", 99))


def _wechat_flows(row):
    def flow(index, funds_type, flow_type, amount):
        return {"flow_id": f"{row['bill_ref']}{index:02d}", "funds_type": funds_type, "flow_type": flow_type,
                "amount": amount, "balance": 0, "bookkeeping_time": row["settled_at"], "remark": "",
                "related_info_list": [{"related_type": 1, "order_id": _number(row["order_ref"])}]}
    if row["trade_type"]:
        return [flow(0, 3, 2, -row["settle_amount"])]
    flows = [flow(0, 1, 1, row["income"])]
    flows += [flow(index, funds_type, 2, row[key]) for index, (key, funds_type) in enumerate(_WECHAT_FLOW_KINDS, 1)
              if row[key]]
    return flows


def _wechat_flows_of(self, start, end):
    return [flow for row in self.sandbox.settlements_of(self.key, start, end) for flow in _wechat_flows(row)]


def _wechat_flow_list(self, request, app):
    params = request.params
    page, size = params.get("page"), params.get("page_size", 10)
    start, end = params.get("start_time"), params.get("end_time")
    if not all(isinstance(value, int) for value in (page, size, start, end)) or page < 1 or not 1 <= size <= 100 \
            or start >= end or start > 10 ** 11:
        raise Reject("bad_params", "page from 1, page_size 1-100, start_time < end_time (unix seconds)")
    offset = (page - 1) * size
    if page > 1 and params.get("next_key") != f"wxk{offset}":
        raise Reject("bad_params", "next_key of the previous page")

    def render():
        flows = _wechat_flows_of(self, start, end)
        more = offset + size < len(flows)
        return {"flow_ids": [flow["flow_id"] for flow in flows[offset:offset + size]], "has_more": more,
                "next_key": f"wxk{offset + size}" if more else ""}
    return "settlements", render


def _wechat_flow_detail(self, request, app):
    flow_id = str(request.params.get("flow_id") or "")

    def render():
        with self.sandbox.lock:
            rows = [row for row in self.sandbox.settlements if row["platform"] == self.key]
        for row in rows:
            for flow in _wechat_flows(row):
                if flow["flow_id"] == flow_id:
                    return {"funds_flow": flow}
        raise Reject("not_found_flow")
    return "settlements", render


Wechat.routes = dict(Wechat.routes, **{"/channels/ec/funds/getfundsflowlist": ("settlement", "flow_list"),
                                       "/channels/ec/funds/getfundsflowdetail": ("settlement", "flow_detail")})
Wechat.flow_list = _wechat_flow_list
Wechat.flow_detail = _wechat_flow_detail
# The docs name no errcode for these refusals: the sandbox's own.
Wechat.ERRORS = dict(Wechat.ERRORS, bad_params=(47001, "data format error"), not_found_flow=(100002, "Not exist"))


# -- TikTok Shop fulfilment and stock (API 202309) ----------------------------------------
# (kept in a block of their own) Ship: POST /fulfillment/202309/orders/{order_id}/packages
# {tracking_number, shipping_provider_id, order_line_item_ids[]}: the named line items
# (one per unit) are the package, a subset a partial shipment; a unit already in a
# package is refused. No idempotency key. Providers: warehouses -> delivery options ->
# shipping providers. Stock: POST /product/202309/products/{product_id}/inventory/update
# {skus: [{id, inventory: [{warehouse_id, quantity}]}]}, the quantity set (absolute).
TIKTOK_WAREHOUSES = [{"id": "7068517275539719942", "name": "Sandbox Sales Warehouse", "type": "SALES_WAREHOUSE",
                      "is_default": True},
                     {"id": "7068517275539719943", "name": "Sandbox Returns", "type": "RETURN_WAREHOUSE",
                      "is_default": False}]
TIKTOK_DELIVERY_OPTIONS = {"7068517275539719942": [{"id": "7091146663229654785", "name": "Standard shipping"},
                                                   {"id": "7091146663229654786", "name": "Express shipping"}]}
TIKTOK_PROVIDERS = {"7091146663229654785": [{"id": "6617675021119438849", "name": "USPS"},
                                            {"id": "6617675021119438850", "name": "UPS"}],
                    "7091146663229654786": [{"id": "6617675021119438850", "name": "UPS"},
                                            {"id": "6617675021119438851", "name": "FedEx"}]}
# The docs name no error codes for these refusals: the sandbox's own, in TikTok's envelope.
Tiktok.ERRORS = dict(Tiktok.ERRORS, **{
    "unknown_company": (400, 21011001, "Invalid shipping_provider_id."),
    "refund_open": (400, 21001020, "The order has a pending cancellation or return request."),
    "ship_invalid": (400, 21011002, "Invalid order_line_item_ids: unknown or already in a package."),
    "bad_params": (400, 36009001, "Invalid parameters."),
    "not_found_stock": (400, 12052006, "The SKU does not exist."),
})

_tiktok_route_before_fulfilment = Tiktok.route
_tiktok_not_found_before_fulfilment = Tiktok.not_found


def _tiktok_fulfilment_route(self, path):
    parts = path.strip("/").split("/")
    if len(parts) == 5 and parts[:3] == ["fulfillment", "202309", "orders"] and parts[4] == "packages":
        return ("ship", "ship_package")
    if path == "/logistics/202309/warehouses":
        return ("carriers", "warehouses")
    if len(parts) == 5 and parts[:3] == ["logistics", "202309", "warehouses"] and parts[4] == "delivery_options":
        return ("carriers", "delivery_options")
    if len(parts) == 5 and parts[:3] == ["logistics", "202309", "delivery_options"] \
            and parts[4] == "shipping_providers":
        return ("carriers", "shipping_providers")
    if len(parts) == 6 and parts[:3] == ["product", "202309", "products"] and parts[4:] == ["inventory", "update"]:
        return ("stock", "inventory_update")
    return _tiktok_route_before_fulfilment(self, path)


def _tiktok_fulfilment_not_found(self, endpoint):
    # Searches answer an empty list for unknown ids; a stock update of an unknown SKU is an error.
    if endpoint == "stock":
        return self.error("not_found_stock", "")
    return _tiktok_not_found_before_fulfilment(self, endpoint)


def _tiktok_ship_package(self, request, app):
    order_ref = request.path.strip("/").split("/")[3]
    params = request.params

    def ship(order):
        providers = {provider["id"]: provider["name"] for rows in TIKTOK_PROVIDERS.values() for provider in rows}
        if str(params.get("shipping_provider_id")) not in providers:
            raise Reject("unknown_company")
        if self.sandbox.refund_open(self.key, order_ref):
            raise Reject("refund_open")
        items = {item["id"]: item for item in self.order_document(order)["line_items"]}
        ids = [str(ref) for ref in params.get("order_line_item_ids") or []]
        if not params.get("tracking_number") or not ids or len(set(ids)) != len(ids) or order["status"] != "paid" \
                or any(ref not in items or items[ref].get("package_id") for ref in ids):
            raise Reject("ship_invalid")
        counts = {}
        for ref in ids:
            counts[items[ref]["sku_id"]] = counts.get(items[ref]["sku_id"], 0) + 1
        provider = str(params["shipping_provider_id"])
        parcel = self.sandbox.record_parcel(self.key, order, params["tracking_number"], providers[provider], provider,
                                            [[sku, qty] for sku, qty in counts.items()])
        return {"package_id": parcel["parcel_ref"], "order_line_item_ids": ids, "warning": None}
    return order_ref, ship


def _tiktok_warehouses(self, request, app):
    return None, lambda _record: {"warehouses": [dict(row) for row in TIKTOK_WAREHOUSES]}


def _tiktok_delivery_options(self, request, app):
    warehouse = request.path.strip("/").split("/")[3]
    return None, lambda _record: {"delivery_options": [dict(row) for row in TIKTOK_DELIVERY_OPTIONS.get(warehouse, [])]}


def _tiktok_shipping_providers(self, request, app):
    option = request.path.strip("/").split("/")[3]
    return None, lambda _record: {"shipping_providers": [dict(row) for row in TIKTOK_PROVIDERS.get(option, [])]}


def _tiktok_inventory_update(self, request, app):
    skus = request.params.get("skus")
    warehouses = {row["id"] for row in TIKTOK_WAREHOUSES if row["type"] == "SALES_WAREHOUSE"}
    if not isinstance(skus, list) or not skus:
        raise Reject("bad_params", "skus")
    levels = []
    for sku in skus:
        inventory = sku.get("inventory") if isinstance(sku, dict) else None
        if not sku.get("id") or not isinstance(inventory, list) or not inventory or any(
                str(row.get("warehouse_id")) not in warehouses or not isinstance(row.get("quantity"), int)
                or row["quantity"] < 0 for row in inventory):
            raise Reject("bad_params", "skus[].id / inventory[].warehouse_id, quantity")
        levels.append((str(sku["id"]), sum(row["quantity"] for row in inventory)))

    def render():
        for sku, _quantity in levels:
            self.sandbox.stock_of(self.key, sku)  # every SKU known, or nothing changes
        for sku, quantity in levels:
            self.sandbox.set_stock(self.key, sku, quantity)
        return {}
    return levels[0][0], render


Tiktok.route = _tiktok_fulfilment_route
Tiktok.not_found = _tiktok_fulfilment_not_found
Tiktok.ship_package = _tiktok_ship_package
Tiktok.warehouses = _tiktok_warehouses
Tiktok.delivery_options = _tiktok_delivery_options
Tiktok.shipping_providers = _tiktok_shipping_providers
Tiktok.inventory_update = _tiktok_inventory_update


class _Request:
    def __init__(self, method, path, query, headers, body):
        self.method, self.path, self.query, self.headers, self.body = method, path, query, headers, body
        self.params = {}
        self.endpoint = None  # set by a handler whose path serves another call too

    def form(self):
        if "application/x-www-form-urlencoded" not in self.headers.get("content-type", ""):
            return {}
        return {key: values[-1] for key, values in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}


class _Handler(BaseHTTPRequestHandler):
    sandbox = None
    protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers after stop()

    def log_message(self, *args):  # quiet: the call log is the record
        pass

    def _request(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        headers = {key.lower(): value for key, value in self.headers.items()}
        return _Request(self.command, url.path, query, headers, body)

    def _answer(self, status, document, headers=None):
        payload = json.dumps(document, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            pass

    def _serve(self):
        request = self._request()
        if request.path.startswith("/_sandbox/"):
            status, document = Admin(self.sandbox).handle(request)
            return self._answer(status, document)
        return self._answer(*self.sandbox.handle(request))

    do_GET = do_POST = _serve


class Admin:
    """JSON admin endpoints for other processes (the simulator):

    POST /_sandbox/apps      {platform, app_key, app_secret, sign_secret?, shop_cipher?, access_token?,
                              refresh_token?}  (the last two: a channel's stored tokens, else new ones)
                             -> {access_token, refresh_token?, expires_at, refresh_expires_at?}
    POST /_sandbox/orders    {platform, order_ref, ...add_order() arguments}
    POST /_sandbox/refunds   {platform, refund_ref, order_ref, amount, ...add_refund() arguments}
    POST /_sandbox/failures  {ref, kind, times?}         (times null: every call)
    POST /_sandbox/stock     {platform, sku, quantity}   a SKU the platform knows, and its stock
    POST /_sandbox/settlements {platform, order_ref, ...add_settlement() arguments}  a settlement bill row
    POST /_sandbox/settings  {token_lifetime?, refresh_lifetime?, rate_limit?, stall_seconds?}
    POST /_sandbox/tokens    {platform, app_key}         -> a new token pair (a new authorization)
    POST /_sandbox/expire    {platform?}                 every access token expires now
    GET  /_sandbox/calls     -> {calls: [{platform, endpoint, path, ref, outcome, at}]}
    GET  /_sandbox/parcels   -> {parcels: [{platform, order_ref, parcel_ref, tracking_ref, carrier,
                                            company_code, lines, request_id, at}]}  (shipments uploaded)
    """
    SETTINGS = ("token_lifetime", "refresh_lifetime", "rate_limit", "stall_seconds")

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def handle(self, request):
        name = request.path[len("/_sandbox/"):]
        if request.method == "GET" and name == "calls":
            return 200, {"calls": self.sandbox.calls_to()}
        if request.method == "GET" and name == "parcels":
            return 200, {"parcels": self.sandbox.parcels_of()}
        if request.method != "POST":
            return 405, {"error": "POST a JSON object"}
        try:
            data = json.loads(request.body.decode("utf-8") or "{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
            if name == "apps":
                return 200, self.sandbox.add_app(**data)
            if name == "orders":
                self.sandbox.add_order(data.pop("platform"), data.pop("order_ref"), **data)
                return 200, {"ok": True}
            if name == "refunds":
                self.sandbox.add_refund(data.pop("platform"), data.pop("refund_ref"), data.pop("order_ref"), **data)
                return 200, {"ok": True}
            if name == "settlements":
                return 200, self.sandbox.add_settlement(data.pop("platform"), data.pop("order_ref"), **data)
            if name == "stock":
                self.sandbox.add_sku(data["platform"], data["sku"], data.get("quantity", 0))
                return 200, {"ok": True}
            if name == "failures":
                self.sandbox.fail(data["ref"], data["kind"], data.get("times", 1))
                return 200, {"ok": True}
            if name == "settings":
                for key in self.SETTINGS:
                    if key in data:
                        setattr(self.sandbox, key, data[key])
                return 200, {key: getattr(self.sandbox, key) for key in self.SETTINGS}
            if name == "tokens":
                return 200, self.sandbox.issue(data["platform"], data["app_key"],
                                               with_refresh=data["platform"] != "wechat_channels_shop")
            if name == "expire":
                self.sandbox.expire_access_tokens(data.get("platform"))
                return 200, {"ok": True}
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            return 400, {"error": f"{type(exc).__name__}: {exc}"}
        return 404, {"error": f"unknown admin endpoint {name}"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8290)
    parser.add_argument("--token-lifetime", type=float, default=7200, help="seconds an access token lives")
    parser.add_argument("--refresh-lifetime", type=float, default=30 * 86400)
    parser.add_argument("--rate-limit", type=int, default=None, help="calls per second and platform")
    args = parser.parse_args(argv)
    sandbox = PlatformSandbox(args.host, args.port, args.token_lifetime, args.refresh_lifetime,
                              rate_limit=args.rate_limit).start()
    print(f"Platform sandbox on {sandbox.url} (Douyin, Kuaishou, WeChat Channels, TikTok); Ctrl-C stops", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sandbox.stop()


if __name__ == "__main__":
    main()
