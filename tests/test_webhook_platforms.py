"""Each platform's push, signed or encrypted the way the platform does it."""
import base64
import json

from odoo.tests import tagged

from ..models.platforms.wechat_channels_shop import sha1_signature
from .common import WebhookCase, at

WECHAT_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
KUAISHOU_SECRET = base64.b64encode(b"0123456789abcdef").decode()


@tagged("post_install", "-at_install")
class TestDouyinShopWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("douyin_shop", "dy-shop")

    def _message(self, tag, msg_id, **data):
        return {"tag": tag, "msg_id": msg_id, "data": json.dumps(dict({"p_id": 6919412345678901234, "shop_id": 1}, **data))}

    def test_signed_array_is_stored_and_acknowledged(self):
        response = self._push(self.channel, [self._message("101", "m1", pay_amount=19900, update_time=1795000000),
                                             self._message("106", "m2", cancel_reason="buyer")])
        self.assertEqual((response.status_code, response.json()), (200, {"code": 0, "msg": "success"}))
        events = self._events(self.channel)
        self.assertEqual(events.mapped("message_id"), ["101:m1", "106:m2"])
        self.assertEqual(events.mapped("event_type"), ["order.paid", "order.cancelled"])
        self.assertEqual(set(events.mapped("state")), {"pending"}, "orders are fetched by the processor's job")
        self.assertEqual(events[0].payload["data"]["p_id"], "6919412345678901234", "large ids kept exactly")
        self.assertEqual(str(events[0].occurred_at), "2026-11-18 11:06:40")

    def test_single_object_and_verification_push(self):
        self.assertEqual(self._push(self.channel, self._message("103", "m3")).json()["code"], 0)
        response = self._push(self.channel, [{"tag": "0", "msg_id": "verify", "data": "{}"}])
        self.assertEqual((response.status_code, response.json()["code"]), (200, 0))
        self.assertEqual(self._events(self.channel).mapped("message_id"), ["103:m3"])

    def test_redelivery_is_a_duplicate(self):
        for _ in range(3):
            self._push(self.channel, [self._message("100", "same")])
        self.assertEqual(len(self._events(self.channel)), 1)

    def test_bad_sign_or_app_id_is_a_401(self):
        response = self._push(self.channel, [self._message("101", "x")], headers={"event-sign": "0" * 32})
        self.assertEqual((response.status_code, response.json()["code"]), (401, 1))
        response = self._push(self.channel, [self._message("101", "x")], headers={"app-id": "someone-else"})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))

    def test_unknown_tag_is_ignored_with_reason(self):
        self._push(self.channel, [self._message("999", "odd")])
        self.assertEqual(self._events(self.channel).state, "ignored")


@tagged("post_install", "-at_install")
class TestKuaishouWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("kuaishou_shop", "ks-shop", message_secret=KUAISHOU_SECRET)

    def _envelope(self, event, msg_id, test=False):
        return {"eventId": f"ev-{msg_id}", "msgId": msg_id, "bizId": 1, "userId": 2, "openId": "o",
                "appKey": self.channel.app_key, "event": event, "test": test, "createTime": 1795000000000,
                "info": json.dumps({"oid": 2410301234567890123, "buyerOpenId": "ks-buyer", "sellerId": 9})}

    def test_encrypted_push_is_decrypted_and_stored(self):
        response = self._push(self.channel, self._envelope("kwaishop_order_paySuccess", "k1"))
        self.assertEqual((response.status_code, response.json()), (200, {"result": 1}))
        event = self._events(self.channel)
        self.assertEqual((event.message_id, event.event_type, event.state), ("k1", "order.paid", "pending"))
        self.assertEqual(event.payload["info"]["oid"], "2410301234567890123")

    def test_heartbeat_is_acknowledged_and_ignored(self):
        response = self._push(self.channel, self._envelope("kwaishop_order_addOrder", "hb", test=True))
        self.assertEqual(response.json(), {"result": 1})
        self.assertFalse(self._events(self.channel))

    def test_body_not_encrypted_with_the_secret_is_a_401(self):
        response = self._push(self.channel, None, raw=base64.b64encode(b"0" * 32), sign=False)
        self.assertEqual(response.status_code, 401)
        response = self._push(self.channel, None, raw=b'{"event": "plain json"}', sign=False)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))


@tagged("post_install", "-at_install")
class TestWechatChannelsWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("wechat_channels_shop", "wx-shop", app_key="wx1234567890",
                                   token="token", encoding_aes_key=WECHAT_AES_KEY)

    def test_documented_signature_vector(self):
        self.assertEqual(sha1_signature("token", "1714112445", "415670741", "EncryptValue"),
                         "03de89c50e642c93033dd7f4ef86a8356e80e345")

    def test_url_verification_echoes_echostr(self):
        query = "timestamp=1714112445&nonce=415670741&echostr=hello123&signature=" + \
            sha1_signature("token", "1714112445", "415670741")
        with at(1714112445 + 5):  # the timestamp is signed: refused outside the replay window
            response = self.url_open(f"/live_commerce/webhook/wx-shop?{query}")
        self.assertEqual((response.status_code, response.text), (200, "hello123"))
        response = self.url_open("/live_commerce/webhook/wx-shop?timestamp=1&nonce=2&echostr=x&signature=bad")
        self.assertEqual(response.status_code, 401)

    def test_encrypted_event_with_64_bit_order_id(self):
        message = '{"ToUserName":"gh_shop","FromUserName":"o_buyer","CreateTime":1795000000,"MsgType":"event",' \
                  '"Event":"channels_ec_order_pay","order_info":{"order_id":3729145627718289152,"pay_time":1795000000}}'
        response = self._push(self.channel, None, raw=message.encode())
        self.assertEqual((response.status_code, response.text), (200, "success"))
        event = self._events(self.channel)
        self.assertEqual(event.payload["order_info"]["order_id"], "3729145627718289152")
        self.assertEqual(event.message_id, "channels_ec_order_pay:3729145627718289152:1795000000")
        self.assertEqual((event.event_type, event.state), ("order.paid", "pending"))

    def test_after_sale_updates_of_one_second_are_kept_apart(self):
        for after_sale_id in ("4200000123456789012", "4200000123456789013"):
            message = ('{"ToUserName":"gh_shop","FromUserName":"o_buyer","CreateTime":1795000000,"MsgType":"event",'
                       '"Event":"channels_ec_aftersale_update","finder_shop_aftersale_status_update":'
                       f'{{"after_sale_order_id":{after_sale_id},"status":"MERCHANT_PROCESSING",'
                       '"order_id":3729145627718289152}}')
            self.assertEqual(self._push(self.channel, None, raw=message.encode()).status_code, 200)
        events = self._events(self.channel)
        self.assertEqual(events.mapped("message_id"), [
            "channels_ec_aftersale_update:4200000123456789012:1795000000",
            "channels_ec_aftersale_update:4200000123456789013:1795000000"])
        self.assertEqual(set(events.mapped("event_type")), {"refund.updated"})

    def test_bad_msg_signature_is_a_401(self):
        message = b'{"Event":"channels_ec_order_new","CreateTime":1,"order_info":{"order_id":1}}'
        response = self._push(self.channel, None, raw=message, query={"msg_signature": "0" * 40})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))


@tagged("post_install", "-at_install")
class TestTiktokShopWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("tiktok_shop", "tt-shop")

    def _notification(self, notification_id, status):
        return {"type": 1, "tts_notification_id": notification_id, "shop_id": "7495", "timestamp": 1795000000,
                "data": {"order_id": "576461413038785752", "order_status": status, "update_time": 1795000000}}

    def test_hmac_signed_notification(self):
        response = self._push(self.channel, self._notification("n1", "AWAITING_SHIPMENT"))
        self.assertEqual((response.status_code, response.content), (200, b""))
        event = self._events(self.channel)
        self.assertEqual((event.message_id, event.event_type), ("n1", "order.paid"))
        self._push(self.channel, self._notification("n1", "AWAITING_SHIPMENT"))
        self.assertEqual(len(self._events(self.channel)), 1, "at-least-once delivery is deduplicated")

    def test_return_and_cancellation_notifications_are_refund_events(self):
        self._push(self.channel, {"type": 12, "tts_notification_id": "n-ret", "shop_id": "7495", "timestamp": 1795000000,
                                  "data": {"order_id": 576461413038785752, "return_id": 4035318504387641111,
                                           "return_status": "AWAITING_BUYER_SHIP", "update_time": 1795000000}})
        self._push(self.channel, {"type": 11, "tts_notification_id": "n-can", "shop_id": "7495", "timestamp": 1795000000,
                                  "data": {"order_id": "576461413038785752", "cancel_id": "4035318504387642222",
                                           "cancel_status": "CANCELLATION_REQUEST_PENDING"}})
        events = self._events(self.channel)
        self.assertEqual([(e.message_id, e.event_type, e.state) for e in events],
                         [("n-ret", "refund.updated", "pending"), ("n-can", "refund.updated", "pending")])
        self.assertEqual(events[0].payload["data"]["return_id"], "4035318504387641111")

    def test_bad_authorization_is_a_401(self):
        response = self._push(self.channel, self._notification("n2", "CANCEL"), headers={"Authorization": "f" * 64})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))


@tagged("post_install", "-at_install")
class TestDouyinLiveWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("douyin_live", "dy-room")

    def test_room_messages_become_fans_and_comments(self):
        comments = [{"msg_id": "c1", "sec_openid": "sec-a", "content": "主播好", "nickname": "小鹿",
                     "avatar_url": "https://p3.douyinpic.com/a.jpeg", "timestamp": 1795000000123},
                    {"msg_id": "c2", "sec_openid": "sec-b", "content": "上链接", "nickname": "阿杰", "timestamp": 1795000001000}]
        response = self._push(self.channel, comments, msg_type="live_comment", room_id="7301")
        self.assertEqual((response.status_code, response.json()["code"]), (200, 0))
        likes = [{"msg_id": "l1", "sec_openid": "sec-a", "like_num": 30, "timestamp": 1795000002000}]
        self._push(self.channel, likes, msg_type="live_like", room_id="7301")
        self._push(self.channel, comments, msg_type="live_comment", room_id="7301")  # redelivered
        self._process()
        fan = self.env["live.fan.identity"].search([("value", "=", "sec-a")]).partner_id
        self.assertEqual(fan.name, "小鹿")
        self.assertEqual(fan.live_identity_ids.avatar_url, "https://p3.douyinpic.com/a.jpeg")
        self.assertEqual((fan.fan_comment_count, fan.fan_like_count), (1, 30))
        session = self.env["live.session"].search([("channel_id", "=", self.channel.id), ("room_id", "=", "7301")])
        self.assertEqual(sorted(session.comment_ids.mapped("content")), ["上链接", "主播好"])

    def test_bad_signature_is_a_401(self):
        response = self._push(self.channel, [{"msg_id": "x", "sec_openid": "s"}], msg_type="live_like",
                              room_id="1", headers={"x-signature": "AAAA"})
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))
