import json
import time
from datetime import datetime, timezone
from urllib.parse import urlencode

from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tests.common import freeze_time

from ..models.platforms import Credentials, get_adapter

GROUPS = {
    "manager": "live_commerce_crm.group_live_manager",
    "host": "live_commerce_crm.group_live_host",
    "field_controller": "live_commerce_crm.group_live_field_controller",
    "service": "live_commerce_crm.group_live_service",
    "user": "live_commerce_crm.group_live_user",
}


class LiveCommerceCase(TransactionCase):
    """Two companies, a channel in each, and one user per live-commerce role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env["res.company"].create({"name": "Shop A"})
        cls.company_b = cls.env["res.company"].create({"name": "Shop B"})
        cls.channel_a = cls.env["live.channel"].create({
            "name": "Douyin A", "code": "douyin-a", "platform": "douyin_shop",
            "company_id": cls.company_a.id, "app_key": "key-a", "app_secret": "secret-a",
        })
        cls.channel_b = cls.env["live.channel"].create({
            "name": "WeChat B", "code": "wechat-b", "platform": "wechat_channels_shop",
            "company_id": cls.company_b.id, "app_key": "key-b", "app_secret": "secret-b",
            "token": "token-b", "encoding_aes_key": "a" * 43,
        })
        cls.users = {
            role: cls._make_user(f"test_{role}", group, cls.company_a)
            for role, group in GROUPS.items()
        }
        cls.user_b = cls._make_user("test_manager_b", GROUPS["manager"], cls.company_b)

    @classmethod
    def _make_user(cls, login, group, company):
        return new_test_user(
            cls.env, login=login, groups=group, company_id=company.id, company_ids=[(6, 0, company.ids)])

    @classmethod
    def _make_fan(cls, channel, open_id, name=None, **partner_vals):
        return cls.env["res.partner"].create({
            "name": name or open_id,
            "company_id": channel.company_id.id,
            "live_identity_ids": [(0, 0, {
                "channel_id": channel.id, "identity_type": "open_id", "value": open_id,
            })],
            **partner_vals,
        })

    @classmethod
    def _make_session(cls, channel, name="Evening show", **vals):
        return cls.env["live.session"].create({
            "name": name, "channel_id": channel.id, "date_scheduled_start": "2026-11-20 12:00:00", **vals})


class WebhookCase(HttpCase):
    """Real HTTP requests against the real controller, signed the platform's way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("live_commerce_crm.webhook_max_body_bytes", "65536")

    @classmethod
    def _channel(cls, platform, code, **vals):
        return cls.env["live.channel"].create({
            "name": code, "code": code, "platform": platform, "app_key": "app-key-" + code,
            "app_secret": "app-secret-" + code, **vals})

    @staticmethod
    def _creds(channel):
        return Credentials(
            id=channel.id, code=channel.code, platform=channel.platform, company_id=channel.company_id.id,
            app_key=channel.app_key, app_secret=channel.app_secret, token=channel.token,
            encoding_aes_key=channel.encoding_aes_key, message_secret=channel.message_secret,
            shop_id=channel.shop_id or None)

    def _push(self, channel, payload, headers=None, query=None, raw=None, sign=True, **sign_kwargs):
        """POST `payload` (JSON-encoded unless `raw` bytes are given) as the platform would."""
        body = raw if raw is not None else json.dumps(payload).encode()
        all_headers, all_query = {"Content-Type": "application/json"}, {}
        if sign:
            signed_headers, all_query, body = get_adapter(channel.platform).sign(self._creds(channel), body, **sign_kwargs)
            all_headers.update(signed_headers)
        all_headers.update(headers or {})
        all_query.update(query or {})
        url = f"/live_commerce/webhook/{channel.code}" + ("?" + urlencode(all_query) if all_query else "")
        return self.url_open(url, data=body, headers=all_headers, allow_redirects=False)

    def _events(self, channel):
        return self.env["live.event"].search([("channel_id", "=", channel.id)], order="id")

    def _process(self):
        """Run the processor until the inbox is empty (what the cron does)."""
        Event = self.env["live.event"]
        total = 0
        while claimed := Event._process_batch(limit=500):
            total += claimed
        self.env.invalidate_all()
        return total


def at(unix_seconds):
    """Freeze the clock at a unix time, for the test and the HTTP server's thread alike
    (replay windows of pushes signed at a fixed time)."""
    return freeze_time(datetime.fromtimestamp(unix_seconds, timezone.utc))


def generic_event(event_id, event_type, fan_id=None, room_id="room-1", occurred_at=None, **data):
    event = {"id": event_id, "type": event_type, "occurred_at": occurred_at or int(time.time()),
             "room_id": room_id, "data": data}
    if fan_id:
        event["fan"] = {"platform": "douyin_shop", "id_type": "open_id", "id": fan_id, "nickname": f"Nick {fan_id}"}
    return event
