"""Kuaishou shop (快手电商) message push.

The body is Base64 of AES-CBC ciphertext (key = base64_decode(message secret),
IV = 16 zero bytes, PKCS#7). There is no signature header: decrypting with the
shared key is the check. `test: true` envelopes are heartbeats.

Binding: the message secret may be shared by the shops of one app, so the envelope's
appKey must be the channel's App Key (an envelope without one is refused), and when
the channel has a Platform Shop ID the seller must be it: `sellerId` in `info`, or
for events whose info has none (after-sales) the envelope's `userId`, the seller who
authorised the app. Nothing time-bound is signed: replays are inbox duplicates.
"""
import base64
import binascii
import json

from .base import Adapter, InboxEvent, Rejected, Reply, check_shop, exact_json, register
from .crypto import aes_cbc_decrypt, aes_cbc_encrypt, pkcs7_pad, pkcs7_unpad

ZERO_IV = b"\0" * 16
EVENT_TYPES = {
    "kwaishop_order_addOrder": "order.created",
    "kwaishop_order_paySuccess": "order.paid",
    "kwaishop_order_delivering": "order.shipped",
    "kwaishop_order_deliverySuccess": "order.updated",
    "kwaishop_order_orderSuccess": "order.completed",
    "kwaishop_order_orderFail": "order.cancelled",
    "kwaishop_order_totalFeeChange": "order.updated",
    "kwaishop_order_addNote": "order.updated",
    "kwaishop_order_addressUpdateAudit": "order.updated",
    "kwaishop_aftersales_addRefund": "refund.requested",
    "kwaishop_aftersales_updateRefund": "refund.updated",
}


def _key(creds):
    try:
        key = base64.b64decode(creds.message_secret or "", validate=True)
    except binascii.Error:
        key = b""
    if len(key) not in (16, 24, 32):
        raise Rejected(401, "The channel's message secret is not a Base64 AES key")
    return key


@register
class KuaishouShopAdapter(Adapter):
    platform = "kuaishou_shop"

    def parse(self, creds, request):
        key = _key(creds)
        try:
            plain = pkcs7_unpad(aes_cbc_decrypt(key, ZERO_IV, base64.b64decode(request.body.strip(), validate=True)), 16)
            envelope = exact_json(plain.decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            # Without a signature, a body that does not decrypt to JSON is not from Kuaishou.
            raise Rejected(401, "The body does not decrypt with the channel's message secret") from None
        if not isinstance(envelope, dict):
            raise Rejected(400, "The decrypted message is not an object")
        if not creds.app_key:
            raise Rejected(401, "The channel has no app key configured")
        if envelope.get("appKey") != creds.app_key:
            raise Rejected(401, "appKey is missing or is not the channel's App Key")
        if envelope.get("test"):
            return []
        message_id = envelope.get("msgId") or envelope.get("eventId")
        if not message_id or not envelope.get("event"):
            raise Rejected(400, "The message needs 'msgId' and 'event'")
        info = envelope.get("info")
        if isinstance(info, str):
            try:
                envelope = dict(envelope, info=exact_json(info))
            except ValueError:
                raise Rejected(400, "'info' is not JSON") from None
        info = envelope.get("info")
        seller = info.get("sellerId") if isinstance(info, dict) else None
        check_shop(creds, envelope.get("userId") if seller is None else seller)
        occurred = envelope.get("updateTime") or envelope.get("createTime")
        occurred = occurred / 1000.0 if isinstance(occurred, (int, float)) and occurred > 1e11 else occurred
        event_type = EVENT_TYPES.get(envelope["event"], f"kuaishou.{envelope['event']}")
        return [InboxEvent.make(message_id, event_type, envelope, None,
                                occurred if isinstance(occurred, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b'{"result":1}')

    def reject(self, rejected):
        return Reply(rejected.status, json.dumps({"result": 0, "error_msg": rejected.message}).encode())

    def sign(self, creds, body, **kwargs):
        # Kuaishou encrypts instead of signing.
        cipher = aes_cbc_encrypt(_key(creds), ZERO_IV, pkcs7_pad(body, 16))
        return {"Content-Type": "text/plain"}, {}, base64.b64encode(cipher)
