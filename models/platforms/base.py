"""The common interface of the platform adapters.

An adapter turns one authenticated HTTP push into inbox events (`parse`), answers
the platform the way it expects (`ack`, `reject`), turns a stored event into a
normalized one for the processor (`normalize`), tells the order importer which
order and after-sale a stored order event is about (`order_reference`, the keys to
give the platform's ApiClient, see orders.py) and, for tests and the simulator,
signs a push the way the platform does (`sign`).
"""
import hmac
import json
import re
import time
from dataclasses import dataclass, field
from typing import Optional

ADAPTERS = {}
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # system parameter live_commerce_crm.webhook_max_body_bytes
REPLAY_WINDOW = 300  # seconds a signed timestamp may be away from now, either way

# Normalized event types (README, "Webhook event schema").
INTERACTION_TYPES = frozenset({
    "session.started", "session.ended", "session.stats",
    "fan.entered", "fan.left", "comment", "like", "gift", "follow", "share",
})
ORDER_TYPES = frozenset({
    "order.created", "order.paid", "order.shipped", "order.completed", "order.cancelled",
    "order.updated", "refund.requested", "refund.succeeded", "refund.updated",
})
# What a platform's order API said about an order or an after-sale, stored in the
# inbox by the job that fetched it (models/live_order_importer.py) and applied like
# a push that carries the whole order.
SNAPSHOT_TYPES = frozenset({"order.snapshot", "refund.snapshot"})

# What the inbox accepts as pending; any other type is stored as ignored.
KNOWN_EVENT_TYPES = sorted(INTERACTION_TYPES | ORDER_TYPES | SNAPSHOT_TYPES)

# Inbox states an event is stored in, decided from its type at reception.
STATE_PENDING = "pending"     # the processor applies it
STATE_IGNORED = "ignored"     # unknown type: kept with the reason


def register(cls):
    ADAPTERS[cls.platform] = cls()
    return cls


def get_adapter(platform):
    return ADAPTERS[platform]


def state_for(event_type):
    if event_type in INTERACTION_TYPES or event_type in ORDER_TYPES or event_type in SNAPSHOT_TYPES:
        return STATE_PENDING, None
    return STATE_IGNORED, f"Unknown event type {event_type!r}"


def constant_time_equal(a, b):
    return hmac.compare_digest((a or "").encode(), (b or "").encode())


def check_replay_window(timestamp, per_second=1, window=REPLAY_WINDOW):
    """Refuse a push whose signed `timestamp` (decimal text, in 1/per_second s) is
    missing or more than `window` seconds from now, either way. The signature proves
    who made the push, not when: without this a captured push replays for ever.
    Only for platforms that sign a timestamp; the others rely on the inbox dedup."""
    if not re.fullmatch(r"[0-9]{1,20}", timestamp or ""):
        raise Rejected(401, "Missing or malformed signed timestamp")
    if abs(time.time() - int(timestamp) / per_second) > window:
        raise Rejected(401, f"Timestamp outside the {window // 60}-minute window")


def check_shop(creds, shop_id):
    """When the channel names its platform shop, refuse a message signed for another
    one: app credentials may be shared by several shops, and a push captured for one
    would otherwise be accepted by the channel of another (possibly another company)."""
    expected = (creds.shop_id or "").strip()
    if expected and (shop_id is None or str(shop_id) != expected):
        raise Rejected(401, "The message is for another shop than the channel's Platform Shop ID")


def exact_json(text):
    """Parse JSON keeping integers beyond 2^53 as strings (order ids)."""
    return json.loads(text, parse_int=lambda s: int(s) if len(s) < 16 else s)


class Rejected(Exception):
    """The push is refused: `status` and a message for the platform and the log."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Credentials:
    id: int
    code: str
    platform: str
    company_id: int
    app_key: Optional[str] = None
    app_secret: Optional[str] = None
    token: Optional[str] = None
    encoding_aes_key: Optional[str] = None
    message_secret: Optional[str] = None
    shop_id: Optional[str] = None   # the platform's shop id, bound to the signed content when set
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES


@dataclass
class InboundRequest:
    method: str
    headers: dict            # lower-cased names
    query: dict
    body: bytes


@dataclass
class InboxEvent:
    message_id: str
    event_type: str
    room_id: Optional[str]
    occurred_at: Optional[float]   # unix seconds
    payload: dict
    state: str = STATE_PENDING
    note: Optional[str] = None

    @classmethod
    def make(cls, message_id, event_type, payload, room_id=None, occurred_at=None):
        state, note = state_for(event_type)
        return cls(str(message_id), event_type, room_id and str(room_id), occurred_at, payload, state, note)


@dataclass(frozen=True)
class JsonEventsBody:
    """A checked push body of the form {"events": [event, ...]} (the generic format),
    as received, and how many events it holds. The inbox stores each event as it is
    (live.event._store, live_event_store_json): PostgreSQL parses the body once, and
    no event is re-serialized and quoted in Python, which would cost more than
    PostgreSQL's insert of the batch."""
    text: str
    count: int


@dataclass
class Fan:
    """A person as the platform names them; `scope` is 'channel' or 'platform'.

    `others`: more ids of the same person that hold across a platform's apps (a
    union id), pushed with this one: the processor attaches them to the fan, and a
    fan already known by one of them is this fan (one person per union id)."""
    platform: str
    id_type: str
    id: str
    nickname: Optional[str] = None
    avatar: Optional[str] = None
    others: list = field(default_factory=list)

    def __post_init__(self):
        # Snapshots store fans as dicts (orders.to_dict): read them back as Fans.
        self.others = [Fan(**other) if isinstance(other, dict) else other for other in self.others or ()]


@dataclass
class NormalizedEvent:
    type: str
    occurred_at: Optional[float]
    room_id: Optional[str]
    fan: Optional[Fan]
    data: dict = field(default_factory=dict)


@dataclass
class FetchOrder:
    """An order push that carries only ids: the order (and after-sale) to fetch."""
    order_ref: str
    refund_ref: Optional[str] = None


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


class Adapter:
    platform = None
    #: answer when nothing was accepted because the push was a heartbeat/verification
    def challenge(self, creds, request):
        """A GET verification (WeChat echostr); None when the platform has none."""
        return None

    def parse(self, creds, request):
        """Verify the push (signature, and that what the platform signed is for this
        channel: app id, shop, fresh timestamp) and return its inbox events. Raises
        Rejected, 401 for anything that fails authentication or binding."""
        raise NotImplementedError

    def ack(self, accepted, duplicates):
        return Reply(200, b'{"code":0,"msg":"success"}')

    def reject(self, rejected):
        return Reply(rejected.status, json.dumps({"code": 1, "msg": rejected.message}).encode())

    def normalize(self, event_type, payload, room_id, occurred_at):
        """The processor's view of a stored event. For an order or refund event
        whose push carries the whole story (the generic format), `data` is an
        orders.PlatformOrder; for platforms that push only ids, a FetchOrder."""
        return NormalizedEvent(event_type, occurred_at, room_id, None, payload)

    def order_reference(self, event_type, payload):
        """(order_ref, refund_ref) of a stored order or after-sale event: the ids to
        pass to the platform's ApiClient.fetch_order / fetch_refund, as text, None
        where the push names none. Pushes of these platforms carry ids only: the
        order itself comes from the platform's API."""
        return None, None

    def sign(self, creds, body, **kwargs):
        """(headers, query, body) the platform would send for the JSON `body`: signed,
        encrypted where the platform encrypts. Used by the tests and the simulator."""
        raise NotImplementedError

    # helpers shared by adapters
    @staticmethod
    def load_json(body):
        try:
            return exact_json(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise Rejected(400, f"Malformed JSON body: {exc}") from None
