"""What `make run SIMULATE=1` pushes (scripts/simulate.py) is what the adapters accept
and, for the platforms that push only ids, what the platform sandbox answers for:
each push verifies, names an order (and after-sale) the sandbox knows, and the
platform's client reads back the goods, buyer, room, status and refunds the simulator
sold. No database: the simulator, the adapters, the clients and the sandbox talk
as they do beside a running server; the server side is test_orders_*.py's.
"""
import base64
import json
import time

import pytest

import simulate  # scripts/, on PYTHONPATH under `make test`
from platform_sandbox import PlatformSandbox
from platforms import Credentials, get_adapter  # the copy the simulator imports (models/platforms)
from platforms.base import ADAPTERS, ORDER_TYPES, InboundRequest, InboxEvent, JsonEventsBody
from platforms.orders import CLIENTS, ApiSettings, Token, TokenStore

ROOM = "7301002"
CHANNELS = {
    "douyin_shop": {"app_key": "7123456789012345678", "app_secret": "dy-secret", "shop_id": "88123456"},
    "kuaishou_shop": {"app_key": "ks-app", "app_secret": "ks-secret", "shop_id": "4210001",
                      "message_secret": base64.b64encode(b"ks-message-key16").decode(), "sign_secret": "ks-sign"},
    "wechat_channels_shop": {"app_key": "wx4f2a9c1d7e8b3a60", "app_secret": "wx-secret", "token": "wxtoken",
                             "encoding_aes_key": "LiveCommerceDemoEncodingAESKey0123456789abc"},
    "tiktok_shop": {"app_key": "tt-app", "app_secret": "tt-secret", "shop_id": "7495", "shop_cipher": "GCP_tt"},
    "generic": {"app_secret": "generic-secret"},
    "douyin_live": {"app_secret": "room-secret"},
}


class Tokens(TokenStore):
    def __init__(self, token):
        self.token = token

    def load(self):
        return self.token

    def save(self, token):
        self.token = token


class Recorder(simulate.Stream):
    """A stream whose pushes are parsed by the platform's adapter instead of sent."""

    def __init__(self, platform, sandbox):
        channel = dict(CHANNELS[platform], code=f"sim-{platform.replace('_', '-')}", platform=platform,
                       access_token=f"{platform}-access", refresh_token=f"{platform}-refresh")
        rng = simulate.random.Random(7)
        super().__init__(channel, "http://odoo.invalid", simulate.Room(20, 7), ROOM, rng, sandbox=sandbox.url,
                         order_every=1)
        self.inbox = []

    def push(self, body, **sign_kwargs):
        creds = Credentials(0, self.creds.code, self.creds.platform, 0, **{
            key: self.channel.get(key) for key in ("app_key", "app_secret", "token", "encoding_aes_key",
                                                   "message_secret", "shop_id")})
        headers, query, data = self.adapter.sign(creds, json.dumps(body, ensure_ascii=False).encode(), **sign_kwargs)
        request = InboundRequest("POST", {key.lower(): value for key, value in headers.items()}, query, data)
        parsed = self.adapter.parse(creds, request)  # raises Rejected on a bad push
        if isinstance(parsed, JsonEventsBody):  # the generic format: the database splits it
            parsed = [InboxEvent.make(event["id"], event["type"], event, event.get("room_id"), event.get("occurred_at"))
                      for event in json.loads(parsed.text)["events"]]
        self.inbox.extend(parsed)
        self.sent += 1


@pytest.fixture(scope="module")
def sandbox():
    sandbox = PlatformSandbox().start()
    yield sandbox
    sandbox.stop()


def _client(stream, sandbox):
    channel = stream.channel
    settings = ApiSettings(base_url=sandbox.url, app_key=channel["app_key"], app_secret=channel["app_secret"],
                           shop_id=channel.get("shop_id"), sign_secret=channel.get("sign_secret"),
                           shop_cipher=channel.get("shop_cipher"))
    token = Token(channel["access_token"], time.time() + 3600, channel.get("refresh_token"), time.time() + 86400)
    return CLIENTS[stream.creds.platform](settings, Tokens(token))


def _fetched(stream, sandbox):
    """{order ref: (order, {refund ref: refund})} as the platform's client reads what the pushes name."""
    adapter, client, found = get_adapter(stream.creds.platform), _client(stream, sandbox), {}
    for event in stream.inbox:
        assert event.event_type in ORDER_TYPES, event.event_type
        order_ref, refund_ref = adapter.order_reference(event.event_type, event.payload)
        assert order_ref, event.payload
        _order, refunds = found.get(order_ref, (None, {}))
        if refund_ref:
            refunds[refund_ref] = client.fetch_refund(refund_ref, order_ref)
        found[order_ref] = (client.fetch_order(order_ref), refunds)
    return found


def _play(stream, steps=60):
    """Sell and follow up as time goes by, without waiting for it."""
    clock = time.time()
    for step in range(steps):
        clock += 20
        if step % 2 == 0:
            stream.sell(clock)
        stream.follow_up(clock)


@pytest.mark.parametrize("platform", ["douyin_shop", "kuaishou_shop", "wechat_channels_shop", "tiktok_shop"])
def test_id_only_platforms_sell_through_the_sandbox(platform, sandbox):
    stream = Recorder(platform, sandbox)
    assert stream.register_app(wait=5) and stream.sells
    _play(stream)
    assert stream.errors == 0 and stream.sold >= 15
    found = _fetched(stream, sandbox)
    assert len(found) == stream.sold, "every order pushed is one the platform knows"
    statuses = {order.status for order, _refunds in found.values()}
    assert {"paid", "completed"} <= statuses, "some still wait, some went all the way (shipped, then completed)"
    codes = {code for code, *_rest in simulate.SKUS}
    for order, refunds in found.values():
        # TikTok's orders name no live room: the session live on the channel when paid.
        assert order.room_id == (None if platform == "tiktok_shop" else ROOM)
        assert order.buyer and order.buyer.id.startswith("sim-")
        assert order.lines and all(line.quantity >= 1 for line in order.lines)
        assert {line.merchant_code or line.sku for line in order.lines} <= codes, "the live session's goods"
        assert order.paid == sum(line.quantity * line.unit_price for line in order.lines)
        if order.status in ("shipped", "completed"):
            assert order.shipments and not any(line.merchant_code in simulate.MADE_TO_ORDER for line in order.lines)
        for refund in refunds.values():
            assert (refund.state, refund.return_goods) == ("succeeded", False)
            assert 0 < refund.amount <= order.paid
    refunded = [(order, refund) for order, refunds in found.values() for refund in refunds.values()]
    assert any(order.status == "paid" and refund.amount == order.paid for order, refund in refunded), \
        "refunded before shipping: all of it"
    assert any(order.status == "completed" and refund.amount < order.paid for order, refund in refunded), \
        "refunded after delivery: part of the price"


def test_generic_channel_pushes_whole_orders_and_what_follows(sandbox):
    stream = Recorder("generic", sandbox)
    _play(stream)
    stream.tick_generic()  # the last follow-ups go out with the next push
    adapter = get_adapter("generic")
    types = [event.event_type for event in stream.inbox]
    assert types.count("order.paid") == stream.sold >= 15
    assert {"order.shipped", "order.completed", "refund.succeeded"} <= set(types)
    for event in stream.inbox:
        if event.event_type in ORDER_TYPES:
            normalized = adapter.normalize(event.event_type, event.payload, event.room_id, event.occurred_at)
            assert normalized.data.order_ref and event.room_id == ROOM


def test_the_room_and_the_middleware_name_each_viewer_by_one_union_id(sandbox):
    """The Douyin room app and the middleware are apps of one Douyin developer
    account: each has its own open ids, and both send the viewer's union id, which
    the server joins into one fan (tests/test_fan_merge.py)."""
    room, middleware = Recorder("douyin_live", sandbox), Recorder("generic", sandbox)
    middleware.room, middleware.sells = room.room, False  # one live room, seen by both
    for _tick in range(30):
        room.tick()
        middleware.tick()
    unions = {}
    for stream in (room, middleware):
        adapter = get_adapter(stream.creds.platform)
        assert stream.inbox
        for event in stream.inbox:
            if event.event_type == "session.stats":  # the room's figures: no viewer
                continue
            fan = adapter.normalize(event.event_type, event.payload, event.room_id, event.occurred_at).fan
            [union] = fan.others
            assert (union.platform, union.id_type) == ("douyin_live", "union_id")
            unions.setdefault(stream.creds.platform, {})[fan.id] = union.id
    by_room, by_middleware = unions["douyin_live"], unions["generic"]
    shared = by_room.keys() & by_middleware.keys()
    assert shared, "the same viewers show up on both channels"
    assert all(by_room[viewer] == by_middleware[viewer] for viewer in shared)
    assert len(set(by_room.values()) | set(by_middleware.values())) == len(by_room.keys() | by_middleware.keys()), \
        "one union id per viewer"


def test_the_room_reports_its_statistics_so_pv_uv_peak_and_likes_move(sandbox):
    """The platforms report a room's views, viewers, peak and likes every few seconds
    (session.stats): without them PV, UV, PCU and the platform's likes stay at 0."""
    stream = Recorder("generic", sandbox)
    stream.sells = False
    reports = []
    for _tick in range(40):
        stream.next_stats_at = 0  # as if STATS_EVERY had passed
        stream.tick()
        reports.append(stream.inbox[-1])
    assert all(event.event_type == "session.stats" and event.room_id == ROOM for event in reports)
    adapter = get_adapter("generic")
    first, last = (adapter.normalize(e.event_type, e.payload, e.room_id, e.occurred_at).data for e in (reports[0], reports[-1]))
    assert last == stream.room.stats()
    for key in ("pv", "uv", "pcu", "likes"):
        assert last[key] > 0 and last[key] >= first[key], key
    assert last["pv"] >= last["uv"] >= last["pcu"]
    assert last["uv"] == len({event.payload["fan"]["id"] for event in stream.inbox
                              if event.event_type == "fan.entered"} | stream.room.seen)


def test_every_live_room_reports_its_own_statistics(monkeypatch):
    """`make run SIMULATE=1` gives each channel the room of its live session: the demo's
    Douyin room (the shop, the room app, the middleware) and its WeChat Channels room
    (the store, which pushes order ids only, and the middleware's relay of that room).
    Each room has its own viewers, and each reports its views, viewers and peak
    (session.stats), so PV, UV and PCU move on every live session."""
    wechat_room = "export/UzFfAgtgekIEAQAAAAAAb4MwGP2"
    channels = [  # as scripts/run.sh reads the demo's channels
        dict(CHANNELS["douyin_shop"], code="douyin-flagship", platform="douyin_shop", room=ROOM),
        dict(CHANNELS["wechat_channels_shop"], code="wechat-store", platform="wechat_channels_shop",
             room=wechat_room),
        dict(CHANNELS["douyin_live"], code="douyin-room", platform="douyin_live", room=ROOM),
        dict(CHANNELS["generic"], code="middleware", platform="generic", room=ROOM),
        dict(CHANNELS["generic"], code="middleware-wechat", platform="generic", room=wechat_room,
             viewer_platform="wechat_channels_shop"),
    ]
    pushed = []
    monkeypatch.setattr(simulate.Stream, "push", lambda stream, body, **kw: pushed.append((stream, body)))
    streams = simulate.make_streams(channels, "http://odoo.invalid", 30, 7)
    for stream in streams:
        stream.sells = False  # no sandbox: the rooms only
    for _tick in range(40):
        for stream in streams:
            stream.next_stats_at = 0
            stream.tick()
    stats, viewers = {}, {}
    for stream, body in pushed:
        for event in body.get("events", []) if isinstance(body, dict) else []:
            if event["type"] == "session.stats":
                stats[event["room_id"]] = event["data"]
            elif event["type"] == "fan.entered":
                viewers.setdefault(event["room_id"], set()).add((event["fan"]["platform"], event["fan"]["id"]))
    assert set(stats) == {ROOM, wechat_room}, "every live room reports its statistics"
    for room, figures in stats.items():
        assert figures["pv"] >= figures["uv"] >= figures["pcu"] > 0, room
    assert {platform for platform, _id in viewers[wechat_room]} == {"wechat_channels_shop"}
    # What the processor accepts as a fan's platform: one it has an adapter for.
    assert {platform for room in viewers.values() for platform, _id in room} <= set(ADAPTERS)
    assert not {fan for _platform, fan in viewers[ROOM]} & {fan for _platform, fan in viewers[wechat_room]}, \
        "each room has its own people"
    by_room = {stream.room_id: stream.room for stream in streams}
    assert by_room[ROOM] is not by_room[wechat_room]
    assert all(stream.room is by_room[stream.room_id] for stream in streams), "one room per room id, shared"
