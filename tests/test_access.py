from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase, generic_event

SECRETS = ("app_key", "app_secret", "token", "encoding_aes_key", "message_secret", "api_access_token",
           "api_token_expires_at", "api_refresh_token", "api_refresh_expires_at", "api_sign_secret", "api_shop_cipher")


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

    def test_only_managers_reset_sessions(self):
        session = self._make_session(self.channel_a, room_id="reset-room")
        session.action_start()
        session.action_end()
        for role in ("user", "host", "field_controller", "service"):
            with self.subTest(role=role):
                as_role = session.with_user(self.users[role])
                with self.assertRaises(AccessError):
                    as_role.action_reset_to_scheduled()
                with self.assertRaises(AccessError):  # the same through a plain write over RPC
                    as_role.write({"state": "scheduled", "date_start": False, "date_end": False})
                self.assertEqual(session.state, "ended")
                self.assertTrue(session.date_start)
        session.with_user(self.users["host"]).write({"name": "Renamed by the host"})  # other writes still work
        session.with_user(self.users["manager"]).action_reset_to_scheduled()
        self.assertEqual((session.state, session.date_start, session.date_end), ("scheduled", False, False))

    def test_only_managers_rerun_inbox_events(self):
        relay = self.env["live.channel"].create({
            "name": "Relay A", "code": "relay-a", "platform": "generic", "company_id": self.company_a.id})
        creds = self.env["live.channel"]._webhook_credentials("relay-a")
        self.env["live.event"]._store(creds, [
            InboxEvent.make(f"rerun-{state}", "like", generic_event(f"rerun-{state}", "like", "f-rerun", count=1))
            for state in ("failed", "ignored", "pending")])
        events = self.env["live.event"].search([("channel_id", "=", relay.id)], order="id")
        for event, state in zip(events, ("failed", "ignored", "pending")):
            event.write({"state": state, "attempts": 3 if state == "failed" else 0, "error": "old"})
        for role in ("user", "host", "field_controller", "service"):
            for event in events:
                with self.subTest(role=role, state=event.state), self.assertRaises(AccessError):
                    event.with_user(self.users[role]).action_rerun()
        self.assertEqual(events.mapped("state"), ["failed", "ignored", "pending"])
        self.assertEqual(events.mapped("error"), ["old"] * 3)
        self.assertFalse(self.env["live.fan.identity"].search([("value", "=", "f-rerun")]))
        events.with_user(self.users["manager"]).action_rerun()
        self.assertEqual(events.mapped("state"), ["done"] * 3)
        self.assertTrue(self.env["live.fan.identity"].search([("value", "=", "f-rerun")]))

    def test_managers_cannot_rerun_another_company_inbox(self):
        creds = self.env["live.channel"]._webhook_credentials("wechat-b")
        self.env["live.event"]._store(creds, [InboxEvent.make("b-1", "like", {"id": "b-1"})])
        event = self.env["live.event"].search([("channel_id", "=", self.channel_b.id)])
        event.write({"state": "failed"})
        with self.assertRaises(AccessError):
            event.with_user(self.users["manager"]).action_rerun()
        self.assertEqual(event.state, "failed")

    def test_service_cannot_link_an_identity_to_another_company_fan(self):
        service = self.users["service"]
        fan_b = self._make_fan(self.channel_b, "oid-fan-b")
        Identity = self.env["live.fan.identity"].with_user(service)
        with self.assertRaises(UserError):
            Identity.create({"partner_id": fan_b.id, "channel_id": self.channel_a.id, "value": "oid-sneaky"})
        identity = self._make_fan(self.channel_a, "oid-own").live_identity_ids.with_user(service)
        with self.assertRaises(UserError):
            identity.write({"partner_id": fan_b.id})
        self.assertEqual(fan_b.live_identity_ids.mapped("value"), ["oid-fan-b"])

    def test_a_fan_cannot_move_away_from_its_identities_company(self):
        fan = self._make_fan(self.channel_a, "oid-mover")
        with self.assertRaises(UserError):
            fan.write({"company_id": self.company_b.id})
        shared = self.env["res.partner"].create({"name": "Shared contact"})
        self.env["live.fan.identity"].create({"partner_id": shared.id, "channel_id": self.channel_b.id, "value": "o-shared"})
        shared.write({"company_id": self.company_b.id})  # the identities' company: fine

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
