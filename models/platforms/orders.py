"""Orders as the platforms describe them, normalized, and the interface of the
platforms' order API clients.

Amounts are integers in fen (the smallest unit of the order's currency) until they
meet an Odoo currency; ids are strings (WeChat's order ids exceed 2^53). Each
platform's client lives beside its push adapter (models/platforms/<platform>.py)
and turns the platform's own order and after-sale documents into these.
"""
import email.utils
import json
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Optional

import requests

from .base import Fan, NormalizedEvent

# The order's state on the platform, in the order it moves; cancelled ends it.
ORDER_STATUSES = ("created", "paid", "shipped", "completed", "cancelled")
REFUND_STATES = ("requested", "succeeded", "closed")
# What an after-sale asks for (Refund.kind), whatever the platform's own codes.
AFTERSALE_KINDS = ("before_shipping", "refund", "return_refund", "exchange", "resend", "price_protection",
                   "repair", "other")
# Kinds whose success sends goods, not money: no credit note, no return to receive.
GOODS_ONLY_KINDS = ("exchange", "resend", "repair")
# Where an after-sale stands, for customer service (Refund.stage): whose move it is.
AFTERSALE_STAGES = ("seller", "buyer_return", "seller_receipt", "buyer", "platform", "refunding", "done", "closed")
# A status a platform's mapping does not know: the stage its money state implies.
AFTERSALE_STAGE_OF_STATE = {"requested": "seller", "succeeded": "done", "closed": "closed"}
# What a client answers for a call its platform's open API does not offer.
NOT_SUPPORTED = "not supported"


@dataclass
class OrderLine:
    sku: str                            # the platform's SKU id (else the merchant code)
    quantity: int
    unit_price: int                     # fen, per unit, before the seller's discounts
    name: str = ""
    discount: int = 0                   # fen, seller-funded, on the whole line
    merchant_code: Optional[str] = None  # the seller's own code (out_sku_id, code, seller_sku, goodsCode)
    line_ref: Optional[str] = None       # the platform's id of the line (sub-order)
    product_ref: Optional[str] = None    # the platform's product id (WeChat ships by product and SKU)


@dataclass
class Address:
    """As received: masked or encrypted values stay masked or encrypted."""
    name: Optional[str] = None
    phone: Optional[str] = None
    province: Optional[str] = None
    city: Optional[str] = None
    district: Optional[str] = None
    street: Optional[str] = None
    zip: Optional[str] = None


@dataclass
class Shipment:
    tracking_ref: str
    carrier: Optional[str] = None       # the platform's carrier name or code
    lines: list = field(default_factory=list)  # [(sku, quantity)]; empty: everything not shipped yet
    shipped_at: Optional[float] = None


@dataclass
class ParcelUpload:
    """A parcel we shipped, as a client uploads it (models/stock_picking_upload.py)."""
    request_id: str                     # stable per delivery: the platform's idempotency key where it has one
    tracking_ref: str
    company_code: str                   # the platform's code of the carrier (live.carrier.code)
    lines: list = field(default_factory=list)  # [(OrderLine of the platform's order, quantity)]
    whole_order: bool = False           # the parcel holds everything the order sells


@dataclass
class Refund:
    refund_ref: str
    amount: int                         # fen, what the buyer gets back
    state: str = "succeeded"            # REFUND_STATES
    return_goods: bool = False          # True: return and refund; False: refund only
    lines: list = field(default_factory=list)  # [(sku, quantity)]; empty: the whole order
    reason: Optional[str] = None
    # Added later: snapshots stored before them still load (dataclass defaults).
    kind: Optional[str] = None          # AFTERSALE_KINDS; None: refund, or return_refund with return_goods
    platform_status: Optional[str] = None  # the platform's own status, as text (unknown values kept)
    stage: Optional[str] = None         # AFTERSALE_STAGES; None: from `state`
    requested_at: Optional[float] = None  # unix seconds
    updated_at: Optional[float] = None  # unix seconds, the platform's last change
    deadline: Optional[float] = None    # unix seconds: the platform acts for the seller after it
    return_carrier: Optional[str] = None
    return_tracking_ref: Optional[str] = None

    @property
    def aftersale_kind(self):
        return self.kind or ("return_refund" if self.return_goods else "refund")


@dataclass
class PlatformOrder:
    """An order, or what one event says of it: a push may carry only a status, a
    shipment or a refund (`lines` empty, `status` None where it says nothing)."""
    order_ref: str
    status: Optional[str] = None        # ORDER_STATUSES
    lines: list = field(default_factory=list)  # [OrderLine]
    currency: str = "CNY"
    shipping_fee: int = 0               # fen, paid by the buyer
    discount: int = 0                   # fen, seller-funded, on the whole order
    platform_discount: int = 0          # fen, funded by the platform: owed to the seller
    paid: Optional[int] = None          # fen, what the buyer paid
    created_at: Optional[float] = None  # unix seconds
    paid_at: Optional[float] = None
    updated_at: Optional[float] = None
    buyer: Optional[Fan] = None
    address: Optional[Address] = None
    room_id: Optional[str] = None       # the live room the order was placed in
    host_ref: Optional[str] = None      # the platform's id of the host (author, talent)
    host_name: Optional[str] = None
    shipments: list = field(default_factory=list)  # [Shipment]
    refunds: list = field(default_factory=list)    # [Refund]
    cancel_reason: Optional[str] = None
    #: [Fan]: more identities of the same buyer, e.g. WeChat's unionid (id_type
    #: "union_id", shared by the apps of one WeChat Open Platform account)
    other_identities: list = field(default_factory=list)
    #: [str]: the line refs already in a parcel, where a line ref names units
    #: (TikTok's line items): what a new parcel may not name again
    packed_line_refs: list = field(default_factory=list)


def order_from_dict(data):
    """The PlatformOrder stored as a dict (to_dict)."""
    data = dict(data)
    data["lines"] = [OrderLine(**line) for line in data.get("lines") or ()]
    data["shipments"] = [Shipment(**dict(s, lines=[tuple(line) for line in s.get("lines") or ()]))
                         for s in data.get("shipments") or ()]
    data["refunds"] = [refund_from_dict(r) for r in data.get("refunds") or ()]
    data["buyer"] = data.get("buyer") and Fan(**data["buyer"])
    data["other_identities"] = [Fan(**fan) for fan in data.get("other_identities") or ()]
    data["address"] = data.get("address") and Address(**data["address"])
    return PlatformOrder(**data)


def refund_from_dict(data):
    return Refund(**dict(data, lines=[tuple(line) for line in data.get("lines") or ()]))


def to_dict(obj):
    """A PlatformOrder or Refund as JSON-ready data (ids stay strings)."""
    return asdict(obj)


def snapshot_event(event_type, payload, room_id, occurred_at):
    """The processor's view of a stored snapshot (SNAPSHOT_TYPES): what an order
    API said, applied like a push that carries the whole order."""
    if event_type == "refund.snapshot":
        order = PlatformOrder(order_ref=payload["order_ref"], refunds=[refund_from_dict(payload["refund"])])
    else:
        order = order_from_dict(payload["order"])
    return NormalizedEvent(event_type, occurred_at, order.room_id or room_id, order.buyer, order)


@dataclass
class StockItem:
    """A platform SKU whose stock we send (live.channel.sku)."""
    sku: str                            # the platform's SKU id
    product_ref: Optional[str] = None   # the platform's product (item) id the SKU belongs to
    merchant_code: Optional[str] = None


class ApiError(Exception):
    """A platform API call failed. `kind` says what to do about it:

    - "token": the access token is expired or invalid: refresh it, call again once;
    - "rate_limit": called too often: retry later (`retry_after` seconds if known);
    - "transient": a timeout or the platform's own error: retry later;
    - "not_found": the platform does not know the order or after-sale;
    - "permanent": anything else (bad credentials, no authorization): a person must act.
    """

    def __init__(self, kind, message, code=None, retry_after=None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.code = code
        self.retry_after = retry_after


@dataclass
class Token:
    access_token: str
    expires_at: float                   # unix seconds
    refresh_token: Optional[str] = None
    refresh_expires_at: Optional[float] = None


@dataclass
class ApiSettings:
    """What a client needs from its channel."""
    base_url: str
    app_key: Optional[str] = None
    app_secret: Optional[str] = None
    shop_id: Optional[str] = None
    sign_secret: Optional[str] = None   # Kuaishou: the signSecret, apart from the app secret
    shop_cipher: Optional[str] = None   # TikTok Shop
    timeout: float = 10.0
    warehouse_ref: Optional[str] = None  # TikTok Shop: the platform's warehouse the stock levels go to


class TokenStore:
    """Where a client keeps its token between calls (the channel, in Odoo)."""

    def load(self):
        """The current Token, or None."""
        raise NotImplementedError

    def save(self, token):
        raise NotImplementedError


class ApiClient:
    """One platform's order API. Subclasses set `platform` and implement the calls;
    `register_client` makes them reachable by platform key.

    What is shared lives here: the HTTP call (explicit timeout; timeouts, connection
    errors, 5xx and unreadable answers are "transient", HTTP 429 "rate_limit") and
    the token flow (`_with_token`). A subclass implements `_refresh(token)` (the
    platform's token refresh, or a new token where there is no refresh token) and
    raises ApiError(kind="token") when the platform refuses the access token. No call
    is retried here beyond the one refresh: the caller (a queued job) does backoff.
    """
    platform = None
    #: refresh a token this many seconds before it expires
    refresh_margin = 600

    def __init__(self, settings, tokens, session=None):
        self.settings = settings
        self.tokens = tokens
        self.session = session

    def fetch_order(self, order_ref):
        """The order as the platform has it now: a PlatformOrder. Raises ApiError."""
        raise NotImplementedError

    def fetch_refund(self, refund_ref, order_ref=None):
        """An after-sale request as the platform has it now: a Refund. Raises ApiError."""
        raise NotImplementedError

    # -- outbound messages (models/live_message.py) ----------------------------
    @classmethod
    def buyer_message_support(cls):
        """None when `send_buyer_message` works on this platform, else NOT_SUPPORTED.
        Asked once per platform before any client is built, so a platform that cannot
        message buyers costs no call and no credential read."""
        return NOT_SUPPORTED

    def send_buyer_message(self, buyer_ref, text, coupon_code=None):
        """Send `text` (and a coupon code) to one buyer through the platform: the
        platform's message id. Raises ApiError. Only for platforms whose
        buyer_message_support() is None."""
        raise NotImplementedError

    # -- stock levels (models/live_channel_stock.py) ----------------------------
    #: "absolute": set_stock overwrites the platform's level; "increment": only
    #: add_stock (a signed difference) exists; None: no stock call.
    stock_mode = None
    #: read_stock answers the platform's current level
    stock_readable = False

    def set_stock(self, item, quantity):
        """Overwrite the platform's stock of `item` (a StockItem) with `quantity`. Raises ApiError."""
        raise NotImplementedError

    def add_stock(self, item, delta, request_id):
        """Add `delta` (negative: subtract) to the platform's stock of `item`;
        `request_id` names the change, for platforms that de-duplicate. Raises ApiError."""
        raise NotImplementedError

    def read_stock(self, item):
        """The platform's current stock of `item`. Raises ApiError."""
        raise NotImplementedError

    # -- shipments (models/stock_picking_upload.py) ----------------------------
    #: True where the platform's ship call takes an idempotency key (a repeat returns
    #: the first answer): no check before re-sending. Else the caller reads the
    #: order's shipments first and does not send a parcel the platform has.
    idempotent_upload = False

    def list_carriers(self):
        """[(company code, name)] of the platform's carrier list. Raises ApiError."""
        raise ApiError("permanent", NOT_SUPPORTED)

    def upload_shipment(self, order, parcel):
        """Tell the platform that `parcel` (ParcelUpload) of `order` (the PlatformOrder
        just fetched) shipped: the platform's parcel id (else the tracking number).
        Raises ApiError."""
        raise ApiError("permanent", NOT_SUPPORTED)

    # -- tokens ---------------------------------------------------------------
    def _refresh(self, token, rejected=False):
        """A new Token from the platform. `token` is the current one (None when the
        channel has none); `rejected` says the platform just refused it. Raises ApiError."""
        raise NotImplementedError

    def _with_token(self, call):
        """call(access_token) with a fresh token; on a token error, refresh once and
        call again. A token refused right after a refresh is "permanent": the app's
        authorization is gone or lacks the scope, and only a person can fix that."""
        token = self._current_token()
        try:
            return call(token.access_token)
        except ApiError as exc:
            if exc.kind != "token":
                raise
        stored = self.tokens.load()
        if stored and stored.access_token != token.access_token and not self._needs_refresh(stored):
            token = stored  # another worker refreshed it meanwhile
        else:
            token = self._refresh_and_save(token, rejected=True)
        try:
            return call(token.access_token)
        except ApiError as exc:
            if exc.kind != "token":
                raise
            raise ApiError("permanent", f"The platform refuses a freshly refreshed access token ({exc.message}): "
                                        "authorize the app for this shop again", code=exc.code) from None

    def _current_token(self):
        token = self.tokens.load()
        if token and token.access_token and not self._needs_refresh(token):
            return token
        try:
            return self._refresh_and_save(token)
        except ApiError as exc:
            # A refresh ahead of expiry that fails for a passing reason: the current
            # token still works for a while.
            if exc.kind in ("transient", "rate_limit") and token and token.access_token \
                    and token.expires_at > time.time():
                return token
            raise

    def _needs_refresh(self, token):
        return token.expires_at - time.time() < self.refresh_margin

    def _refresh_and_save(self, token, rejected=False):
        new = self._refresh(token, rejected)
        if not new.refresh_token and token:
            # Platforms that issue no new refresh token keep the old one alive.
            new.refresh_token, new.refresh_expires_at = token.refresh_token, token.refresh_expires_at
        self.tokens.save(new)
        return new

    @staticmethod
    def _mapped(what, mapper, *documents):
        """mapper(*documents), where a document of a shape the mapper does not expect
        (the platform changed it) is a "permanent" ApiError, not a crash."""
        try:
            return mapper(*documents)
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise ApiError("permanent", f"{what}: unexpected document ({type(exc).__name__}: {exc})") from None

    # -- HTTP -----------------------------------------------------------------
    def _http(self, method, url, **kwargs):
        """(status, headers, JSON document) of one request; ApiError for what no
        platform answers in its own envelope."""
        if self.session is None:
            self.session = requests.Session()
        try:
            response = self.session.request(method, url, timeout=self.settings.timeout, **kwargs)
        except requests.Timeout:
            raise ApiError("transient", f"No answer from {_host(url)} within {self.settings.timeout:g} s") from None
        except requests.RequestException as exc:
            raise ApiError("transient", f"Could not reach {_host(url)}: {type(exc).__name__}") from None
        try:
            document = parse_json(response.content)
        except ValueError:
            document = None
        if response.status_code == 429:
            raise ApiError("rate_limit", f"{_host(url)} answered HTTP 429", code=429,
                           retry_after=retry_after(response.headers.get("Retry-After")))
        if not isinstance(document, dict):
            kind = "transient" if response.status_code >= 500 or response.status_code == 200 else "permanent"
            raise ApiError(kind, f"{_host(url)} answered HTTP {response.status_code} without a JSON object",
                           code=response.status_code)
        return response.status_code, response.headers, document

    # -- settlement bills (models/live_settlement.py) ----------------------------
    def list_settlements(self, start, end, cursor=None):
        """One page of the bill rows the platform settled between `start` and `end`
        (unix seconds): a settlements.SettlementPage whose `cursor`, passed back,
        gives the next page (None: no more). Raises ApiError."""
        raise ApiError("permanent", NOT_SUPPORTED)

    # -- listing what changed (the backstop, models/live_channel_backstop.py) --------
    #: the longest [start, end) a list call accepts, in seconds (None: no limit); the
    #: caller walks longer spans window by window
    order_window = None
    refund_window = None

    def list_orders_since(self, start, end, cursor=None):
        """A ListPage of the orders updated in [start, end) (unix seconds); `cursor`
        the page cursor of the same window. Raises ApiError."""
        raise ApiError("permanent", NOT_SUPPORTED)

    def list_refunds_since(self, start, end, cursor=None):
        """A ListPage of the after-sales updated (WeChat: created) in [start, end). Raises ApiError."""
        raise ApiError("permanent", NOT_SUPPORTED)


def parse_json(content):
    """JSON exactly: integers stay integers (order ids beyond 2^53 included), decimals
    are Decimal, never float."""
    return json.loads(content, parse_float=Decimal)


def retry_after(value):
    """Seconds from an HTTP Retry-After header (seconds or an HTTP date), or None."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def expiry(now, value):
    """A token's expiry in unix seconds from an `expires_in` that some platforms send
    as a lifetime and others as a timestamp (Douyin's docs say both)."""
    if value in (None, ""):
        return None
    value = int(value)
    return float(value) if value > 10**9 else now + value


def as_str(value):
    """An id as text (ids may come as numbers), None when absent."""
    if value is None or value == "":
        return None
    return str(value)


def as_int(value, default=0):
    """A whole number (amounts in fen, statuses, times) from a number or its text;
    anything else is refused rather than truncated."""
    if value is None or value == "":
        return default
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ApiError("permanent", f"{value!r} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ApiError("permanent", f"{value!r} is not a whole number")
    return int(number)


def _host(url):
    return requests.utils.urlparse(url).netloc or url


CLIENTS = {}


def register_client(cls):
    CLIENTS[cls.platform] = cls
    return cls


def get_client(platform, settings, tokens, session=None):
    return CLIENTS[platform](settings, tokens, session=session)


# -- Listing what changed (the per-channel backstop, models/live_channel_backstop.py) --
@dataclass
class ListedRefund:
    """An after-sale a list API named: its order, and the Refund itself when the list
    row carries the whole document (else the backstop fetches it)."""
    refund_ref: str
    order_ref: str
    refund: Optional[Refund] = None


@dataclass
class ListPage:
    """One page of a list-since call. `orders`: PlatformOrder where the list returns
    whole orders, order ids (str) where it returns ids only; `refunds`: ListedRefund.
    `cursor`: what to pass for the next page of the same window (None: last page)."""
    orders: list = field(default_factory=list)
    refunds: list = field(default_factory=list)
    cursor: Optional[str] = None

