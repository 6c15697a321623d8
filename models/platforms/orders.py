"""Orders as the platforms describe them, normalized, and the interface of the
platforms' order API clients.

Amounts are integers in fen (the smallest unit of the order's currency) until they
meet an Odoo currency; ids are strings (WeChat's order ids exceed 2^53). Each
platform's client lives beside its push adapter (models/platforms/<platform>.py)
and turns the platform's own order and after-sale documents into these.
"""
from dataclasses import asdict, dataclass, field
from typing import Optional

from .base import Fan, NormalizedEvent

# The order's state on the platform, in the order it moves; cancelled ends it.
ORDER_STATUSES = ("created", "paid", "shipped", "completed", "cancelled")
REFUND_STATES = ("requested", "succeeded", "closed")


@dataclass
class OrderLine:
    sku: str                            # the platform's SKU id (else the merchant code)
    quantity: int
    unit_price: int                     # fen, per unit, before the seller's discounts
    name: str = ""
    discount: int = 0                   # fen, seller-funded, on the whole line
    merchant_code: Optional[str] = None  # the seller's own code (out_sku_id, code, seller_sku, goodsCode)
    line_ref: Optional[str] = None       # the platform's id of the line (sub-order)


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
class Refund:
    refund_ref: str
    amount: int                         # fen, what the buyer gets back
    state: str = "succeeded"            # REFUND_STATES
    return_goods: bool = False          # True: return and refund; False: refund only
    lines: list = field(default_factory=list)  # [(sku, quantity)]; empty: the whole order
    reason: Optional[str] = None


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


def order_from_dict(data):
    """The PlatformOrder stored as a dict (to_dict)."""
    data = dict(data)
    data["lines"] = [OrderLine(**line) for line in data.get("lines") or ()]
    data["shipments"] = [Shipment(**dict(s, lines=[tuple(line) for line in s.get("lines") or ()]))
                         for s in data.get("shipments") or ()]
    data["refunds"] = [refund_from_dict(r) for r in data.get("refunds") or ()]
    data["buyer"] = data.get("buyer") and Fan(**data["buyer"])
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


class TokenStore:
    """Where a client keeps its token between calls (the channel, in Odoo)."""

    def load(self):
        """The current Token, or None."""
        raise NotImplementedError

    def save(self, token):
        raise NotImplementedError


class ApiClient:
    """One platform's order API. Subclasses set `platform` and implement the calls;
    `register_client` makes them reachable by platform key."""
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


CLIENTS = {}


def register_client(cls):
    CLIENTS[cls.platform] = cls
    return cls


def get_client(platform, settings, tokens, session=None):
    return CLIENTS[platform](settings, tokens, session=session)
