"""Fans' avatars: the platforms send a URL; a cron job puts the picture on the fan.

Never in the webhook request nor in the event processor (no outbound call on the
ingestion path): the processor leaves new identities with an avatar URL *pending*
and wakes this job, which downloads a bounded number per run.
"""
import base64
import ipaddress
import logging
import socket
from urllib.parse import urlsplit

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

MAX_AVATAR_BYTES = 2 * 1024 * 1024
MAX_AVATAR_ATTEMPTS = 3
FETCH_TIMEOUT = 5  # seconds, per avatar
AVATAR_STATES = [("pending", "To Download"), ("done", "Downloaded"), ("failed", "Download Failed")]


class AvatarRefused(Exception):
    """The URL or the answer is not something to put on a contact."""


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
        for vals in vals_list:
            if vals.get("avatar_url") and "avatar_state" not in vals:
                vals["avatar_state"] = "pending"
        identities = super().create(vals_list)
        if identities.filtered(lambda identity: identity.avatar_state == "pending"):
            self._wake_avatar_job()
        return identities

    def write(self, vals):
        if "avatar_url" in vals:
            vals = dict(vals, avatar_state="pending" if vals["avatar_url"] else False, avatar_attempts=0,
                        avatar_error=False)
        result = super().write(vals)
        if vals.get("avatar_state") == "pending":
            self._wake_avatar_job()
        return result

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
        with requests.Session() as session:
            for identity in identities:
                identity._fetch_avatar(session, allow_private)
                if not self.env.registry.in_test_mode():
                    self.env.cr.commit()
        if len(identities) == limit:
            self._wake_avatar_job()
        return len(identities)

    def _fetch_avatar(self, session, allow_private):
        self.ensure_one()
        try:
            data = self._download_image(session, self.avatar_url, allow_private)
            partner = self.partner_id.with_context(mail_notrack=True, tracking_disable=True)
            if not partner.image_1920:  # never replace a picture someone chose
                with self.env.cr.savepoint():
                    partner.image_1920 = base64.b64encode(data)
        except (AvatarRefused, requests.RequestException, UserError, ValueError) as exc:
            attempts = self.avatar_attempts + 1
            _logger.info("Avatar of fan identity %s not downloaded (attempt %s): %s", self.id, attempts, exc)
            super(LiveFanIdentity, self).write({
                "avatar_attempts": attempts, "avatar_error": str(exc)[:200],
                "avatar_state": "failed" if attempts >= MAX_AVATAR_ATTEMPTS else "pending",
            })
            return
        super(LiveFanIdentity, self).write({"avatar_state": "done", "avatar_error": False})

    @api.model
    def _avatar_private_hosts_allowed(self):
        # For on-premise platforms' test environments (and our tests): by default an
        # avatar URL may not make the server call itself or the private network.
        value = self.env["ir.config_parameter"].sudo().get_param("live_commerce_crm.avatar_allow_private_hosts")
        return value in ("1", "True", "true")

    @api.model
    def _download_image(self, session, url, allow_private):
        parts = urlsplit(url or "")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AvatarRefused(self.env._("Not an http(s) URL"))
        if not allow_private:
            self._check_public_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        with session.get(url, timeout=FETCH_TIMEOUT, stream=True, allow_redirects=False) as response:
            if response.status_code != 200:
                raise AvatarRefused(self.env._("The server answered %s", response.status_code))
            content_type = response.headers.get("Content-Type", "")
            if not content_type.startswith("image/"):
                raise AvatarRefused(self.env._("Not an image (%s)", content_type or self.env._("no content type")))
            data = b""
            for chunk in response.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_AVATAR_BYTES:
                    raise AvatarRefused(self.env._("Larger than %s bytes", MAX_AVATAR_BYTES))
        return data

    @api.model
    def _check_public_host(self, host, port):
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)}
        except socket.gaierror as exc:
            raise AvatarRefused(self.env._("Unknown host %s", host)) from exc
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
            if not ip.is_global:
                raise AvatarRefused(self.env._("%s is a private address", host))
