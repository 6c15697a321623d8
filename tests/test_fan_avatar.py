import base64
import datetime
import io
import logging
import os
import socket
import ssl
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

from odoo.tests import tagged

from ..models import live_fan_avatar
from .common import WebhookCase, generic_event

AVATAR_LOGGER = "odoo.addons.live_commerce_crm.models.live_fan_avatar"
PUBLIC_ADDRESS = "93.184.215.14"  # example.com: public, and nothing of ours listens there


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
        "/admin": (403, "application/x-internal-admin", b"internal admin console"),
    }
    hits = []  # paths requested, in order

    def do_GET(self):
        self.hits.append(self.path)
        if self.path == "/trickle.png":
            return self._trickle()
        status, content_type, body = self.routes.get(self.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 302:
            self.send_header("Location", "/red.png")
        self.end_headers()
        self.wfile.write(body)

    def _trickle(self):
        """A slow image: a byte every 0.2 s, for 20 s at most. Every read gets a byte
        well within any per-read timeout."""
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        try:
            for _byte in range(100):
                self.wfile.write(b"\0")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:
            pass  # the client gave up

    def log_message(self, *args):
        pass


class _Resolver:
    """Name resolution for the test's host names: each name gives its answers in
    turn (the last one repeats); other names resolve as usual."""

    def __init__(self, answers):
        self.answers = {host: list(addresses) for host, addresses in answers.items()}
        self.asked = []
        self.real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):
        if host not in self.answers:
            return self.real(host, port, *args, **kwargs)
        self.asked.append(host)
        addresses = self.answers[host]
        return self.real(addresses.pop(0) if len(addresses) > 1 else addresses[0], port, *args, **kwargs)


def _self_signed_certificate(directory, host):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.utcnow()
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return cert_path, key_path


@tagged("post_install", "-at_install")
class TestFanAvatar(WebhookCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = cls._serve(ThreadingHTTPServer(("127.0.0.1", 0), _AvatarServer))
        cls.port = cls.server.server_address[1]
        cls.base = f"http://127.0.0.1:{cls.port}"
        cls.channel = cls._channel("generic", "avatar-test")
        cls.env["ir.config_parameter"].set_param("live_commerce_crm.avatar_allow_private_hosts", "1")
        cls.Identity = cls.env["live.fan.identity"]
        # Only this test's identities (demo fans have avatar URLs of their own).
        cls.Identity.search([("avatar_state", "=", "pending")]).write({"avatar_url": False})

    @classmethod
    def _serve(cls, server):
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cls.addClassCleanup(server.server_close)
        cls.addClassCleanup(server.shutdown)
        return server

    def setUp(self):
        super().setUp()
        _AvatarServer.hits.clear()

    def _new_fan(self, fan_id, avatar):
        event = generic_event(f"ev-{fan_id}", "fan.entered", fan_id)
        event["fan"]["avatar"] = avatar
        self.assertEqual(self._push(self.channel, {"events": [event]}).status_code, 200)
        self._process()
        return self.Identity.search([("value", "=", fan_id)])

    def _refuse_private_hosts(self):
        self.env["ir.config_parameter"].set_param("live_commerce_crm.avatar_allow_private_hosts", "0")

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

    def test_bad_answers_are_retried_then_left_with_a_generic_reason(self):
        cases = {
            "page.html": "Download failed: not an image", "fake.png": "Download failed: not an image",
            "huge.png": "Download failed: too large", "missing.png": "Download failed: HTTP error",
            "moved.png": "Download failed: HTTP error",
        }
        identities = {name: self._new_fan(f"fan-{name}", f"{self.base}/{name}") for name in cases}
        for _attempt in range(3):
            self.Identity._cron_fetch_avatars()
        for name, reason in cases.items():
            with self.subTest(name=name):
                identity = identities[name]
                self.assertEqual((identity.avatar_state, identity.avatar_attempts), ("failed", 3))
                self.assertEqual(identity.avatar_error, reason)
                self.assertFalse(identity.partner_id.image_1920)
        self.assertNotIn("/red.png", _AvatarServer.hits, "redirects are not followed")
        # Fixed at the source: the platform sends a new URL.
        identities["page.html"].avatar_url = f"{self.base}/red.png"
        self.assertEqual(identities["page.html"].avatar_state, "pending")
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identities["page.html"].avatar_state, "done")
        self.assertTrue(identities["page.html"].partner_id.image_1920)

    def test_users_see_no_detail_of_what_answered_the_log_does(self):
        identity = self._new_fan("fan-admin", f"{self.base}/admin")
        errors = []
        with self.assertLogs(AVATAR_LOGGER, logging.INFO) as logs:  # not "INFO": Odoo renames level 25 so
            self.Identity._cron_fetch_avatars()
            errors.append(identity.avatar_error)
            self._refuse_private_hosts()
            self.Identity._cron_fetch_avatars()
            errors.append(identity.avatar_error)
        self.assertEqual(errors, ["Download failed: HTTP error", "Download failed: host not found or not allowed"])
        for error in errors:
            for detail in ("403", "x-internal-admin", "127.0.0.1", str(self.port)):
                self.assertNotIn(detail, error)
        log = "\n".join(logs.output)
        self.assertIn("answered 403", log)
        self.assertIn("127.0.0.1, not a public address", log)

    def test_private_addresses_and_other_schemes_are_refused(self):
        self._refuse_private_hosts()
        identity = self._new_fan("fan-internal", f"{self.base}/red.png")
        other = self._new_fan("fan-scheme", "file:///etc/passwd")
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identity.avatar_error, "Download failed: host not found or not allowed")
        self.assertEqual(other.avatar_error, "Download failed: not an http(s) URL")
        self.assertFalse(identity.partner_id.image_1920)
        self.assertFalse(_AvatarServer.hits)

    def test_dns_rebinding_does_not_reach_the_internal_host(self):
        # The name is public when checked, then 127.0.0.1 for whoever resolves it again.
        self._refuse_private_hosts()
        identity = self._new_fan("fan-rebind", f"http://rebind.example:{self.port}/red.png")
        resolver = _Resolver({"rebind.example": [PUBLIC_ADDRESS, "127.0.0.1"]})
        # Whatever answers at the public address (nothing, here), it is not our server.
        with patch("socket.getaddrinfo", resolver), patch.object(live_fan_avatar, "DOWNLOAD_DEADLINE", 2):
            self.Identity._cron_fetch_avatars()
        self.assertFalse(_AvatarServer.hits, "the download reached 127.0.0.1")
        self.assertEqual(resolver.asked, ["rebind.example"], "resolved once")
        self.assertFalse(identity.partner_id.image_1920)
        self.assertEqual((identity.avatar_state, identity.avatar_attempts), ("pending", 1))

    def test_a_trickling_server_is_cut_at_the_deadline(self):
        identity = self._new_fan("fan-trickle", f"{self.base}/trickle.png")
        deadline = 2
        with patch.object(live_fan_avatar, "DOWNLOAD_DEADLINE", deadline):
            start = time.monotonic()
            self.Identity._cron_fetch_avatars()
            elapsed = time.monotonic() - start
        self.assertEqual(_AvatarServer.hits, ["/trickle.png"])
        self.assertGreaterEqual(elapsed, deadline * 0.9)
        self.assertLess(elapsed, deadline * 3, "the deadline bounds the whole download, not each read")
        self.assertEqual(identity.avatar_error, "Download failed: timed out")

    def test_https_connects_to_the_checked_address_and_verifies_the_name(self):
        with tempfile.TemporaryDirectory() as directory:
            cert_path, key_path = _self_signed_certificate(directory, "avatars.example")
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_path, key_path)
            server = ThreadingHTTPServer(("127.0.0.1", 0), _AvatarServer)
            server.socket = context.wrap_socket(server.socket, server_side=True)
            self._serve(server)
            port = server.server_address[1]
            good = self._new_fan("fan-tls", f"https://avatars.example:{port}/red.png")
            wrong_name = self._new_fan("fan-tls-name", f"https://other.example:{port}/red.png")
            # The second answer of each name leads nowhere: only the first may be used.
            resolver = _Resolver({"avatars.example": ["127.0.0.1", "192.0.2.1"],
                                  "other.example": ["127.0.0.1", "192.0.2.1"]})
            with patch("socket.getaddrinfo", resolver), patch.object(live_fan_avatar, "CA_BUNDLE", cert_path):
                self.Identity._cron_fetch_avatars()
        self.assertEqual(good.avatar_state, "done")
        self.assertTrue(good.partner_id.image_1920)
        self.assertEqual(wrong_name.avatar_error, "Download failed: connection error",
                         "the certificate is for avatars.example, not other.example")
        self.assertFalse(wrong_name.partner_id.image_1920)

    def test_a_renamed_fan_gets_the_new_avatar_url_downloaded(self):
        identity = self._new_fan("fan-new-face", f"{self.base}/page.html")
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identity.avatar_attempts, 1)
        event = generic_event("ev-fan-new-face-2", "like", "fan-new-face")
        event["fan"]["avatar"] = f"{self.base}/red.png"
        self._push(self.channel, {"events": [event]})
        self._process()
        self.assertEqual((identity.avatar_url, identity.avatar_state, identity.avatar_attempts),
                         (f"{self.base}/red.png", "pending", 0))
        self.Identity._cron_fetch_avatars()
        self.assertEqual(identity.avatar_state, "done")
        self.assertTrue(identity.partner_id.image_1920)
