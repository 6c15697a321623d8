"""WeChat Channels shop (视频号小店 / 微信小店), secure JSON mode.

GET ?signature&timestamp&nonce&echostr verifies the URL: sha1 of the sorted
token/timestamp/nonce, then echostr is returned as is. POST carries msg_signature =
sha1 of the sorted token/timestamp/nonce/Encrypt; Encrypt is AES-256-CBC with key =
base64(EncodingAESKey + "="), IV = key[:16], PKCS#7 over 32-byte blocks, and the
plaintext is 16 random bytes + 4-byte big-endian length + message + appid.
order_id exceeds 2^53: it is kept as a string.

Binding: the appid that ends the plaintext must be the channel's App Key (one
EncodingAESKey may be configured for several apps), and the signed `timestamp` must
be within the replay window, on POST and on the GET verification.
"""
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import time

from .base import (Adapter, InboxEvent, Rejected, Reply, check_replay_window, constant_time_equal, exact_json,
                   register)
from .crypto import aes_cbc_decrypt, aes_cbc_encrypt, pkcs7_pad, pkcs7_unpad

# What the GET verification may echo (see challenge()): WeChat sends digits.
PLAIN_ECHOSTR = re.compile(r"[A-Za-z0-9_-]{1,64}")
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
    if not creds.app_key or appid != creds.app_key:
        raise Rejected(401, "The message is for another appid than the channel's App Key")
    return message


def encrypt(creds, message, random16=None):
    key = _key(creds)
    plain = (random16 or os.urandom(16)) + struct.pack(">I", len(message)) + message + (creds.app_key or "").encode()
    return base64.b64encode(aes_cbc_encrypt(key, key[:16], pkcs7_pad(plain, 32))).decode()


@register
class WechatChannelsShopAdapter(Adapter):
    platform = "wechat_channels_shop"

    def challenge(self, creds, request):
        # The docs (developers.weixin.qq.com/doc/channels/API/basics/message_push.html,
        # "验证消息的确来自微信服务器") sign only token, timestamp and nonce, and ask for
        # echostr back "as is". echostr is not signed: with one captured signature
        # triple anyone could make this URL answer content of their choosing. So the
        # triple is only good within the replay window, echostr must be a short plain
        # token (the docs' example is digits, 4375120948345356249), and when a
        # msg_signature comes along (as in the secure-mode verification of other WeChat
        # products) it must sign the echostr too.
        query = request.query
        if not creds.token:
            raise Rejected(401, "The channel has no token configured")
        timestamp, nonce, echostr = query.get("timestamp", ""), query.get("nonce", ""), query.get("echostr", "")
        if not constant_time_equal(query.get("signature", ""), sha1_signature(creds.token, timestamp, nonce)):
            raise Rejected(401, "Bad signature")
        if "msg_signature" in query and not constant_time_equal(
                query["msg_signature"], sha1_signature(creds.token, timestamp, nonce, echostr)):
            raise Rejected(401, "Bad msg_signature")
        check_replay_window(timestamp)
        if not PLAIN_ECHOSTR.fullmatch(echostr):
            raise Rejected(401, "echostr is not a plain token (at most 64 letters, digits, '-' or '_')")
        return Reply(200, echostr.encode(), "text/plain")

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
        check_replay_window(query.get("timestamp"))
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
        # After-sale updates carry finder_shop_aftersale_status_update {after_sale_order_id,
        # status, order_id} (WxJava AfterSaleMessage); without its id in the key, two
        # after-sales updated in the same second would be taken for one.
        aftersale = message.get("finder_shop_aftersale_status_update") or message.get("aftersale_info")
        if isinstance(aftersale, dict) and "after_sale_order_id" in aftersale:
            aftersale["after_sale_order_id"] = str(aftersale["after_sale_order_id"])
            key = key or aftersale["after_sale_order_id"]
        key = key or ""
        create_time = message.get("CreateTime")
        event_type = EVENT_TYPES.get(message["Event"], f"wechat.{message['Event']}")
        return [InboxEvent.make(f"{message['Event']}:{key}:{create_time}", event_type, message, None,
                                create_time if isinstance(create_time, (int, float)) else None)]

    def ack(self, accepted, duplicates):
        return Reply(200, b"success", "text/plain")

    def reject(self, rejected):
        return Reply(rejected.status, rejected.message.encode(), "text/plain")

    def sign(self, creds, body, timestamp=None, nonce="415670741", **kwargs):
        timestamp = timestamp or str(int(time.time()))
        encrypted = encrypt(creds, body)
        query = {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "openid": kwargs.get("openid", ""),
                 "signature": sha1_signature(creds.token, timestamp, nonce),
                 "msg_signature": sha1_signature(creds.token, timestamp, nonce, encrypted)}
        return {"Content-Type": "application/json"}, query, json.dumps(
            {"ToUserName": kwargs.get("to_user", "gh_shop"), "Encrypt": encrypted}).encode()
