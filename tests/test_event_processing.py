from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.tests import TransactionCase, tagged

from ..models.platforms import Credentials, get_adapter
from ..models.platforms.base import InboxEvent
from .common import generic_event

T0 = 1795000000  # 2026-11-18 11:06:40 UTC


@tagged("post_install", "-at_install")
class TestEventProcessing(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Relay", "code": "relay", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, "relay", "generic", cls.channel.company_id.id, app_secret="s")
        cls.Event = cls.env["live.event"]

    def _receive(self, *events):
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        return self.Event._store(self.creds, inbox)

    def _process(self):
        total = 0
        while claimed := self.Event._process_batch():
            total += claimed
        self.env.invalidate_all()
        return total

    def _fan(self, fan_id):
        return self.env["live.fan.identity"].search([("value", "=", fan_id)]).partner_id

    @freeze_time("2026-11-18 12:00:00")  # the fan's lifecycle stage depends on the day (dormant after 30)
    def test_interactions_make_fans_sessions_and_activity(self):
        self._receive(
            generic_event("a1", "fan.entered", "f1", occurred_at=T0),
            generic_event("a2", "comment", "f1", occurred_at=T0 + 10, content="链接发一下"),
            generic_event("a3", "like", "f1", occurred_at=T0 + 20, count=12),
            generic_event("a4", "gift", "f1", occurred_at=T0 + 30, gift_id="rose", count=2, value=1990),
            generic_event("a5", "follow", "f1", occurred_at=T0 + 40),
            generic_event("a6", "share", "f1", occurred_at=T0 + 50),
            generic_event("a7", "fan.left", "f1", occurred_at=T0 + 600, watch_seconds=600),
            generic_event("a8", "comment", "f2", occurred_at=T0 + 15, content="多少钱"),
        )
        self.assertEqual(self._process(), 8)
        fan = self._fan("f1")
        self.assertEqual(fan.name, "Nick f1")
        self.assertEqual(fan.company_id, self.channel.company_id)
        self.assertTrue(fan.is_live_fan)
        self.assertEqual(fan.fan_lifecycle_stage, "passerby")
        self.assertEqual(str(fan.fan_since), "2026-11-18 11:06:40")
        session = self.env["live.session"].search([("channel_id", "=", self.channel.id), ("room_id", "=", "room-1")])
        self.assertEqual(session.state, "live")
        audience = session.audience_ids.filtered(lambda a: a.partner_id == fan)
        self.assertEqual(
            (audience.enter_count, audience.comment_count, audience.like_count, audience.gift_count,
             audience.gift_value, audience.follow_count, audience.share_count, audience.watch_seconds),
            (1, 1, 12, 2, 19.90, 1, 1, 600))
        self.assertEqual(session.audience_count, 2)
        self.assertEqual(
            (fan.fan_session_count, fan.fan_comment_count, fan.fan_like_count, fan.fan_gift_value, fan.fan_watch_seconds),
            (1, 1, 12, 19.90, 600))
        self.assertEqual(str(fan.fan_last_interaction_at), "2026-11-18 11:16:40")
        self.assertEqual(self.env["live.comment"].search([("channel_id", "=", self.channel.id),
                                                          ("content", "ilike", "链接")]).partner_id, fan)
        self.assertEqual(set(self.Event.search([("channel_id", "=", self.channel.id)]).mapped("state")), {"done"})

    def test_known_fan_is_reused_and_nickname_follows_the_platform(self):
        self._receive(generic_event("k1", "comment", "known", content="hi"))
        self._process()
        fan = self._fan("known")
        event = generic_event("k2", "like", "known", count=1)
        event["fan"]["nickname"] = "New nick"
        self._receive(event)
        self._process()
        self.assertEqual(self._fan("known"), fan)
        self.assertEqual(fan.live_identity_ids.nickname, "New nick")
        self.assertEqual(fan.fan_session_count, 1, "the same session is counted once")

    def test_out_of_order_events_give_the_same_result(self):
        self._receive(
            generic_event("o3", "session.ended", room_id="room-9", occurred_at=T0 + 3600),
            generic_event("o2", "fan.left", "late", room_id="room-9", occurred_at=T0 + 900, watch_seconds=800),
            generic_event("o1", "session.started", room_id="room-9", occurred_at=T0),
            generic_event("o0", "fan.entered", "late", room_id="room-9", occurred_at=T0 + 100),
        )
        self._process()
        session = self.env["live.session"].search([("room_id", "=", "room-9")])
        self.assertEqual(session.state, "ended")
        self.assertEqual((str(session.date_start), str(session.date_end)), ("2026-11-18 11:06:40", "2026-11-18 12:06:40"))
        line = session.audience_ids
        self.assertEqual((line.enter_count, line.watch_seconds), (1, 800))
        self.assertEqual(str(line.first_seen_at), "2026-11-18 11:08:20")

    def test_scheduled_session_goes_live_and_stats_keep_the_latest(self):
        session = self.env["live.session"].create({"name": "Planned", "channel_id": self.channel.id, "room_id": "r-plan"})
        self._receive(
            generic_event("s1", "session.started", room_id="r-plan", occurred_at=T0),
            generic_event("s3", "session.stats", room_id="r-plan", occurred_at=T0 + 600, pv=900, uv=400, pcu=120),
            generic_event("s2", "session.stats", room_id="r-plan", occurred_at=T0 + 300, pv=500, uv=250, pcu=90),
        )
        self._process()
        self.assertEqual(session.state, "live")
        self.assertEqual((session.stat_view_count, session.stat_viewer_count, session.stat_peak_viewers), (900, 400, 120))

    def test_room_data_channel_attaches_to_the_shop_sessions(self):
        shop = self.env["live.channel"].create({"name": "Shop", "code": "shop-x", "platform": "douyin_shop"})
        session = self.env["live.session"].create({"name": "Tonight", "channel_id": shop.id, "room_id": "7301"})
        self.channel.session_channel_id = shop
        self._receive(generic_event("r1", "comment", "f-room", room_id="7301", content="hi"))
        self._process()
        self.assertEqual(session.audience_count, 1)
        self.assertEqual(session.comment_ids.content, "hi")

    def test_bad_event_fails_alone_three_times_then_needs_attention_and_reruns(self):
        # An automated action a user misconfigured breaks the creation of new sessions.
        session_model = self.env.ref("live_commerce_crm.model_live_session")
        rule = self.env["base.automation"].create({
            "name": "Broken rule", "model_id": session_model.id, "trigger": "on_create"})
        action = self.env["ir.actions.server"].create({
            "name": "Broken", "state": "code", "model_id": session_model.id, "usage": "base_automation",
            "base_automation_id": rule.id, "code": "raise UserError('Session template missing')"})
        rule.write({"action_server_ids": [(4, action.id)]})
        self._receive(
            generic_event("ok-1", "comment", "f-ok", room_id=None, content="no room"),
            generic_event("bad-1", "comment", "f-bad", room_id="new-room", content="new room"),
        )
        bad = self.Event.search([("message_id", "=", "bad-1")])
        now = fields.Datetime.now()
        for attempt in range(1, 4):
            with freeze_time(now + timedelta(minutes=attempt)):
                self._process()
            self.assertEqual(bad.attempts, attempt)
        self.assertEqual(bad.state, "failed")
        self.assertIn("Session template missing", bad.error)
        self.assertEqual(self.Event.search([("message_id", "=", "ok-1")]).state, "done")
        self.assertIn(bad, self.Event.search([("state", "=", "failed")]))

        rule.active = False  # the cause is fixed
        bad.action_rerun()
        self.assertEqual(bad.state, "done")
        self.assertEqual(bad.session_id.room_id, "new-room")
        self.assertEqual(bad.partner_id, self._fan("f-bad"))

    def test_bulk_rerun(self):
        self._receive(*[generic_event(f"b{i}", "like", f"bulk{i}", room_id=None, count=1) for i in range(3)])
        events = self.Event.search([("message_id", "in", ["b0", "b1", "b2"])])
        events.write({"state": "failed", "attempts": 3, "error": "old"})
        events.action_rerun()
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(set(events.mapped("attempts")), {0})

    def test_malformed_interaction_fails_without_blocking_the_batch(self):
        self._receive(generic_event("neg", "like", "f-neg", count=-5), generic_event("fine", "like", "f-fine", count=2))
        self._process()
        self.assertEqual(self.Event.search([("message_id", "=", "neg")]).state, "pending")
        self.assertIn("negative", self.Event.search([("message_id", "=", "neg")]).error)
        self.assertEqual(self._fan("f-fine").fan_like_count, 2)

    def test_processed_payloads_are_purged_after_retention(self):
        self.env.cr.execute("DELETE FROM live_event WHERE channel_id != %s", [self.channel.id])  # the demo's inbox
        self._receive(generic_event("p1", "like", "f-p", count=1), generic_event("p2", "order.paid", "f-p"))
        self._process()
        with freeze_time(fields.Datetime.now() + timedelta(days=31)):
            self.assertEqual(self.Event._cron_purge_payloads(), 1)
        done, waiting = self.Event.search([("message_id", "=", "p1")]), self.Event.search([("message_id", "=", "p2")])
        self.assertTrue(done.payload_purged)
        self.assertFalse(done.payload)
        self.assertTrue(waiting.payload, "unprocessed events keep their payload")
        self.assertEqual(self._receive(generic_event("p1", "like", "f-p", count=1)), (0, 1),
                         "a purged event still recognizes its redelivery")

    def test_payloads_inside_the_retention_are_kept(self):
        self._receive(*(generic_event(f"age-{days}", "like", "f-age", count=1) for days in (40, 10, 0)))
        self._receive(generic_event("age-ignored-10", "poll.voted", "f-age"))
        self._process()
        now = fields.Datetime.now()
        for days in (40, 10):  # processed that many days ago
            self.env.cr.execute("UPDATE live_event SET processed_at = %s WHERE message_id = %s",
                                [now - timedelta(days=days), f"age-{days}"])
        self.env.cr.execute("UPDATE live_event SET received_at = %s WHERE message_id = 'age-ignored-10'",
                            [now - timedelta(days=10)])
        self.Event.invalidate_model()
        self.assertEqual(self.Event._cron_purge_payloads(), 1)
        self.assertEqual(self._with_payload("age-"), ["age-0", "age-10", "age-ignored-10"], "30 days by default")
        self.env["ir.config_parameter"].set_param("live_commerce_crm.event_retention_days", "7")
        self.assertEqual(self.Event._cron_purge_payloads(), 2)
        self.assertEqual(self._with_payload("age-"), ["age-0"])

    def _with_payload(self, prefix):
        events = self.Event.search([("message_id", "=like", prefix + "%")])
        self.assertEqual(events.filtered("payload_purged"), events.filtered(lambda e: not e.payload))
        return sorted(events.filtered("payload").mapped("message_id"))

    def test_unknown_fan_platform_or_identity_type_is_refused_before_any_write(self):
        bad_platform = generic_event("bad-platform", "comment", "f-bad-platform", room_id="bad-room", content="x")
        bad_platform["fan"].update(platform="no_such_platform", id_type="union_id")
        bad_type = generic_event("bad-type", "like", "f-bad-type", room_id="bad-room", count=1)
        bad_type["fan"].update(platform="wechat_channels_shop", id_type="email")
        not_text = generic_event("bad-nick", "like", "f-bad-nick", room_id="bad-room", count=1)
        not_text["fan"]["nickname"] = {"first": "Lu"}
        self._receive(bad_platform, bad_type, not_text, generic_event("fine-1", "like", "f-fine-1", count=1))
        now = fields.Datetime.now()
        for attempt in range(1, 4):
            with freeze_time(now + timedelta(minutes=attempt)):
                self._process()
        events = self.Event.search([("message_id", "in", ["bad-platform", "bad-type", "bad-nick"])], order="id")
        self.assertEqual(events.mapped("state"), ["failed"] * 3)
        self.assertEqual(events.mapped("attempts"), [3] * 3)
        self.assertIn("Unknown fan platform 'no_such_platform'", events[0].error)
        self.assertIn("Unknown fan identity type 'email'", events[1].error)
        self.assertIn("nickname and avatar must be text", events[2].error)
        self.assertFalse(self.env["live.fan.identity"].search([("value", "in", ["f-bad-platform", "f-bad-type",
                                                                                 "f-bad-nick"])]))
        self.assertFalse(self.env["live.session"].search([("room_id", "=", "bad-room")]))
        self.assertFalse(self.env["live.comment"].search([("event_id", "in", events.ids)]))
        self.assertEqual(self.Event.search([("message_id", "=", "fine-1")]).state, "done")

    def test_platform_scoped_identities_follow_renames_too(self):
        for id_type in ("union_id", "phone_hash", "open_id"):
            with self.subTest(id_type=id_type):
                first = generic_event(f"{id_type}-1", "comment", f"{id_type}-fan", content="hi")
                first["fan"].update(platform="wechat_channels_shop", id_type=id_type, nickname="Old nick",
                                    avatar="https://cdn.example.com/old.png")
                self._receive(first)
                self._process()
                identity = self.env["live.fan.identity"].search([("value", "=", f"{id_type}-fan")])
                self.assertEqual((identity.nickname, identity.avatar_url),
                                 ("Old nick", "https://cdn.example.com/old.png"))
                renamed = generic_event(f"{id_type}-2", "like", f"{id_type}-fan", count=1)
                renamed["fan"].update(platform="wechat_channels_shop", id_type=id_type, nickname="New nick",
                                      avatar="https://cdn.example.com/new.png")
                silent = generic_event(f"{id_type}-3", "like", f"{id_type}-fan", count=1)
                silent["fan"].update(platform="wechat_channels_shop", id_type=id_type, nickname=None)
                self._receive(renamed, silent)
                self._process()
                self.assertEqual(self.env["live.fan.identity"].search([("value", "=", f"{id_type}-fan")]), identity)
                self.assertEqual((identity.nickname, identity.avatar_url, identity.avatar_state),
                                 ("New nick", "https://cdn.example.com/new.png", "pending"))

    def test_adapters_normalize_douyin_live_messages(self):
        adapter = get_adapter("douyin_live")
        event = adapter.normalize("gift", {"sec_openid": "sec1", "gift_num": 3, "gift_value": 300, "sec_gift_id": "g"},
                                  "7777", T0)
        self.assertEqual((event.fan.id_type, event.fan.id, event.data["value"]), ("sec_openid", "sec1", 300))
