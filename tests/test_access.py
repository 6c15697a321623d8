from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import LiveCommerceCase

SECRETS = ("app_key", "app_secret", "token", "encoding_aes_key", "message_secret")


@tagged("post_install", "-at_install")
class TestAccess(LiveCommerceCase):

    def test_host_cannot_read_channel_secrets(self):
        channel = self.channel_a.with_user(self.users["host"])
        self.assertEqual(channel.name, "Douyin A")
        for field in SECRETS:
            with self.subTest(field=field), self.assertRaises(AccessError):
                channel.read([field])
        self.assertFalse(set(SECRETS) & set(channel.fields_get()))

    def test_non_managers_cannot_read_secrets(self):
        for role in ("user", "host", "field_controller", "service"):
            with self.subTest(role=role), self.assertRaises(AccessError):
                self.channel_a.with_user(self.users[role]).read(["app_secret"])

    def test_manager_reads_secrets(self):
        channel = self.channel_a.with_user(self.users["manager"])
        self.assertEqual(channel.app_secret, "secret-a")

    def test_service_cannot_edit_or_create_channels(self):
        service = self.users["service"]
        with self.assertRaises(AccessError):
            self.channel_a.with_user(service).write({"name": "Renamed"})
        with self.assertRaises(AccessError):
            self.env["live.channel"].with_user(service).create({"name": "X", "code": "x-shop"})
        with self.assertRaises(AccessError):
            self.channel_a.with_user(service).unlink()
        self.assertEqual(self.channel_a.name, "Douyin A")

    def test_host_plans_sessions_but_cannot_delete_them(self):
        host = self.users["host"]
        session = self.env["live.session"].with_user(host).create({
            "name": "Host plan", "channel_id": self.channel_a.id, "host_id": host.id})
        session.write({"product_line_ids": [(0, 0, {
            "product_id": self.env["product.product"].create({"name": "Scarf", "list_price": 99}).id,
            "live_price": 79})]})
        self.assertEqual(session.product_line_ids.live_price, 79)
        with self.assertRaises(AccessError):
            session.unlink()

    def test_service_edits_fans_and_identities_not_sessions(self):
        service = self.users["service"]
        fan = self._make_fan(self.channel_a, "oid-service").with_user(service)
        fan.write({"fan_marketing_consent": True})
        self.assertTrue(fan.fan_consent_date)
        fan.live_identity_ids.write({"nickname": "Lulu"})
        session = self._make_session(self.channel_a)
        with self.assertRaises(AccessError):
            session.with_user(service).write({"name": "Changed"})

    def test_plain_internal_user_sees_no_live_data(self):
        employee = self._make_user("test_employee", "base.group_user", self.company_a)
        with self.assertRaises(AccessError):
            self.env["live.session"].with_user(employee).search([])
        with self.assertRaises(AccessError):
            self.channel_a.with_user(employee).read(["name"])

    def test_nobody_types_an_avatar_url(self):
        fields = self.env["live.fan.identity"].fields_get(["avatar_url"])
        self.assertTrue(fields["avatar_url"]["readonly"])
        identity = self._make_fan(self.channel_a, "oid-avatar").live_identity_ids
        for role in ("service", "manager"):
            with self.subTest(role=role):
                as_role = identity.with_user(self.users[role])
                with self.assertRaises(AccessError):
                    as_role.write({"avatar_url": "http://169.254.169.254/latest/meta-data/"})
                with self.assertRaises(AccessError):
                    as_role.create({"partner_id": identity.partner_id.id, "channel_id": self.channel_a.id,
                                    "value": f"oid-avatar-{role}", "avatar_url": "http://10.0.0.1/"})
                as_role.write({"nickname": f"Set by {role}"})  # the rest of the identity stays editable
        self.assertFalse(identity.avatar_url)
