from datetime import date, datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tools import mute_logger

from .common import ApiSandboxCase, LiveCommerceCase

# 02:00 UTC is 10:00 in Shanghai: outside the default quiet hours (22:00-08:00).
MORNING = "2026-12-07 02:00:00"


class OutboundCase(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a.partner_id.tz = "Asia/Shanghai"
        cls.company_b.partner_id.tz = "Europe/Paris"
        cls.Message = cls.env["live.message"].with_company(cls.company_a)
        cls.welcome = cls.env.ref("live_commerce_crm.mail_template_live_welcome")
        cls.reactivate = cls.env.ref("live_commerce_crm.mail_template_live_reactivate")
        cls.program = cls.env["loyalty.program"].create({
            "name": "Come Back Coupon", "program_type": "coupons", "company_id": cls.company_a.id,
        })
        cls.fan = cls._make_fan(cls.channel_a, "open-1", name="Lin Fang", email="lin@example.com",
                                fan_marketing_consent=True)

    def _coupon(self, partner, code="BACK-2026-XYZ", expiration=date(2026, 12, 31)):
        return self.env["loyalty.card"].create({
            "program_id": self.program.id, "partner_id": partner.id, "code": code, "expiration_date": expiration})

    def _outcomes(self, messages):
        return [(message.channel, message.state, message.reason) for message in messages.sorted("id")]


@freeze_time(MORNING)
class TestOutboundChannels(OutboundCase):

    def test_email_sent_with_coupon_code_and_expiry(self):
        coupon = self._coupon(self.fan)
        messages = self.Message._send_batch(self.fan, self.reactivate, values={self.fan.id: {"coupon": coupon}},
                                            origin="live.flow.enrollment,12")
        self.assertEqual(self._outcomes(messages), [("email", "sent", False)])
        self.assertEqual(messages.coupon_id, coupon)
        self.assertEqual(messages.origin, "live.flow.enrollment,12")
        mail = messages.mail_id
        self.assertEqual(mail.state, "outgoing", "queued, not sent in the call")
        self.assertIn("BACK-2026-XYZ", mail.body_html)
        self.assertIn("12/31/2026", mail.body_html)
        self.assertIn("Come Back Coupon", mail.body_html)
        self.assertIn("Lin Fang", mail.subject)
        self.assertEqual(mail.recipient_ids, self.fan)

    def test_email_without_coupon_shows_no_coupon_block(self):
        messages = self.Message._send_batch(self.fan, self.welcome)
        self.assertEqual(self._outcomes(messages), [("email", "sent", False)])
        self.assertNotIn("Valid until", messages.mail_id.body_html)

    def test_sms_sent_to_a_fan_with_a_phone(self):
        fan = self._make_fan(self.channel_a, "open-2", name="Wang Wei", mobile="+86 138 0013 8000",
                             fan_marketing_consent=True)
        coupon = self._coupon(fan, code="SMS-CODE-42")
        messages = self.Message._send_batch(fan, self.reactivate, channels=("sms", "email"),
                                            values={fan.id: {"coupon": coupon}})
        self.assertEqual(self._outcomes(messages), [("sms", "sent", False)])
        sms = messages.sms_id
        self.assertEqual(sms.state, "outgoing")
        self.assertEqual(sms.number, "+8613800138000")
        self.assertIn("SMS-CODE-42", sms.body)
        self.assertIn("Wang Wei", sms.body)

    def test_sms_skipped_for_a_hash_only_fan_then_email_used(self):
        fan = self._make_fan(self.channel_a, "open-3", name="Zhao Min", email="zhao@example.com",
                             fan_phone_hash="a1b2c3", fan_phone_masked="138****8000", fan_marketing_consent=True)
        messages = self.Message._send_batch(fan, self.welcome, channels=("sms", "email"))
        self.assertEqual(self._outcomes(messages), [("sms", "skipped", "no phone number"), ("email", "sent", False)])
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "=", fan.id)]))

    def test_platform_skipped_naming_the_platform(self):
        messages = self.Message._send_batch(self.fan, self.welcome, channels=("platform", "email"))
        self.assertEqual(self._outcomes(messages), [
            ("platform", "skipped", "the Douyin Shop API has no buyer messages"), ("email", "sent", False)])
        self.assertEqual(messages[0].live_channel_id, self.channel_a)

    def test_no_channel_reaches_the_fan(self):
        fan = self._make_fan(self.channel_a, "open-4", fan_marketing_consent=True)
        other = self.env["res.partner"].create({"name": "No account", "fan_marketing_consent": True})
        messages = self.Message._send_batch(fan | other, self.welcome)
        self.assertEqual(self._outcomes(messages.filtered(lambda m: m.partner_id == fan)), [
            ("email", "skipped", "no e-mail address"), ("sms", "skipped", "no phone number"),
            ("platform", "skipped", "the Douyin Shop API has no buyer messages")])
        self.assertEqual(self._outcomes(messages.filtered(lambda m: m.partner_id == other))[-1],
                         ("platform", "skipped", "no account on the company's shops"))

    def test_chatter_note_lists_each_outcome(self):
        fan = self._make_fan(self.channel_a, "open-5", email="note@example.com", fan_phone_hash="f00",
                             fan_phone_masked="139****0000", fan_marketing_consent=True)
        self.Message._send_batch(fan, self.welcome, channels=("sms", "platform", "email"), origin="flow 7")
        note = fan.message_ids[0]
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertIn("Fans: Welcome", note.body)
        self.assertIn("flow 7", note.body)
        self.assertIn("<li>SMS: Skipped (no phone number)</li>", note.body)
        self.assertIn("<li>Platform Message: Skipped (the Douyin Shop API has no buyer messages)</li>", note.body)
        self.assertIn("<li>E-mail: Sent</li>", note.body)

    def test_host_reads_messages_service_sends_them(self):
        messages = self.Message._send_batch(self.fan, self.welcome)
        host = self.users["host"]
        self.assertEqual(self.Message.with_user(host).search([("partner_id", "=", self.fan.id)]), messages)
        with self.assertRaises(AccessError), mute_logger("odoo.models"):
            self.Message.with_user(host).create({"partner_id": self.fan.id, "state": "sent"})
        self.assertFalse(self.env["live.message"].with_user(self.user_b).search([("partner_id", "=", self.fan.id)]),
                         "another company's messages are not visible")
        sent = self.Message.with_user(self.users["service"])._send_batch(self.fan, self.welcome, kind="service")
        self.assertEqual(sent.state, "sent")


@freeze_time(MORNING)
class TestOutboundConsent(OutboundCase):

    def test_no_marketing_consent_blocked(self):
        fan = self._make_fan(self.channel_a, "open-10", email="no@example.com")
        messages = self.Message._send_batch(fan, self.welcome)
        self.assertEqual(self._outcomes(messages), [(False, "blocked", "no marketing consent")])
        self.assertFalse(messages.mail_id)
        self.assertIn("All channels: Blocked (no marketing consent)", fan.message_ids[0].body)

    def test_opt_in_on_a_shop_is_consent(self):
        fan = self._make_fan(self.channel_a, "open-11", email="in@example.com")
        self.env["live.fan.consent"].create({"partner_id": fan.id, "channel_id": self.channel_a.id,
                                             "state": "opted_in"})
        self.assertEqual(self.Message._send_batch(fan, self.welcome).state, "sent")

    def test_service_message_needs_no_marketing_consent_but_a_coupon_makes_it_marketing(self):
        fan = self._make_fan(self.channel_a, "open-12", email="svc@example.com")
        self.assertEqual(self._outcomes(self.Message._send_batch(fan, self.welcome, kind="service")),
                         [("email", "sent", False)])
        coupon = self._coupon(fan)
        messages = self.Message._send_batch(fan, self.reactivate, kind="service", values={fan.id: {"coupon": coupon}})
        self.assertEqual(self._outcomes(messages), [(False, "blocked", "no marketing consent")])
        self.assertEqual(messages.kind, "marketing")

    def test_opted_out_shop_blocks_its_platform_messages(self):
        self.env["live.fan.consent"].create({"partner_id": self.fan.id, "channel_id": self.channel_a.id,
                                             "state": "opted_out"})
        messages = self.Message._send_batch(self.fan, self.welcome, channels=("platform", "email"))
        self.assertEqual(self._outcomes(messages), [
            ("platform", "blocked", "opted out on Douyin A"), ("email", "sent", False)])

    def test_opted_out_email_blocked_for_every_kind(self):
        self.env["mail.blacklist"].create({"email": "lin@example.com"})
        for kind in ("marketing", "service"):
            messages = self.Message._send_batch(self.fan, self.welcome, kind=kind, channels=("email",))
            self.assertEqual(self._outcomes(messages), [("email", "blocked", "opted out on e-mail")])

    def test_opted_out_sms_blocked(self):
        fan = self._make_fan(self.channel_a, "open-13", mobile="+86 138 0013 8001", fan_marketing_consent=True)
        self.env["phone.blacklist"].create({"number": "+8613800138001"})
        messages = self.Message._send_batch(fan, self.welcome, channels=("sms",))
        self.assertEqual(self._outcomes(messages), [("sms", "blocked", "opted out on SMS")])


class TestOutboundCaps(OutboundCase):

    def test_second_marketing_message_within_the_period_blocked(self):
        with freeze_time("2026-12-07 02:00:00"):
            self.assertEqual(self.Message._send_batch(self.fan, self.welcome).state, "sent")
        with freeze_time("2026-12-09 03:00:00"):
            messages = self.Message._send_batch(self.fan, self.reactivate)
            self.assertEqual(self._outcomes(messages), [
                ("email", "blocked", "frequency cap: 1 marketing message per 3 days")])
            self.assertFalse(messages.mail_id)
            self.assertEqual(self.Message._send_batch(self.fan, self.welcome, kind="service").state, "sent",
                             "the cap is on marketing only")
        with freeze_time("2026-12-10 02:01:00"):
            self.assertEqual(self.Message._send_batch(self.fan, self.reactivate).state, "sent")

    def test_cap_is_per_channel_and_configurable(self):
        self.company_a.write({"live_message_cap_count": 2, "live_message_cap_days": 7})
        with freeze_time("2026-12-07 02:00:00"):
            self.Message._send_batch(self.fan, self.welcome)
            self.Message._send_batch(self.fan, self.welcome)
            messages = self.Message._send_batch(self.fan, self.welcome)
            self.assertEqual(self._outcomes(messages), [
                ("email", "blocked", "frequency cap: 2 marketing messages per 7 days")])
            self.fan.write({"mobile": "+86 138 0013 8002"})
            messages = self.Message._send_batch(self.fan, self.welcome, channels=("sms", "email"))
            self.assertEqual(self._outcomes(messages), [("sms", "sent", False)], "SMS has a cap of its own")


class TestQuietHours(OutboundCase):

    def test_quiet_hours_in_the_company_time_zone(self):
        with freeze_time("2026-12-07 15:00:00"):  # 23:00 in Shanghai
            self.assertEqual(self.Message._quiet_until(self.company_a), datetime(2026, 12, 8, 0, 0))
            messages = self.Message._send_batch(self.fan, self.welcome)
            self.assertEqual(self._outcomes(messages), [(False, "blocked", "quiet hours until 08:00")])
            self.assertFalse(messages.mail_id)
        with freeze_time("2026-12-07 23:30:00"):  # 07:30 the next morning in Shanghai
            self.assertEqual(self.Message._quiet_until(self.company_a), datetime(2026, 12, 8, 0, 0))
        with freeze_time("2026-12-08 02:00:00"):  # 10:00 in Shanghai
            self.assertFalse(self.Message._quiet_until(self.company_a))
            self.assertEqual(self.Message._send_batch(self.fan, self.welcome).state, "sent")

    def test_quiet_hours_of_a_company_in_another_time_zone(self):
        fan_b = self._make_fan(self.channel_b, "wx-1", email="b@example.com", fan_marketing_consent=True)
        Message_b = self.env["live.message"].with_company(self.company_b)
        # 15:00 UTC: 23:00 in Shanghai, 16:00 in Paris.
        self.assertFalse(Message_b._quiet_until(self.company_b, datetime(2026, 12, 7, 15, 0)))
        with freeze_time("2026-12-07 15:00:00"):
            self.assertEqual(Message_b._send_batch(fan_b, self.welcome).state, "sent")
        # 22:30 UTC: 23:30 in Paris, quiet until 08:00 Paris = 07:00 UTC.
        self.assertEqual(Message_b._quiet_until(self.company_b, datetime(2026, 12, 7, 22, 30)),
                         datetime(2026, 12, 8, 7, 0))

    def test_quiet_hours_settings(self):
        self.company_a.write({"live_quiet_hour_start": 12.5, "live_quiet_hour_end": 14.0})
        self.assertEqual(self.Message._quiet_until(self.company_a, datetime(2026, 12, 7, 4, 45)),  # 12:45
                         datetime(2026, 12, 7, 6, 0))
        self.assertFalse(self.Message._quiet_until(self.company_a, datetime(2026, 12, 7, 15, 0)))  # 23:00
        self.company_a.write({"live_quiet_hour_start": 0.0, "live_quiet_hour_end": 0.0})
        self.assertFalse(self.Message._quiet_until(self.company_a, datetime(2026, 12, 7, 15, 0)))


@freeze_time(MORNING)
class TestOutboundBatch(OutboundCase):

    def _fans(self, count, prefix):
        return self.env["res.partner"].create([{
            "name": f"{prefix} {i}", "company_id": self.company_a.id, "fan_marketing_consent": i % 5 != 0,
            "email": f"{prefix}{i}@example.com" if i % 3 else False,
            "mobile": f"+86 139 {count:04d} {i:04d}" if i % 3 == 0 and i % 2 else False,
            "live_identity_ids": [(0, 0, {"channel_id": self.channel_a.id, "identity_type": "open_id",
                                          "value": f"{prefix}-{i}"})],
        } for i in range(count)])

    def _queries(self, fans):
        coupons = self.env["loyalty.card"].create([
            {"program_id": self.program.id, "partner_id": fan.id} for fan in fans])
        values = {fan.id: {"coupon": coupon} for fan, coupon in zip(fans, coupons)}
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        messages = self.Message._send_batch(fans, self.reactivate, values=values)
        self.env.flush_all()
        return self.env.cr.sql_log_count - before, messages

    def test_batch_queries_do_not_grow_with_the_fans(self):
        small, small_messages = self._queries(self._fans(20, "small"))
        large, large_messages = self._queries(self._fans(200, "large"))
        fans = large_messages.partner_id
        reachable = fans.filtered(lambda fan: fan.fan_marketing_consent and (fan.email or fan.mobile))
        sent = large_messages.filtered(lambda m: m.state == "sent").partner_id
        self.assertEqual(sent, reachable, [(fan.name, fan.email, fan.mobile, self._outcomes(fan.live_message_ids))
                                           for fan in (sent - reachable) | (reachable - sent)])
        self.assertEqual(len(reachable.live_message_ids.mail_id), len(reachable.filtered("email")))
        self.assertLess(large - small, 20, f"20 fans: {small} queries, 200 fans: {large}")


class TestPlatformMessagesAgainstTheSandbox(ApiSandboxCase):
    """The platform channel against the local platform API server: no platform
    documents a buyer-message or coupon-issue call, so none is made."""

    def test_every_platform_skipped_without_calling_its_api(self):
        self.env.company.write({"live_quiet_hour_start": 0.0, "live_quiet_hour_end": 0.0})  # any time of day
        welcome = self.env.ref("live_commerce_crm.mail_template_live_welcome")
        for platform, label in [("douyin_shop", "Douyin Shop"), ("kuaishou_shop", "Kuaishou Shop"),
                                ("wechat_channels_shop", "WeChat Channels Shop"), ("tiktok_shop", "TikTok Shop")]:
            channel = self._api_channel(platform, "msg-" + platform.replace("_", "-"))
            fan = self.env["res.partner"].create({
                "name": f"Buyer on {label}", "fan_marketing_consent": True, "company_id": channel.company_id.id,
                "live_identity_ids": [(0, 0, {"channel_id": channel.id, "identity_type": "open_id",
                                              "value": f"buyer-{platform}"})]})
            messages = self.env["live.message"]._send_batch(fan, welcome, channels=("platform",))
            self.assertEqual([(m.channel, m.state, m.reason, m.live_channel_id) for m in messages],
                             [("platform", "skipped", f"the {label} API has no buyer messages", channel)])
        self.assertEqual(self.sandbox.calls_to(), [], "no call to any platform")
