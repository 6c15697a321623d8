"""WeChat Channels shop (视频号小店 / 微信小店), secure JSON mode.

GET ?signature&timestamp&nonce&echostr verifies the URL: sha1 of the sorted
token/timestamp/nonce, then echostr is returned as is. POST carries msg_signature =
sha1 of the sorted token/timestamp/nonce/Encrypt; Encrypt is AES-256-CBC with key =
base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 over 32-byte blocks, and the
plaintext is 16 random bytes + 4-byte big-endian length + message + appid.
order_id exceeds 2^53: it is kept as a string.
"""
import base64
import binascii
import hashlib
import json
import os
import struct

from .base import Adapter, InboxEvent, Rejected, Reply, constant_time_equal, exact_json, register
from .crypto import aes_cbc_decrypt, aes_cbc_encrypt, pkcs7_pad, pkcs7_unpad

EVENT_TYPES = {
    "channels_ec_order_new": "order.created",
    "channels_ec_order_pay": "order.paid",
    "channels_ec_order_deliver": "order.shipped",
    "channels_ec_order_confirm": "order.completed",
    "channels_ec_order_settle": "order.updated",
    "channels_ec_order_cancel": "order.cancelled",
    "channels_ec_order_ext_info_update": "order.updated",
    "channels_ec_aftersale_update": "refund.updated",
}


def sha1_signature(*parts):
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def _key(creds):
    try:
        key = base64.b64decode((creds.encoding_aes_key or "") + "=", validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise Rejected(401, "The channel's EncodingAESKey is not a 43-character key")
    return key


def decrypt(creds, encrypted):
    key = _key(creds)
    try:
        plain = pkcs7_unpad(aes_cbc_decrypt(key, key[:16], base64.b64decode(encrypted, validate=True)), 32)
        (length,) = struct.unpack(">I", plain[16:20])
        message, appid = plain[20:20 + length], plain[20 + length:].decode()
    except (binascii.Error, ValueError, struct.error, UnicodeDecodeError):
        raise Rejected(401, "Encrypt does not decrypt with the channel's EncodingAESKey") from None
    if creds.app_key and appid != creds.app_key:
        raise Rejected(401, "The message is for another appid")
    return message


def encrypt(creds, message, random16=None):
    key = _key(creds)
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + (creds.app_key or "").encode()
    return base64.b64encode(aes_cbc_encrypt(key, key[:16], pkcs7_pad(plain, 32))).decode()


@register
class WechatChannelsShopAdapter(Adapter):
    platform = "wechat_channels_shop"

    def challenge(self, creds, request):
        query = request.query
        if not creds.token:
            raise Rejected(401, "The channel has no token configured")
        expected = sha1_signature(creds.token, query.get("timestamp", ""), query.get("nonce", ""))
        if not constant_time_equal(query.get("signature", ""), expected):
            raise Rejected(401, "Bad signature")
        return Reply(200, (query.get("echostr") or "").encode(), "text/plain")

    def parse(self, creds, request):
        query = request.query
        if not creds.token:
            raise Rejected(401, "The channel has no token configured")
        body = self.load_json(request.body)
        encrypted = body.get("Encrypt") if isinstance(body, dict) else None
        if not isinstance(encrypted, str):
            raise Rejected(400, "The body has no 'Encrypt' field")
        expected = sha1_signature(creds.token, query.get("timestamp", ""), query.get("nonce", ""), encrypted)
        if not constant_time_equal(query.get("msg_signature", ""), expected):
            raise Rejected(401, "Bad signature")
        try:
            message = exact_json(decrypt(creds, encrypted).decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Rejected(400, "The decrypted message is not JSON") from None
        if not isinstance(message, dict) or not message.get("Event"):
            raise Rejected(400, "The decrypted message has no 'Event'")
        order_info = message.get("order_info") or {}
        if isinstance(order_info, dict) and "order_id" in order_info:
            order_info["order_id"] = str(order_info["order_id"])
        key = order_info.get("order_id") if isinstance(order_info, dict) else None
        key = key or (message.get("aftersale_info") or {}).get("after_sale_order_id") or ""
        create_time = message.get("CreateTime")
        event_type = EVENT_TYPES.get(message["Event"], f"wechat.{message['Event']}")
        return [InboxEvent.make(f"{message['Event']}:{key}:{create_time}", event_type, message, None,
                                create_time if isinstance(create_time, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b"success", "text/plain")

    def reject(self, rejected):
        return Reply(rejected.status, rejected.message.encode(), "text/plain")

    def sign(self, creds, body, timestamp="1714112445", nonce="415670741", **kwargs):
        encrypted = encrypt(creds, body)
        query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "openid": kwargs.get("openid", ""),
                 "signature": sha1_signature(creds.token, timestamp, nonce),
                 "msg_signature": sha1_signature(creds.token, timestamp, nonce, encrypted)}
        return {"Content-Type": "application/json"}, query, json.dumps(
            {"ToUserName": kwargs.get("to_user", "gh_shop"), "Encrypt": encrypted}).encode()
