import json
import time

from odoo.tests import tagged

from ..models.platforms import get_adapter
from .common import WebhookCase, generic_event


@tagged("post_install", "-at_install")
class TestGenericWebhook(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("generic", "relay-test")

    def test_signed_push_is_stored_and_acknowledged(self):
        events = [generic_event("e1", "comment", "fan-1", content="这个多少钱"), generic_event("e2", "like", "fan-1", count=5)]
        response = self._push(self.channel, {"events": events})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json(), {"accepted": 2, "duplicates": 0})
        stored = self._events(self.channel)
        self.assertEqual(stored.mapped("message_id"), ["e1", "e2"])
        self.assertEqual(stored.mapped("state"), ["pending", "pending"])
        self.assertEqual(stored[0].payload["data"]["content"], "这个多少钱")
        self.assertEqual(stored[0].room_id, "room-1")

    def test_same_push_five_times_is_applied_once(self):
        payload = {"events": [generic_event("dup-1", "like", "fan-dup", count=3),
                              generic_event("dup-2", "comment", "fan-dup", content="hello")]}
        answers = [self._push(self.channel, payload).json() for _ in range(5)]
        self.assertEqual(answers[0], {"accepted": 2, "duplicates": 0})
        self.assertEqual(answers[1:], [{"accepted": 0, "duplicates": 2}] * 4)
        self.assertEqual(len(self._events(self.channel)), 2)
        self._process()
        self._push(self.channel, payload)  # redelivered after processing
        self.assertEqual(self._process(), 0)
        fan = self.env["live.fan.identity"].search([("value", "=", "fan-dup")]).partner_id
        self.assertEqual((fan.fan_like_count, fan.fan_comment_count), (3, 1))
        self.assertEqual(self.env["live.comment"].search_count([("partner_id", "=", fan.id)]), 1)

    def test_duplicate_ids_inside_one_push_count_once(self):
        event = generic_event("same", "share", "fan-s")
        response = self._push(self.channel, {"events": [event, event]})
        self.assertEqual(response.json(), {"accepted": 1, "duplicates": 1})

    def test_bad_signature_is_refused_counted_and_not_stored(self):
        body = json.dumps({"events": [generic_event("bad-1", "comment", "x", content="hi")]}).encode()
        response = self._push(self.channel, None, raw=body, headers={"X-Live-Signature": "sha256=" + "0" * 64})
        self.assertEqual(response.status_code, 401)
        self.assertIn("signature", response.json()["error"])
        self.assertFalse(self._events(self.channel))
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.webhook_rejected_count, 1)
        self.assertTrue(self.channel.webhook_last_rejected_at)

    def test_replayed_push_outside_the_window_is_refused(self):
        payload = {"events": [generic_event("old-1", "comment", "x", content="hi")]}
        response = self._push(self.channel, payload, timestamp=time.time() - 301)
        self.assertEqual(response.status_code, 401)
        self.assertIn("window", response.json()["error"])
        response = self._push(self.channel, payload, timestamp=time.time() + 400)
        self.assertEqual(response.status_code, 401)
        self.assertFalse(self._events(self.channel))
        self.assertEqual(self._push(self.channel, payload, timestamp=time.time() - 200).status_code, 200)

    def test_malformed_json_is_a_400(self):
        response = self._push(self.channel, None, raw=b'{"events": [')
        self.assertEqual(response.status_code, 400)
        self.assertIn("Malformed JSON", response.json()["error"])
        response = self._push(self.channel, {"events": [{"type": "comment"}]})
        self.assertEqual(response.status_code, 400)
        self.assertIn("'id'", response.json()["error"])
        response = self._push(self.channel, {"events": "nope"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._events(self.channel))

    def test_a_bad_event_refuses_the_whole_push_and_names_its_position(self):
        good = generic_event("whole-1", "like", "fan-w", count=1)
        for bad, reason in (({"type": "like"}, "Event #1 needs an 'id' and a 'type'"),
                            ({"id": 0, "type": "like"}, "Event #1 needs an 'id' and a 'type'"),
                            ({"id": "", "type": "like"}, "Event #1 needs an 'id' and a 'type'"),
                            ({"id": "w2", "type": 7}, "Event #1 needs an 'id' and a 'type'"),
                            ("w2", "Event #1 needs an 'id' and a 'type'"),
                            ({"id": "w2", "type": "like", "occurred_at": "2026-11-18"},
                             "Event #1: 'occurred_at' must be unix seconds")):
            response = self._push(self.channel, {"events": [good, bad, generic_event("whole-3", "share", "fan-w")]})
            self.assertEqual((response.status_code, response.json()["error"]), (400, reason))
        self.assertFalse(self._events(self.channel), "all or nothing: the good events of a refused push are not kept")
        response = self._push(self.channel, {"events": []})
        self.assertEqual(response.json(), {"accepted": 0, "duplicates": 0})

    def test_ids_and_rooms_are_stored_as_the_platform_wrote_them(self):
        event = dict(generic_event("x", "like", "fan-n", count=1), id=98765432109876543210, room_id=7301002)
        self.assertEqual(self._push(self.channel, {"events": [event]}).json(), {"accepted": 1, "duplicates": 0})
        stored = self._events(self.channel)
        self.assertEqual((stored.message_id, stored.room_id, stored.event_type), ("98765432109876543210", "7301002",
                                                                                   "like"))
        self.assertEqual(stored.payload["id"], 98765432109876543210, "the payload is the event as received")

    def test_oversized_body_is_a_413(self):
        big = {"events": [generic_event("big", "comment", "x", content="x" * 70000)]}
        response = self._push(self.channel, big)
        self.assertEqual(response.status_code, 413)
        # Chunked: no Content-Length announced, the size is checked on what arrives.
        body = json.dumps(big).encode()
        headers, _query, body = get_adapter("generic").sign(self._creds(self.channel), body)
        response = self.url_open(f"/live_commerce/webhook/{self.channel.code}",
                                 data=(body[i:i + 8192] for i in range(0, len(body), 8192)), headers=headers)
        self.assertEqual(response.status_code, 413)
        self.assertFalse(self._events(self.channel))
        # The limit rides in the cached credentials: changing it applies to the next push.
        self.env["ir.config_parameter"].set_param("live_commerce_crm.webhook_max_body_bytes", "200000")
        self.assertEqual(self._push(self.channel, big).status_code, 200)

    def test_unknown_channel_is_a_404(self):
        response = self.url_open("/live_commerce/webhook/no-such-shop", data=b"{}")
        self.assertEqual(response.status_code, 404)
        self.channel.active = False
        response = self._push(self.channel, {"events": []})
        self.assertEqual(response.status_code, 404)

    def test_unknown_type_is_kept_as_ignored_with_the_reason(self):
        response = self._push(self.channel, {"events": [generic_event("u1", "poll.voted", "x")]})
        self.assertEqual(response.json(), {"accepted": 1, "duplicates": 0})
        event = self._events(self.channel)
        self.assertEqual(event.state, "ignored")
        self.assertIn("poll.voted", event.error)

    def test_order_events_become_orders(self):
        self.env["product.product"].create({"name": "Scarf", "default_code": "T-WEBHOOK-SCARF", "type": "consu"})
        order = generic_event("o1", "order.paid", "buyer-1", order_ref="3729145627718289152123", total=19900,
                              lines=[{"sku": "T-WEBHOOK-SCARF", "name": "Scarf", "quantity": 1, "unit_price": 19900}])
        self._push(self.channel, {"events": [order]})
        event = self._events(self.channel)
        self.assertEqual(event.state, "pending")
        self.assertEqual(event.payload["data"]["order_ref"], "3729145627718289152123")
        self.assertEqual(self._process(), 1)
        self.assertEqual(event.state, "done")
        sale = self.env["sale.order"].search([("live_channel_id", "=", self.channel.id)])
        self.assertEqual((sale.platform_order_ref, sale.state, sale.amount_total),
                         ("3729145627718289152123", "sale", 199.0))

    def test_get_is_not_a_verification_for_generic(self):
        response = self.url_open(f"/live_commerce/webhook/{self.channel.code}")
        self.assertEqual(response.status_code, 405)


@tagged("post_install", "-at_install")
class TestGenericSchema(WebhookCase):

    def test_published_schema_lists_the_types_the_adapter_knows(self):
        from odoo.tools.misc import file_open
        from ..models.platforms.base import INTERACTION_TYPES, ORDER_TYPES
        with file_open("live_commerce_crm/static/schema/generic_webhook.schema.json") as handle:
            schema = json.load(handle)
        self.assertEqual(set(schema["$defs"]["event"]["properties"]["type"]["enum"]), INTERACTION_TYPES | ORDER_TYPES)
        served = self.url_open("/live_commerce_crm/static/schema/generic_webhook.schema.json")
        self.assertEqual(served.status_code, 200)
        self.assertEqual(served.json()["title"], schema["title"])
