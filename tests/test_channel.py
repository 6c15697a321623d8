from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase


@tagged("post_install", "-at_install")
class TestChannel(LiveCommerceCase):

    def test_code_must_be_a_url_slug(self):
        for code in ("Has Space", "UPPER", "-leading", "x", "a/b"):
            with self.subTest(code=code), self.assertRaises(ValidationError):
                self.env["live.channel"].create({"name": "Bad", "code": code})

    @mute_logger("odoo.sql_db")
    def test_code_is_unique(self):
        with self.assertRaises(IntegrityError):
            self.env["live.channel"].create({"name": "Again", "code": "douyin-a"})

    def test_webhook_url_uses_code(self):
        self.env["ir.config_parameter"].set_param("web.base.url", "https://shop.example.com")
        self.channel_a.invalidate_recordset(["webhook_url"])
        self.assertEqual(self.channel_a.webhook_url, "https://shop.example.com/live_commerce/webhook/douyin-a")

    def test_new_channel_gets_utm_source_and_api_base(self):
        channel = self.env["live.channel"].create({"name": "Kuaishou Store", "code": "ks-store", "platform": "kuaishou_shop"})
        self.assertEqual(channel.source_id.name, "Kuaishou Store")
        self.assertEqual(channel.api_base_url, "https://openapi.kwaixiaodian.com")
        channel.platform = "tiktok_shop"
        self.assertEqual(channel.api_base_url, "https://open-api.tiktokglobalshop.com")

    def test_secrets_are_not_copied(self):
        copy = self.channel_a.copy({"code": "douyin-a-copy"})
        self.assertFalse(copy.app_secret)
        self.assertFalse(copy.app_key)

    def test_counts(self):
        self._make_session(self.channel_a)
        self._make_fan(self.channel_a, "count-1")
        self._make_fan(self.channel_a, "count-2")
        self.assertEqual(self.channel_a.session_count, 1)
        self.assertEqual(self.channel_a.fan_count, 2)
        self.assertEqual(self.channel_a.action_view_fans()["domain"], [("live_identity_ids.channel_id", "=", self.channel_a.id)])

    def test_deleting_a_channel_deletes_its_inbox_only(self):
        doomed = self.env["live.channel"].create({"name": "Short-lived", "code": "short-lived", "platform": "generic"})
        for channel in (doomed, self.channel_a, self.channel_b):
            creds = self.env["live.channel"]._webhook_credentials(channel.code)
            self.env["live.event"]._store(creds, [
                InboxEvent.make(f"{channel.code}-{n}", "comment", {"id": n}, "room") for n in range(2)])
        others = self._inbox_ids("channel_id != %s", doomed.id)
        self.assertEqual(len(self._inbox_ids("channel_id = %s", doomed.id)), 2)
        self.assertGreaterEqual(len(others), 4, "both other channels have an inbox")
        doomed.unlink()
        self.assertFalse(self._inbox_ids("channel_id = %s", doomed.id))
        self.assertEqual(self._inbox_ids("channel_id != %s", doomed.id), others)

    def _inbox_ids(self, condition, channel_id):
        self.env.cr.execute(f"SELECT id FROM live_event WHERE {condition} ORDER BY id", [channel_id])
        return [row[0] for row in self.env.cr.fetchall()]
