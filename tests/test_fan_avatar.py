import base64
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from PIL import Image

from odoo.tests import tagged

from .common import WebhookCase, generic_event


def _png(color):
    buffer = io.BytesIO()
    Image.new("RGB", (48, 48), color).save(buffer, format="PNG")
    return buffer.getvalue()


class _AvatarServer(BaseHTTPRequestHandler):
    """What a platform's image CDN answers, and what it should not."""
    routes = {
        "/red.png": (200, "image/png", _png("red")),
        "/page.html": (200, "text/html", b"<html>not a picture</html>"),
        "/fake.png": (200, "image/png", b"this is not a PNG"),
        "/huge.png": (200, "image/png", b"\x89PNG" + b"\0" * (3 * 1024 * 1024)),
        "/moved.png": (302, "text/plain", b""),
    }

    def do_GET(self):
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 302:
            self.send_header("Location", "/red.png")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@tagged("post_install", "-at_install")
class TestFanAvatar(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), _AvatarServer)
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.addClassCleanup(cls.server.shutdown)
        cls.channel = cls._channel("generic", "avatar-test")
        cls.env["ir.config_parameter"].set_param("live_commerce_crm.avatar_allow_private_hosts", "1")
        cls.Identity = cls.env["live.fan.identity"]
        # Only this test's identities (demo fans have avatar URLs of their own).
        cls.Identity.search([("avatar_state", "=", "pending")]).write({"avatar_url": False})

    def _new_fan(self, fan_id, avatar):
        event = generic_event(f"ev-{fan_id}", "fan.entered", fan_id)
        event["fan"]["avatar"] = avatar
        self.assertEqual(self._push(self.channel, {"events": [event]}).status_code, 200)
        self._process()
        return self.Identity.search([("value", "=", fan_id)])

    def test_new_fan_gets_the_platform_avatar(self):
        identity = self._new_fan("fan-red", f"{self.base}/red.png")
        self.assertEqual(identity.avatar_state, "pending")
        self.assertFalse(identity.partner_id.image_1920)
        self.assertTrue(self.env["ir.cron.trigger"].search(
            [("cron_id", "=", self.env.ref("live_commerce_crm.ir_cron_fetch_avatars").id)]))
        self.assertEqual(self.Identity._cron_fetch_avatars(), 1)
        self.assertEqual(identity.avatar_state, "done")
        image = Image.open(io.BytesIO(base64.b64decode(identity.partner_id.image_128)))
        self.assertEqual(image.getpixel((10, 10))[:3], (255, 0, 0))
        self.assertEqual(self.Identity._cron_fetch_avatars(), 0, "nothing left to download")

    def test_a_picture_someone_chose_is_kept(self):
        identity = self._new_fan("fan-chosen", f"{self.base}/red.png")
        chosen = base64.b64encode(_png("blue"))
        identity.partner_id.image_1920 = chosen
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identity.avatar_state, "done")
        self.assertEqual(identity.partner_id.image_1920, chosen)

    def test_bad_answers_are_retried_then_left_with_the_reason(self):
        cases = {
            "page.html": "Not an image", "fake.png": "could not be decoded", "huge.png": "Larger than",
            "missing.png": "answered 404", "moved.png": "answered 302",
        }
        identities = {name: self._new_fan(f"fan-{name}", f"{self.base}/{name}") for name in cases}
        for _attempt in range(3):
            self.Identity._cron_fetch_avatars()
        for name, reason in cases.items():
            with self.subTest(name=name):
                identity = identities[name]
                self.assertEqual((identity.avatar_state, identity.avatar_attempts), ("failed", 3))
                self.assertIn(reason, identity.avatar_error)
                self.assertFalse(identity.partner_id.image_1920)
        # Fixed at the source: a user asks again.
        identities["page.html"].avatar_url = f"{self.base}/red.png"
        self.assertEqual(identities["page.html"].avatar_state, "pending")
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identities["page.html"].avatar_state, "done")
        self.assertTrue(identities["page.html"].partner_id.image_1920)

    def test_private_addresses_are_refused_by_default(self):
        self.env["ir.config_parameter"].set_param("live_commerce_crm.avatar_allow_private_hosts", "0")
        identity = self._new_fan("fan-internal", f"{self.base}/red.png")
        other = self._new_fan("fan-scheme", "file:///etc/passwd")
        self.Identity._cron_fetch_avatars()
        self.assertIn("private address", identity.avatar_error)
        self.assertIn("http(s)", other.avatar_error)
        self.assertFalse(identity.partner_id.image_1920)
