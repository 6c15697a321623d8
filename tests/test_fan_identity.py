from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LiveCommerceCase


@tagged("post_install", "-at_install")
class TestFanIdentity(LiveCommerceCase):

    def _identity(self, partner, **vals):
        return self.env["live.fan.identity"].create({"partner_id": partner.id, **vals})

    def test_identity_makes_a_fan_and_inherits_channel_scope(self):
        partner = self.env["res.partner"].create({"name": "Xiaolu"})
        self.assertFalse(partner.is_live_fan)
        identity = self._identity(partner, channel_id=self.channel_b.id, value="o6_abc")
        self.assertEqual(identity.platform, "wechat_channels_shop")
        self.assertEqual(identity.company_id, self.company_b)
        self.assertTrue(partner.is_live_fan)

    @mute_logger("odoo.sql_db")
    def test_same_open_id_twice_in_a_channel_is_refused(self):
        fan = self._make_fan(self.channel_a, "dup-oid")
        other = self.env["res.partner"].create({"name": "Other"})
        self._identity(other, channel_id=self.channel_b.id, value="dup-oid")  # other channel: fine
        with self.assertRaises(IntegrityError):
            self._identity(fan, channel_id=self.channel_a.id, value="dup-oid")

    @mute_logger("odoo.sql_db")
    def test_union_id_unique_per_platform_and_company(self):
        one = self.env["res.partner"].create({"name": "One"})
        two = self.env["res.partner"].create({"name": "Two"})
        vals = {"platform": "wechat_channels_shop", "identity_type": "union_id", "value": "union-1"}
        self._identity(one, company_id=self.company_b.id, **vals)
        self._identity(two, company_id=self.company_a.id, **vals)  # another company: fine
        with self.assertRaises(IntegrityError):
            self._identity(two, company_id=self.company_b.id, **vals)

    def test_channel_scoped_types_need_a_channel(self):
        partner = self.env["res.partner"].create({"name": "No channel"})
        with self.assertRaises(ValidationError):
            self._identity(partner, platform="douyin_shop", identity_type="open_id", value="x")

    def test_identity_platform_must_match_channel(self):
        partner = self.env["res.partner"].create({"name": "Mismatch"})
        with self.assertRaises(ValidationError):
            self._identity(partner, channel_id=self.channel_a.id, platform="tiktok_shop", value="y")

    def test_fan_since_is_the_first_identity(self):
        other_shop = self.env["live.channel"].create({
            "name": "Kuaishou A", "code": "kuaishou-a", "platform": "kuaishou_shop", "company_id": self.company_a.id})
        with freeze_time("2026-01-02 10:00:00"):
            fan = self._make_fan(self.channel_a, "early")
        with freeze_time("2026-03-01 10:00:00"):
            self._identity(fan, channel_id=other_shop.id, value="late")
        self.assertEqual(str(fan.fan_since), "2026-01-02 10:00:00")

    def test_consent_date_follows_consent(self):
        fan = self._make_fan(self.channel_a, "consent", fan_marketing_consent=True)
        self.assertTrue(fan.fan_consent_date)
        fan.fan_marketing_consent = False
        self.assertFalse(fan.fan_consent_date)

    def test_search_fans_by_identity(self):
        fan = self._make_fan(self.channel_a, "find-me-oid", "Findable")
        found = self.env["res.partner"].search([("live_identity_ids.value", "=", "find-me-oid")])
        self.assertEqual(found, fan)
