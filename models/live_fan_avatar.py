"""Fans' avatars: the platforms send a URL; a cron job puts the picture on the fan.

Never in the webhook request nor in the event processor (no outbound call on the
ingestion path): the processor leaves new identities with an avatar URL *pending*
and wakes this job, which downloads a bounded number per run.

The URL comes from a push, so the download is treated as hostile input (SSRF): the
name is resolved once, every address checked, and the connection goes to the
checked address; the whole download has one deadline; users only see a generic
reason, the details of what answered stay in the server log.
"""
import base64
import functools
import http.client
import ipaddress
import logging
import socket
import ssl
import time
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.utils import requote_uri

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

_logger = logging.getLogger(__name__)

MAX_AVATAR_BYTES = 2 * 1024 * 1024
MAX_AVATAR_ATTEMPTS = 3
DOWNLOAD_DEADLINE = 10  # seconds for the whole download: connection, TLS, headers and body
CA_BUNDLE = requests.certs.where()  # the trust store Odoo's other outbound calls use
AVATAR_STATES = [("pending", "To Download"), ("done", "Downloaded"), ("failed", "Download Failed")]


class AvatarRefused(Exception):
    """The URL or the answer is not something to put on a contact.

    `reason` is one of the generic reasons users see (see _failure_message);
    `detail` is for the server log only.
    """

    def __init__(self, reason, detail):
        super().__init__(detail)
        self.reason = reason


def _time_left(deadline):
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("avatar download deadline passed")
    return left


class _DeadlineReads:
    """Every read waits at most for the time left before the download's deadline.

    A socket timeout applies to each read: a server sending one byte at a time
    would otherwise hold the job as long as it likes.
    """
    deadline = None

    def recv_into(self, *args):
        self.settimeout(_time_left(self.deadline))
        return super().recv_into(*args)


class _DeadlineSocket(_DeadlineReads, socket.socket):
    pass


class _DeadlineSSLSocket(_DeadlineReads, ssl.SSLSocket):
    pass


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to the address that was checked, not to a new resolution of the name.

    Resolving again to connect is what DNS rebinding exploits: the check sees a
    public address, the connection a private one. TLS still sends the name (SNI)
    and verifies the certificate against it.
    """

    def __init__(self, host, port, family, sockaddr, deadline, tls_context=None):
        super().__init__(host, port)
        self.family, self.sockaddr, self.deadline, self.tls_context = family, sockaddr, deadline, tls_context
        self.default_port = 443 if tls_context else 80  # left out of the Host header

    def connect(self):
        sock = _DeadlineSocket(self.family, socket.SOCK_STREAM)
        try:
            sock.deadline = self.deadline
            sock.settimeout(_time_left(self.deadline))
            sock.connect(self.sockaddr)
            if self.tls_context:
                sock.settimeout(_time_left(self.deadline))  # bounds the handshake as a whole
                sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
                sock.deadline = self.deadline
        except BaseException:
            sock.close()
            raise
        self.sock = sock


@functools.lru_cache(maxsize=1)
def _tls_context(cafile):
    context = ssl.create_default_context(cafile=cafile)  # verifies the certificate and the name
    context.sslsocket_class = _DeadlineSSLSocket
    return context


class LiveFanIdentity(models.Model):
    _inherit = "live.fan.identity"

    avatar_state = fields.Selection(AVATAR_STATES, string="Avatar", readonly=True, copy=False)
    avatar_attempts = fields.Integer(readonly=True, copy=False)
    avatar_error = fields.Char(readonly=True, copy=False)

    def init(self):
        super().init()
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS live_fan_identity_avatar_pending_idx
                ON live_fan_identity (id) WHERE avatar_state = 'pending';
            -- Identities stored before avatars were downloaded.
            UPDATE live_fan_identity SET avatar_state = 'pending'
             WHERE avatar_url IS NOT NULL AND avatar_state IS NULL;
        """)

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("avatar_url") for vals in vals_list):
            self._check_avatar_url_source()
        for vals in vals_list:
            if vals.get("avatar_url") and "avatar_state" not in vals:
                vals["avatar_state"] = "pending"
        identities = super().create(vals_list)
        if identities.filtered(lambda identity: identity.avatar_state == "pending"):
            self._wake_avatar_job()
        return identities

    def write(self, vals):
        if "avatar_url" in vals:
            if vals["avatar_url"]:
                self._check_avatar_url_source()
            vals = dict(vals, avatar_state="pending" if vals["avatar_url"] else False, avatar_attempts=0,
                        avatar_error=False)
        result = super().write(vals)
        if vals.get("avatar_state") == "pending":
            self._wake_avatar_job()
        return result

    def _check_avatar_url_source(self):
        # The avatar URL is what the platform sent (the processor stores it as
        # superuser); nobody types it, so nobody, customer service included, can
        # make the server fetch an address of their choosing. The field is
        # read-only in the views; this refuses it over RPC as well. The download
        # checks apply to every URL anyway.
        if not self.env.su:
            raise AccessError(self.env._("The avatar URL comes from the platform: it cannot be set by hand."))

    @api.model
    def _wake_avatar_job(self):
        cron = self.env.ref("live_commerce_crm.ir_cron_fetch_avatars", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def action_retry_avatar(self):
        self.write({"avatar_state": "pending", "avatar_attempts": 0, "avatar_error": False})  # write() wakes the job

    @api.model
    def _cron_fetch_avatars(self, limit=200):
        """Download pending avatars; each fan is committed on its own so one slow or
        broken URL does not hold back the others."""
        self.flush_model(["avatar_state"])
        self.env.cr.execute("""
            SELECT id FROM live_fan_identity WHERE avatar_state = 'pending' ORDER BY id LIMIT %s
        """, [limit])
        identities = self.browse(row[0] for row in self.env.cr.fetchall())
        allow_private = self._avatar_private_hosts_allowed()
        for identity in identities:
            identity._fetch_avatar(allow_private)
            if not self.env.registry.in_test_mode():
                self.env.cr.commit()
        if len(identities) == limit:
            self._wake_avatar_job()
        return len(identities)

    def _fetch_avatar(self, allow_private):
        self.ensure_one()
        try:
            data = self._download_image(self.avatar_url, allow_private)
            partner = self.partner_id.with_context(mail_notrack=True, tracking_disable=True)
            if not partner.image_1920:  # never replace a picture someone chose
                try:
                    with self.env.cr.savepoint():
                        partner.image_1920 = base64.b64encode(data)
                except (UserError, ValueError) as exc:
                    raise AvatarRefused("not_image", f"not decodable: {exc}") from exc
        except (AvatarRefused, OSError, http.client.HTTPException, ValueError) as exc:
            attempts = self.avatar_attempts + 1
            _logger.info("Avatar of fan identity %s not downloaded (attempt %s): %s: %s",
                         self.id, attempts, type(exc).__name__, exc)
            super(LiveFanIdentity, self).write({
                "avatar_attempts": attempts, "avatar_error": self._failure_message(exc),
                "avatar_state": "failed" if attempts >= MAX_AVATAR_ATTEMPTS else "pending",
            })
            return
        super(LiveFanIdentity, self).write({"avatar_state": "done", "avatar_error": False})

    def _failure_message(self, exc):
        """What users see: a generic reason. The URL may point at an internal host,
        whose status codes, content types and addresses are for the server log."""
        if isinstance(exc, AvatarRefused):
            reason = exc.reason
        elif isinstance(exc, TimeoutError):
            reason = "timeout"
        elif isinstance(exc, (OSError, http.client.HTTPException)):
            reason = "connection"  # refused, reset, TLS, not HTTP
        else:
            reason = "url"  # a ValueError: a URL http.client cannot send
        return {
            "url": self.env._("Download failed: not an http(s) URL"),
            "host": self.env._("Download failed: host not found or not allowed"),
            "timeout": self.env._("Download failed: timed out"),
            "connection": self.env._("Download failed: connection error"),
            "http": self.env._("Download failed: HTTP error"),
            "not_image": self.env._("Download failed: not an image"),
            "too_large": self.env._("Download failed: too large"),
        }[reason]

    @api.model
    def _avatar_private_hosts_allowed(self):
        # For on-premise platforms' test environments (and our tests): by default an
        # avatar URL may not make the server call itself or the private network.
        value = self.env["ir.config_parameter"].sudo().get_param("live_commerce_crm.avatar_allow_private_hosts")
        return value in ("1", "True", "true")

    @api.model
    def _download_image(self, url, allow_private):
        parts = urlsplit(url or "")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:  # a port that is not a number, or out of range
            raise AvatarRefused("url", f"bad port in {url!r}") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AvatarRefused("url", f"not an http(s) URL: {url!r}")
        # Name resolution is not covered by the deadline (the system resolver has
        # its own timeouts); everything after it is.
        family, sockaddr = self._resolve(parts.hostname, port, allow_private)
        deadline = time.monotonic() + DOWNLOAD_DEADLINE
        connection = _PinnedConnection(parts.hostname, port, family, sockaddr, deadline,
                                       _tls_context(CA_BUNDLE) if parts.scheme == "https" else None)
        try:
            target = requote_uri(urlunsplit(("", "", parts.path or "/", parts.query, "")))
            connection.request("GET", target, headers={"Accept": "image/*"})
            response = connection.getresponse()
            where = f"{url} ({sockaddr[0]})"
            if response.status != 200:  # redirects included: their target was not checked
                raise AvatarRefused("http", f"{where} answered {response.status}")
            content_type = response.getheader("Content-Type", "")
            if not content_type.startswith("image/"):
                raise AvatarRefused("not_image", f"{where} sent {content_type or 'no content type'}")
            if (response.length or 0) > MAX_AVATAR_BYTES:
                raise AvatarRefused("too_large", f"{where} announced {response.length} bytes")
            data = response.read(MAX_AVATAR_BYTES + 1)
            if len(data) > MAX_AVATAR_BYTES:
                raise AvatarRefused("too_large", f"{where} sent more than {MAX_AVATAR_BYTES} bytes")
        finally:
            connection.close()
        return data

    @api.model
    def _resolve(self, host, port, allow_private):
        """Resolve `host` once and return the (family, socket address) to connect to.

        Every address the name resolves to must be public (unless private hosts are
        allowed): the connection then goes to one of them, never to a second answer.
        """
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise AvatarRefused("host", f"{host} does not resolve: {exc}") from exc
        if not allow_private:
            for info in infos:
                address = ipaddress.ip_address(info[4][0].split("%")[0])
                if not address.is_global:
                    raise AvatarRefused("host", f"{host} resolves to {address}, not a public address")
        family, _type, _proto, _name, sockaddr = infos[0]
        return family, sockaddr
