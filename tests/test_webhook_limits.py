"""What an unauthenticated caller can cost the webhook: bodies are read up to the
limit and no further (chunked or form-encoded), unknown channel codes are not
cached, refused pushes are counted exactly."""
import json
import socket
from contextlib import closing
from urllib.parse import urlsplit

from odoo.tests import tagged

from .common import WebhookCase, generic_event


@tagged("post_install", "-at_install")
class TestWebhookLimits(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls._channel("generic", "limits-test")  # body limit 65,536 bytes (WebhookCase)

    def _send_without_ending(self, content_type, chunk):
        """POST a chunked body: one chunk, then nothing, the body never ends. Returns
        the status line the server answers with, or None if it waits for more."""
        url = urlsplit(self.base_url())
        with closing(socket.create_connection((url.hostname, url.port), timeout=5)) as sock:
            sock.sendall((f"POST /live_commerce/webhook/{self.channel.code} HTTP/1.1\r\n"
                          f"Host: {url.hostname}\r\nContent-Type: {content_type}\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n").encode()
                         + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            try:
                answer = sock.recv(4096)
            except socket.timeout:
                return None
        return answer.split(b"\r\n", 1)[0].decode()

    def test_chunked_body_over_the_limit_is_refused_without_reading_the_rest(self):
        status = self._send_without_ending("application/json", b"[" + b" " * 70000)
        self.assertIsNotNone(status, "the server waited for the rest of an oversized body")
        self.assertIn(" 413 ", status)

    def test_form_encoded_body_is_not_parsed_before_the_limit(self):
        status = self._send_without_ending("application/x-www-form-urlencoded", b"a=" + b"x" * 70000)
        self.assertIsNotNone(status, "the body was parsed as a form, whole, before the webhook ran")
        self.assertIn(" 413 ", status)
        # A form-encoded push within the limit reaches the adapter, which refuses its content.
        response = self.url_open(f"/live_commerce/webhook/{self.channel.code}", data={"a": "b"})
        self.assertEqual(response.status_code, 401)

    def test_unknown_channel_codes_are_not_cached(self):
        cache = self.registry._Registry__caches["default"]
        codes = [f"made-up-{n}" for n in range(30)]
        for code in codes:
            self.assertEqual(self.url_open(f"/live_commerce/webhook/{code}", data=b"{}").status_code, 404)
        cached_codes = {key[-1] for key in list(cache.d) if len(key) > 2
                        and getattr(key[1], "__name__", "") == "_webhook_credentials_known"}
        self.assertFalse(cached_codes & set(codes), "unknown codes filled the shared cache")
        # Known codes are cached, and a channel created after a miss is found at once.
        self._push(self.channel, {"events": []})
        self.assertIn(self.channel.code, {key[-1] for key in list(cache.d) if len(key) > 2})
        late = self._channel("generic", "made-up-1")
        self.assertEqual(self._push(late, {"events": [generic_event("late-1", "like", "f", count=1)]}).status_code,
                         200)

    def test_each_refused_push_is_counted_once(self):
        body = json.dumps({"events": [generic_event("bad", "like", "x", count=1)]}).encode()
        for _ in range(7):
            response = self._push(self.channel, None, raw=body, headers={"X-Live-Signature": "sha256=" + "1" * 64})
            self.assertEqual(response.status_code, 401)
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.webhook_rejected_count, 7)
        self.assertTrue(self.channel.webhook_last_rejected_at)
        other = self._channel("generic", "limits-other")
        self.assertEqual(other.webhook_rejected_count, 0, "counted on the channel the push was for only")
