"""Douyin live-room data push (comments, likes, gifts, fan club) for room apps.

x-signature = base64(md5(raw)) with raw = the x-msg-type, x-nonce-str, x-roomid and
x-timestamp headers as "k=v" sorted by key and joined with "&", then the body, then
the secret. The body is a JSON array; likes are merged upstream every ~2 s and
duplicates happen (dedup on msg_id). x-timestamp (milliseconds) is signed, so a push
is refused outside the replay window: a captured one cannot be replayed later.
"""
import base64
import hashlib
import time

from .base import (Adapter, Fan, InboxEvent, NormalizedEvent, Rejected, check_replay_window, constant_time_equal,
                   register)

SIGNED_HEADERS = ("x-msg-type", "x-nonce-str", "x-roomid", "x-timestamp")
MSG_TYPES = {"live_comment": "comment", "live_like": "like", "live_gift": "gift", "live_fansclub": "follow"}


def signature(headers, body, secret):
    raw = "&".join(f"{name}={headers.get(name, '')}" for name in sorted(SIGNED_HEADERS)).encode()
    return base64.b64encode(hashlib.md5(raw + body + secret.encode()).digest()).decode()


@register
class DouyinLiveAdapter(Adapter):
    platform = "douyin_live"

    def parse(self, creds, request):
        if not creds.app_secret:
            raise Rejected(401, "The channel has no app secret configured")
        expected = signature(request.headers, request.body, creds.app_secret)
        if not constant_time_equal(request.headers.get("x-signature", ""), expected):
            raise Rejected(401, "Bad signature")
        check_replay_window(request.headers.get("x-timestamp"), per_second=1000)
        msg_type = request.headers.get("x-msg-type", "")
        room_id = request.headers.get("x-roomid") or None
        body = self.load_json(request.body)
        messages = body if isinstance(body, list) else [body]
        event_type = MSG_TYPES.get(msg_type, f"douyin_live.{msg_type or 'unknown'}")
        events = []
        for message in messages:
            if not isinstance(message, dict) or not message.get("msg_id"):
                raise Rejected(400, "Each message needs a 'msg_id'")
            occurred = message.get("timestamp")
            if isinstance(occurred, (int, float)) and occurred > 1e11:  # milliseconds
                occurred = occurred / 1000.0
            events.append(InboxEvent.make(f"{msg_type}:{message['msg_id']}", event_type, dict(message, msg_type=msg_type),
                                          room_id, occurred if isinstance(occurred, (int, float)) else None))
        return events

    def normalize(self, event_type, payload, room_id, occurred_at):
        if not payload.get("sec_openid"):
            raise ValueError("The message has no sec_openid")
        # union_id: the viewer's id across the apps of one Douyin developer account,
        # sent to apps bound to it; the other apps of the account (a middleware
        # relaying the room) name the same person with it.
        union_id = payload.get("union_id")
        fan = Fan("douyin_live", "sec_openid", str(payload["sec_openid"]),
                  payload.get("nickname"), payload.get("avatar_url"),
                  others=[Fan("douyin_live", "union_id", str(union_id))] if union_id else [])
        if event_type == "comment":
            data = {"content": payload.get("content") or ""}
        elif event_type == "like":
            data = {"count": int(payload.get("like_num") or 1)}
        elif event_type == "gift":
            data = {"gift_id": payload.get("sec_gift_id"), "count": int(payload.get("gift_num") or 1),
                    "value": int(payload.get("gift_value") or 0)}
        else:
            data = {"fansclub_level": payload.get("fansclub_level")}
        return NormalizedEvent(event_type, occurred_at, room_id, fan, data)

    def sign(self, creds, body, msg_type="live_comment", room_id="", nonce="n0nce", timestamp_ms=None, **kwargs):
        headers = {"x-msg-type": msg_type, "x-nonce-str": nonce, "x-roomid": str(room_id),
                   "x-timestamp": str(timestamp_ms or int(time.time() * 1000))}
        headers["x-signature"] = signature(headers, body, creds.app_secret)
        headers["Content-Type"] = "application/json"
        return headers, {}, body
