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

from .base import Adapter, InboxEvent, Rejected, Reply, check_shop, constant_time_equal, register

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
