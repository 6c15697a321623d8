"""Every adapter's push through the webhook's production insert path, over real HTTP.

The HttpCase webhook tests run each request inside the test's transaction
(live.event._in_caller_transaction() is true in test mode), so they never take the
path production takes. Here a channel per platform lives in the private server's
database (tests/private_server.py), a real server stores each push on its own, and
the test reads the row back from PostgreSQL: stored once, a redelivery answered as
the platform expects and not stored again, a refused push not stored at all.
"""
import base64
import dataclasses
import json
import time
import uuid

import pytest

from .private_server import shared_private_odoo

RUN = uuid.uuid4().hex[:8]  # the private database is shared by the session: codes and ids stay unique
ORDER_ID = 3729145627718289152


@pytest.fixture(scope="module")
def private_odoo(request):
    return shared_private_odoo(request.config)


@dataclasses.dataclass
class Case:
    credentials: dict
    body: object            # JSON-encoded before signing
    row: tuple              # (message_id, event_type, state) stored
    ack: bytes              # the answer to the first delivery
    duplicate_ack: bytes    # the answer to a redelivery
    sign: dict = dataclasses.field(default_factory=dict)


def _cases():
    now = int(time.time())
    success = b'{"code":0,"msg":"success"}'
    return {
        "douyin_shop": Case(
            {"app_key": "prod-dy-app", "app_secret": "prod-dy-secret", "shop_id": "88123456"},
            [{"tag": "101", "msg_id": f"{RUN}-d1",
              "data": json.dumps({"p_id": ORDER_ID, "shop_id": 88123456, "pay_amount": 19900, "update_time": now})}],
            (f"101:{RUN}-d1", "order.paid", "pending"), success, success),
        "kuaishou_shop": Case(
            {"app_key": "prod-ks-app", "message_secret": base64.b64encode(b"prod-kuaishou-ky").decode(),
             "shop_id": "88001"},
            {"eventId": f"{RUN}-ev", "msgId": f"{RUN}-k1", "userId": 88001, "appKey": "prod-ks-app",
             "event": "kwaishop_order_paySuccess", "test": False, "createTime": now * 1000,
             "info": json.dumps({"oid": ORDER_ID, "buyerOpenId": "ks-buyer", "sellerId": 88001})},
            (f"{RUN}-k1", "order.paid", "pending"), b'{"result":1}', b'{"result":1}'),
        "wechat_channels_shop": Case(
            {"app_key": "wx-prod-app", "token": "prod-token",
             "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"},
            {"ToUserName": "gh_shop", "FromUserName": "o_buyer", "CreateTime": now, "MsgType": "event",
             "Event": "channels_ec_order_pay", "order_info": {"order_id": ORDER_ID, "pay_time": now}},
            (f"channels_ec_order_pay:{ORDER_ID}:{now}", "order.paid", "pending"), b"success", b"success"),
        "tiktok_shop": Case(
            {"app_key": "prod-tt-app", "app_secret": "prod-tt-secret", "shop_id": "7494726673780148744"},
            {"type": 1, "tts_notification_id": f"{RUN}-t1", "shop_id": "7494726673780148744", "timestamp": now,
             "data": {"order_id": str(ORDER_ID), "order_status": "AWAITING_SHIPMENT", "update_time": now}},
            (f"{RUN}-t1", "order.paid", "pending"), b"", b""),
        "douyin_live": Case(
            {"app_secret": "prod-room-secret"},
            [{"msg_id": f"{RUN}-c1", "sec_openid": "sec-prod", "content": "上链接", "timestamp": now * 1000}],
            (f"live_comment:{RUN}-c1", "comment", "pending"), success, success,
            sign={"msg_type": "live_comment", "room_id": "7301002"}),
        "generic": Case(
            {"app_secret": "prod-generic-secret"},
            {"events": [{"id": f"{RUN}-g1", "type": "comment", "occurred_at": now, "room_id": "7301002",
                         "fan": {"id": "prod-fan", "id_type": "open_id"}, "data": {"content": "上链接"}}]},
            (f"{RUN}-g1", "comment", "pending"),
            b'{"accepted": 1, "duplicates": 0}', b'{"accepted": 0, "duplicates": 1}'),
    }


PLATFORMS = sorted(_cases())
# What a sender without the channel's secrets has (Kuaishou: another AES key).
WRONG_SECRETS = {"app_secret": "not-the-secret", "token": "not-the-token",
                 "message_secret": base64.b64encode(b"not-the-aes-key!").decode()}


def _stored(odoo_, creds):
    return odoo_.sql("SELECT message_id, event_type, state FROM live_event WHERE channel_id = %s", [creds.id])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_signed_push_is_stored_once_through_the_production_path(private_odoo, platform):
    case = _cases()[platform]
    creds = private_odoo.add_channel(f"prod-{platform.replace('_', '-')}-{RUN}", platform, **case.credentials)
    body = json.dumps(case.body, ensure_ascii=False).encode()
    first = private_odoo.post(creds, body, **case.sign)
    assert (first.status_code, first.content) == (200, case.ack)
    assert _stored(private_odoo, creds) == [case.row]
    again = private_odoo.post(creds, body, **case.sign)  # the platform did not hear the answer
    assert (again.status_code, again.content) == (200, case.duplicate_ack)
    assert _stored(private_odoo, creds) == [case.row], "a redelivery is not stored twice"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_push_without_the_secret_is_refused_and_not_stored(private_odoo, platform):
    case = _cases()[platform]
    creds = private_odoo.add_channel(f"prod-bad-{platform.replace('_', '-')}-{RUN}", platform, **case.credentials)
    forged = dataclasses.replace(creds, **WRONG_SECRETS)
    response = private_odoo.post(forged, json.dumps(case.body).encode(), **case.sign)
    assert response.status_code == 401, response.text
    assert _stored(private_odoo, creds) == []
    # Counted on the channel's sequence (live_channel._count_rejected_push), made on
    # the first rejection for a channel inserted in SQL.
    assert private_odoo.sql("SELECT last_value FROM pg_sequences WHERE sequencename = %s",
                            [f"live_channel_rejected_{creds.id}"]) == [(1,)]


def test_a_bad_generic_body_is_refused_on_the_production_path_and_the_next_push_is_stored(private_odoo):
    """A generic body is stored as received by PostgreSQL on the webhook's own
    connections (live_event_store_json): a refused body, whether the adapter or
    PostgreSQL refuses it, stores nothing of the push, and the next push is stored."""
    case = _cases()["generic"]
    creds = private_odoo.add_channel(f"prod-generic-bad-{RUN}", "generic", **case.credentials)
    good = {"id": f"{RUN}-ok", "type": "like", "occurred_at": int(time.time()), "fan": {"id": "f"}}
    for body, reason in ((b'{"events": [', "Malformed JSON"), (b'{"events": "none"}', "'events' array"),
                         (json.dumps({"events": [good, {"id": f"{RUN}-x", "type": "like", "occurred_at": "today"}]})
                          .encode(), "Event #1: 'occurred_at' must be unix seconds"),
                         # Valid JSON for Python, refused by PostgreSQL's jsonb.
                         (json.dumps({"events": [good, {"id": f"{RUN}-z", "type": "comment",
                                                        "data": {"content": "a\u0000b"}}]}).encode(),
                          "Malformed JSON body: unsupported Unicode escape sequence")):
        for _ in range(3):  # more than one connection of the pool sees it
            response = private_odoo.post(creds, body)
            assert response.status_code == 400, response.text
            assert reason in response.json()["error"]
    assert _stored(private_odoo, creds) == [], "nothing of a refused push is stored"
    response = private_odoo.post(creds, json.dumps({"events": [good]}).encode())
    assert (response.status_code, response.json()) == (200, {"accepted": 1, "duplicates": 0})
    assert _stored(private_odoo, creds) == [(f"{RUN}-ok", "like", "pending")]
