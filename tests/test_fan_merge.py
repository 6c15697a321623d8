"""One person per fan: strong keys (a union id, a phone) join fans as events arrive,
weak signals (a nickname and avatar on two channels) become suggestions that
customer service accepts through Odoo's partner merge, and a fan can be split
again. Everything a fan owns follows the surviving partner; totals are recounted,
not added twice."""
import json

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.fan_phone import phone_key
from ..models.platforms import Credentials, get_adapter
from ..models.platforms.base import InboundRequest, InboxEvent
from .common import GROUPS
from .order_common import T0, OrderCase

AVATAR = "https://p3.douyinpic.com/aweme/100x100/cat.jpeg"


@tagged("post_install", "-at_install")
class TestFanMerge(OrderCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The Douyin room app and the middleware relay the same live room (the
        # demo's channels): the room's sessions are the middleware's.
        cls.room = cls.env["live.channel"].create({
            "name": "Douyin Room", "code": "room-data", "platform": "douyin_live", "app_secret": "r",
            "session_channel_id": cls.channel.id})
        cls.room_creds = Credentials(cls.room.id, cls.room.code, "douyin_live", cls.company.id, app_secret="r")
        cls.service = cls.env["res.users"].create({
            "name": "Service", "login": "merge_service", "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)], "groups_id": [(6, 0, [cls.env.ref(GROUPS["service"]).id])]})
        cls.host = cls.env["res.users"].create({
            "name": "Host", "login": "merge_host", "company_id": cls.company.id,
            "company_ids": [(6, 0, cls.company.ids)], "groups_id": [(6, 0, [cls.env.ref(GROUPS["host"]).id])]})
        cls.n = 0

    # -- pushes ---------------------------------------------------------------
    def _room_event(self, kind, sec_openid, union_id=None, nickname="喵喵-17", avatar=None, **payload):
        self.__class__.n += 1
        msg_type = {"comment": "live_comment", "like": "live_like"}[kind]
        message = dict(payload, msg_id=f"m{self.n}", sec_openid=sec_openid, nickname=nickname, msg_type=msg_type)
        if union_id:
            message["union_id"] = union_id
        if avatar:
            message["avatar_url"] = avatar
        return InboxEvent.make(f"{msg_type}:m{self.n}", kind, message, "room-orders", T0 + self.n)

    def _middleware_event(self, kind, open_id, union_id=None, nickname="喵喵-17", avatar=None, **data):
        self.__class__.n += 1
        fan = {"platform": "douyin_live", "id_type": "open_id", "id": open_id, "nickname": nickname}
        if union_id:
            fan["union_id"] = union_id
        if avatar:
            fan["avatar"] = avatar
        event = {"id": f"mw-{self.n}", "type": kind, "occurred_at": T0 + self.n, "room_id": "room-orders",
                 "fan": fan, "data": data}
        return InboxEvent.make(event["id"], kind, event, "room-orders", event["occurred_at"])

    def _receive(self, room=(), middleware=()):
        if room:
            self.Event._store(self.room_creds, list(room))
        if middleware:
            self.Event._store(self.creds, list(middleware))
        return self.process()

    def _fan(self, value):
        return self.env["live.fan.identity"].search([("value", "=", value)]).partner_id

    def _fans_named(self, name):
        return self.env["res.partner"].search([("name", "=", name), ("is_live_fan", "=", True)])

    def _order_event(self, order_ref, buyer, phone, nickname=None, avatar=None):
        event = self.paid(order_ref, address={"name": "张三", "phone": phone, "province": "浙江省", "city": "杭州市",
                                              "street": "文三路 1 号"})
        event["fan"] = {"platform": "douyin_live", "id_type": "open_id", "id": buyer,
                        "nickname": nickname or f"Nick {buyer}"}
        if avatar:
            event["fan"]["avatar"] = avatar
        return event

    # -- strong keys ------------------------------------------------------------
    def test_union_id_makes_one_fan_of_the_room_and_the_middleware(self):
        # In one batch...
        self._receive(room=[self._room_event("comment", "sec-1", "union-1", content="主播好")],
                      middleware=[self._middleware_event("like", "mw-1", "union-1", count=3)])
        # ...and across batches, the middleware first this time.
        self._receive(middleware=[self._middleware_event("comment", "mw-2", "union-2", nickname="小鹿-02",
                                                         content="上链接")])
        self._receive(room=[self._room_event("like", "sec-2", "union-2", nickname="小鹿-02", like_num=5)])
        for name, values in (("喵喵-17", {"sec-1", "mw-1", "union-1"}), ("小鹿-02", {"sec-2", "mw-2", "union-2"})):
            fan = self._fans_named(name)
            self.assertEqual(len(fan), 1, f"one fan called {name}")
            self.assertEqual(set(fan.live_identity_ids.mapped("value")), values)
            self.assertEqual(len(fan.live_audience_ids), 1)
            self.assertEqual(fan.fan_session_count, 1)
        self.assertEqual(self._fan("sec-1").fan_comment_count, 1)
        self.assertEqual(self._fan("sec-1").fan_like_count, 3)
        union = self._fan("union-1").live_identity_ids.filtered(lambda i: i.identity_type == "union_id")
        self.assertEqual((union.platform, union.channel_id), ("douyin_live", self.env["live.channel"]))

    def test_two_known_fans_sharing_a_union_id_are_merged_into_the_older(self):
        self._receive(room=[self._room_event("comment", "sec-3", content="hi")])
        self._receive(middleware=[self._middleware_event("comment", "mw-3", content="hello")])
        older, younger = self._fan("sec-3"), self._fan("mw-3")
        self.assertNotEqual(older, younger)
        self.assertLess(older.id, younger.id)
        # The room learns the union id, then the middleware names it: one person.
        self._receive(room=[self._room_event("like", "sec-3", "union-3", like_num=2)])
        self._receive(middleware=[self._middleware_event("like", "mw-3", "union-3", count=4)])
        self.assertFalse(younger.exists())
        self.assertEqual(self._fan("mw-3"), older)
        self.assertEqual(set(older.live_identity_ids.mapped("value")), {"sec-3", "mw-3", "union-3"})
        self.assertEqual(len(older.live_audience_ids), 1, "one session, one audience line")
        self.assertEqual((older.fan_session_count, older.fan_comment_count, older.fan_like_count), (1, 2, 6))
        self.assertEqual(len(older.live_comment_ids), 2)

    def test_one_phone_in_two_formats_is_one_fan_and_never_stored_in_clear(self):
        self.push(self._order_event("P-1", "buyer-a", "138 0013 8000"))
        self.push(self._order_event("P-2", "buyer-b", "+86 13800138000"))
        fan = self._fan("buyer-a")
        self.assertEqual(self._fan("buyer-b"), fan)
        self.assertEqual(self.order("P-1").partner_id, fan)
        self.assertEqual(self.order("P-2").partner_id, fan)
        self.assertEqual(fan.fan_phone_hash, phone_key(self.env, "008613800138000")[0])
        self.assertEqual(fan.fan_phone_masked, "138****8000")
        self.assertFalse(fan.phone)
        self.assertEqual(self.order("P-1").partner_shipping_id.phone, "138****8000")
        self.env.cr.execute("SELECT count(*) FROM res_partner WHERE regexp_replace(coalesce(phone, '') || "
                            "coalesce(mobile, ''), '[^0-9]', '', 'g') LIKE '%%13800138000%%'")
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the number is nowhere in clear")

    def test_a_phone_typed_on_a_fan_merges_with_the_fan_of_that_phone(self):
        self.push(self._order_event("P-3", "buyer-c", "13900139000"))
        self._receive(middleware=[self._middleware_event("comment", "mw-4", nickname="Caller", content="hi")])
        buyer, caller = self._fan("buyer-c"), self._fan("mw-4")
        caller.with_user(self.service).write({"phone": "139-0013-9000"})
        self.assertFalse(buyer.exists())
        self.assertEqual(self._fan("buyer-c"), caller, "the fan being edited survives")
        self.assertEqual(caller.phone, "139-0013-9000", "typed by a user: kept as typed")
        self.assertEqual(caller.fan_phone_masked, "139****9000")
        self.assertEqual(self.order("P-3").partner_id, caller)

    # -- suggestions --------------------------------------------------------------
    def _lookalikes(self):
        """Two fans with one nickname and avatar on two channels, each with an
        audience line in the same session, comments, likes, and the middleware's one
        an order, an activity and a message."""
        self._receive(room=[self._room_event("comment", "sec-5", nickname="糖糖-05", avatar=AVATAR, content="好看"),
                            self._room_event("like", "sec-5", nickname="糖糖-05", avatar=AVATAR, like_num=7)])
        self._receive(middleware=[self._middleware_event("comment", "mw-5", nickname="糖糖-05", avatar=AVATAR,
                                                         content="已拍")])
        self.push(self._order_event("P-5", "mw-5", "186****7311", nickname="糖糖-05", avatar=AVATAR))
        room_fan, middleware_fan = self._fan("sec-5"), self._fan("mw-5")
        self.assertNotEqual(room_fan, middleware_fan)
        middleware_fan.activity_schedule("mail.mail_activity_data_todo", summary="Call back about the scarf",
                                         user_id=self.service.id)
        middleware_fan.message_post(body="Asked for a bigger size")
        return room_fan, middleware_fan

    def test_same_nickname_and_avatar_is_suggested_and_accepted_by_customer_service(self):
        room_fan, middleware_fan = self._lookalikes()
        Suggestion = self.env["live.fan.merge.suggestion"]
        self.assertGreaterEqual(Suggestion._suggest_merges(), 1)
        suggestion = Suggestion.search([("partner_a_id", "=", room_fan.id), ("partner_b_id", "=", middleware_fan.id)])
        self.assertEqual((suggestion.reason, suggestion.score, suggestion.state), ("nickname_avatar", 80, "pending"))
        self.assertEqual((room_fan.fan_paid_order_count, middleware_fan.fan_paid_order_count), (0, 1))
        middleware_id = middleware_fan.id

        suggestion.with_user(self.service).action_accept()

        self.assertFalse(middleware_fan.exists())
        survivor = room_fan
        self.assertEqual((suggestion.state, suggestion.partner_a_id, suggestion.decided_by_id),
                         ("accepted", survivor, self.service))
        self.assertEqual(set(survivor.live_identity_ids.mapped("value")), {"sec-5", "mw-5"})
        self.assertEqual(len(survivor.live_audience_ids), 1, "one session: one audience line")
        audience = survivor.live_audience_ids
        self.assertEqual((audience.comment_count, audience.like_count), (2, 7))
        self.assertEqual(set(survivor.live_comment_ids.mapped("content")), {"好看", "已拍"})
        self.assertEqual(len(survivor.live_fan_stats_ids), 1)
        self.assertEqual((survivor.fan_session_count, survivor.fan_comment_count, survivor.fan_like_count),
                         (1, 2, 7), "a session both attended counts once; events add up")
        self.assertEqual(self.order("P-5").partner_id, survivor)
        self.assertEqual(survivor.live_order_count, 1)
        # Its order figures and stage: the merged-away fan's row dropped, the
        # survivor's recomputed with the order it now has.
        self.env["live.fan.rfm"]._recompute_touched()
        self.assertEqual(self.env["live.fan.rfm"].search_count([("partner_id", "=", middleware_id)]), 0)
        self.assertEqual((survivor.fan_paid_order_count, survivor.fan_lifecycle_stage), (1, "first_order"))
        self.assertEqual(survivor.activity_ids.mapped("summary"), ["Call back about the scarf"])
        bodies = " ".join(survivor.message_ids.mapped("body"))
        self.assertIn("Asked for a bigger size", bodies)
        self.assertIn("Merged with", bodies)

    def test_a_rejected_pair_is_never_suggested_again(self):
        room_fan, middleware_fan = self._lookalikes()
        Suggestion = self.env["live.fan.merge.suggestion"]
        Suggestion._suggest_merges()
        suggestion = Suggestion.search([("partner_a_id", "=", room_fan.id), ("partner_b_id", "=", middleware_fan.id)])
        suggestion.with_user(self.service).action_reject()
        self.assertEqual(Suggestion._suggest_merges(), 0)
        self.assertEqual(suggestion.state, "rejected")
        self.assertEqual(Suggestion.search_count([("partner_b_id", "=", middleware_fan.id)]), 1)
        self.assertTrue(middleware_fan.exists())

    def test_hosts_cannot_accept_or_reject_suggestions(self):
        room_fan, middleware_fan = self._lookalikes()
        self.env["live.fan.merge.suggestion"]._suggest_merges()
        suggestion = self.env["live.fan.merge.suggestion"].search([("partner_b_id", "=", middleware_fan.id)])
        for action in ("action_accept", "action_reject"):
            with self.assertRaises(AccessError):
                getattr(suggestion.with_user(self.host), action)()
        self.assertEqual(suggestion.state, "pending")
        self.assertTrue(middleware_fan.exists())

    # -- split ---------------------------------------------------------------------
    def test_split_moves_identities_and_what_came_through_them_and_recounts(self):
        # The room streams in its own session here; the middleware in the shop's.
        self.room.session_channel_id = False
        self._receive(room=[self._room_event("comment", "sec-6", "union-6", content="room 1"),
                            self._room_event("like", "sec-6", "union-6", like_num=4)],
                      middleware=[self._middleware_event("comment", "mw-6", "union-6", content="mw 1"),
                                  self._middleware_event("comment", "mw-6", "union-6", content="mw 2")])
        fan = self._fan("sec-6")
        self.assertEqual(self._fan("mw-6"), fan)
        self.assertEqual((fan.fan_session_count, fan.fan_comment_count), (2, 3))
        room_identity = fan.live_identity_ids.filtered(lambda i: i.value == "sec-6")

        wizard = self.env["live.fan.split.wizard"].with_user(self.service).with_context(
            active_model="res.partner", active_id=fan.id).create({"identity_ids": [(6, 0, room_identity.ids)],
                                                                  "new_name": "Room viewer"})
        new_fan = self.env["res.partner"].browse(wizard.action_split()["res_id"])

        self.assertEqual(new_fan.live_identity_ids, room_identity)
        self.assertEqual(set(fan.live_identity_ids.mapped("value")), {"mw-6", "union-6"})
        self.assertEqual(new_fan.live_comment_ids.mapped("content"), ["room 1"])
        self.assertEqual(set(fan.live_comment_ids.mapped("content")), {"mw 1", "mw 2"})
        self.assertEqual((new_fan.fan_session_count, new_fan.fan_comment_count, new_fan.fan_like_count), (1, 1, 4))
        self.assertEqual((fan.fan_session_count, fan.fan_comment_count, fan.fan_like_count), (1, 2, 0))
        self.assertEqual(new_fan.company_id, fan.company_id)

        with self.assertRaises(AccessError):
            self.env["live.fan.split.wizard"].with_user(self.host).with_context(
                active_model="res.partner", active_id=fan.id).create({
                    "identity_ids": [(6, 0, fan.live_identity_ids[:1].ids)], "new_name": "x"}).action_split()

    # -- the simulator ---------------------------------------------------------------
    def test_the_simulated_room_makes_one_fan_per_viewer(self):
        """`make run SIMULATE=1`: the Douyin room and the middleware push the same
        viewers; each viewer is one fan (it was two, 喵喵-17 twice)."""
        import simulate  # scripts/, on PYTHONPATH under `make test`
        test, seen = self, set()

        class Recorder(simulate.Stream):
            """Pushes parsed by the server's adapter and stored in the inbox."""
            def push(self, body, **sign_kwargs):
                channel, creds = (test.room, test.room_creds) if self.creds.platform == "douyin_live" \
                    else (test.channel, test.creds)
                headers, query, data = self.adapter.sign(self.creds, json.dumps(body, ensure_ascii=False).encode(),
                                                         **sign_kwargs)
                request = InboundRequest("POST", {k.lower(): v for k, v in headers.items()}, query, data)
                test.Event._store(creds, get_adapter(channel.platform).parse(creds, request))
                # Room statistics (session.stats) come from no viewer.
                seen.update(str(message.get("sec_openid") or message["fan"]["id"])
                            for message in (body if isinstance(body, list) else body["events"])
                            if message.get("sec_openid") or message.get("fan"))

        room = simulate.Room(20, 7)
        streams = [Recorder({"code": code, "platform": platform, "app_secret": secret}, "http://odoo.invalid",
                            room, "room-orders", simulate.random.Random(7))
                   for code, platform, secret in (("room-data", "douyin_live", "r"), ("relay-orders", "generic", "s"))]
        for stream in streams:
            stream.sells = False
        for _tick in range(40):
            for stream in streams:
                stream.tick()
        self.process()
        fans = self.env["live.fan.identity"].search([("channel_id", "in", (self.room | self.channel).ids)]).partner_id
        self.assertGreater(len(seen), 5)
        self.assertEqual(len(fans), len(seen), "one fan per viewer")
        self.assertEqual(len(set(fans.mapped("name"))), len(fans), "no two fans with one nickname")
        self.assertFalse(self.env["live.event"].search([("error", "!=", False)]).mapped("error"))
