"""Our own documented push format (README, "Generic webhook format").

X-Live-Timestamp: unix seconds; X-Live-Signature: sha256=<hex HMAC-SHA256(app_secret,
"<timestamp>.<raw body>")>, refused outside a 5-minute window so a captured push
cannot be replayed later.
"""
import hashlib
import hmac
import json
import time

from .base import (ORDER_TYPES, Adapter, Fan, JsonEventsBody, NormalizedEvent, Rejected, Reply, check_replay_window,
                   constant_time_equal, register)
from .generic_orders import check_order_event, order_from_event


@register
class GenericAdapter(Adapter):
    platform = "generic"

    def parse(self, creds, request):
        timestamp = request.headers.get("x-live-timestamp", "")
        signature = request.headers.get("x-live-signature", "")
        if not creds.app_secret:
            raise Rejected(401, "The channel has no app secret configured")
        expected = "sha256=" + hmac.new(
            creds.app_secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
        if not constant_time_equal(signature, expected):
            raise Rejected(401, "Bad signature")
        check_replay_window(timestamp)
        body = self.load_json(request.body)
        events = body.get("events") if isinstance(body, dict) else None
        if not isinstance(events, list):
            raise Rejected(400, "The body must be an object with an 'events' array")
        for index, event in enumerate(events):
            if not isinstance(event, dict) or not event.get("id") or not isinstance(event["id"], (str, int, float)) \
                    or isinstance(event["id"], bool) or not isinstance(event.get("type"), str):
                raise Rejected(400, f"Event #{index} needs an 'id' and a 'type'")
            occurred = event.get("occurred_at")
            if occurred is not None and (not isinstance(occurred, (int, float)) or isinstance(occurred, bool)):
                raise Rejected(400, f"Event #{index}: 'occurred_at' must be unix seconds")
        # Stored as received: the database splits it (JsonEventsBody).
        return JsonEventsBody(request.body.decode("utf-8"), len(events))

    def ack(self, accepted, duplicates):
        return Reply(200, json.dumps({"accepted": accepted, "duplicates": duplicates}).encode())

    def reject(self, rejected):
        return Reply(rejected.status, json.dumps({"error": rejected.message}).encode())

    def normalize(self, event_type, payload, room_id, occurred_at):
        fan = payload.get("fan")
        if fan is not None:
            if not isinstance(fan, dict) or not fan.get("id"):
                raise ValueError("'fan' needs an 'id'")
            platform = fan.get("platform") or "generic"
            union_id = fan.get("union_id")
            if union_id is not None and (not isinstance(union_id, str) or not union_id):
                raise ValueError("'fan.union_id' must be a non-empty string")
            fan = Fan(platform=platform, id_type=fan.get("id_type") or "user_id",
                      id=str(fan["id"]), nickname=fan.get("nickname"), avatar=fan.get("avatar"),
                      others=[Fan(platform, "union_id", union_id)] if union_id else [])
        if event_type in ORDER_TYPES:
            check_order_event(payload)
            return NormalizedEvent(event_type, occurred_at, room_id, fan,
                                   order_from_event(event_type, payload["data"], fan, room_id, occurred_at))
        data = payload.get("data") or {}
        if not isinstance(data, dict):
            raise ValueError("'data' must be an object")
        return NormalizedEvent(event_type, occurred_at, room_id, fan, data)

    def order_reference(self, event_type, payload):
        # Generic pushes carry the whole order; its references are in its data.
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, dict):
            return None, None
        return tuple(None if data.get(key) in (None, "") else str(data[key]) for key in ("order_ref", "refund_ref"))

    def sign(self, creds, body, timestamp=None, **kwargs):
        timestamp = str(int(timestamp if timestamp is not None else time.time()))
        digest = hmac.new(creds.app_secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return {"X-Live-Timestamp": timestamp, "X-Live-Signature": "sha256=" + digest,
                "Content-Type": "application/json"}, {}, body
