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

from .base import Adapter, InboxEvent, Rejected, check_shop, constant_time_equal, exact_json, register

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
