"""Every figure of metrics.md on a small session whose events go through the real
processor and whose orders are real sale orders. The expected values are worked out
by hand in the comments, not with the code's formulas."""
import importlib.util
import os
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged

from ..models.platforms import Credentials
from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase, generic_event

T0 = 1795000000  # 2026-11-18 11:06:40 UTC: the session starts
ROOM = "room-figures"


def utc(unix_seconds):
    return datetime.fromtimestamp(unix_seconds, timezone.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestSessionFigures(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Figures", "code": "figures", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, "figures", "generic", cls.channel.company_id.id, app_secret="s")
        cls.product = cls.env["product.product"].create({"name": "Scarf", "list_price": 10.0})
        cls.ads = cls.env["utm.medium"].create({"name": "Feed ads", "live_paid_traffic": True})

    def _push(self, *events):
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        self.env["live.event"]._store(self.creds, inbox)
        while self.env["live.event"]._process_batch():
            pass
        self.env.invalidate_all()

    def _event(self, event_id, event_type, fan, at, **data):
        return generic_event(event_id, event_type, fan, room_id=ROOM, occurred_at=T0 + at, **data)

    def _fan(self, fan_id):
        return self.env["live.fan.identity"].search([("value", "=", fan_id)]).partner_id

    def _order(self, partner, ref, amount, session=None, paid_at=None, medium=None):
        order = self.env["sale.order"].create({
            "partner_id": partner.id, "live_channel_id": self.channel.id,
            "live_session_id": session and session.id, "platform_order_ref": ref,
            "medium_id": medium and medium.id,
            "order_line": [(0, 0, {"product_id": self.product.id, "product_uom_qty": 1, "price_unit": amount,
                                   "tax_id": False})],
        })
        if paid_at:
            order.platform_paid_at = utc(paid_at)
        return order

    def _interactions(self):
        """Five fans in a ten-minute session (T0 .. T0+600), in two batches:
        f1 enters (+10), comments (+20), likes x5 (+30), shares (+150), leaves (+200, 190 s reported);
        f2 enters (+15), follows (+60), gifts 2 x 9.95 (+120), never leaves;
        f3 enters (+70), leaves (+100, 30 s), enters again (+130), never leaves;
        f4 comments (+80) without an entry;
        f5 enters (+90), leaves (+95) reporting 5000 s (more than the session lasts)."""
        self._push(
            self._event("s0", "session.started", None, 0),
            self._event("e1", "fan.entered", "f1", 10),
            self._event("e2", "fan.entered", "f2", 15),
            self._event("c1", "comment", "f1", 20, content="hi"),
            self._event("l1", "like", "f1", 30, count=5),
            self._event("w2", "follow", "f2", 60),
            self._event("e3", "fan.entered", "f3", 70),
        )
        self._push(
            self._event("c4", "comment", "f4", 80, content="price?"),
            self._event("e5", "fan.entered", "f5", 90),
            self._event("x5", "fan.left", "f5", 95, watch_seconds=5000),
            self._event("x3", "fan.left", "f3", 100, watch_seconds=30),
            self._event("g2", "gift", "f2", 120, count=2, value=1990),
            self._event("e3b", "fan.entered", "f3", 130),
            self._event("s1", "share", "f1", 150),
            self._event("x1", "fan.left", "f1", 200, watch_seconds=190),
        )
        return self.env["live.session"].search([("channel_id", "=", self.channel.id), ("room_id", "=", ROOM)])

    def test_figures_while_live_count_who_is_in_the_room_and_their_time_so_far(self):
        session = self._interactions()
        self.assertEqual((session.state, session.date_start), ("live", utc(T0)))
        live = session.with_context(live_figures_now=utc(T0 + 300))
        # In the room at +300: f2 (no leave) and f3 (entered again at +130). f1, f5 left; f4 never entered.
        self.assertEqual(live.online_count, 2)
        # Watch time at +300, each capped at the 300 s the session has lasted:
        # f1 190 + f2 (300-15=285) + f3 (30 + 300-130=200) + f4 0 + f5 min(5000, 300)=300 = 975.
        self.assertEqual(live.watch_seconds_total, 975)
        lines = {line.partner_id: line for line in live.audience_ids}
        self.assertEqual(lines[self._fan("f2")].watch_time_now, 285)
        self.assertTrue(lines[self._fan("f2")].is_present)
        self.assertEqual(lines[self._fan("f3")].watch_time_now, 200)
        self.assertEqual(lines[self._fan("f1")].watch_time_now, 190)
        self.assertFalse(lines[self._fan("f1")].is_present)
        self.assertTrue(live.figures_updated_at)

    def test_figures_match_hand_computed_values_for_every_metric(self):
        session = self._interactions()
        self._push(self._event("s9", "session.ended", None, 600))
        session.ad_spend = 200.0
        f1, f2, f3, f4 = (self._fan(fan_id) for fan_id in ("f1", "f2", "f3", "f4"))
        earlier = self.env["live.session"].create({"name": "Earlier", "channel_id": self.channel.id,
                                                   "date_scheduled_start": utc(T0 - 86400)})
        self._order(f3, "O0", 60.0, session=earlier, paid_at=T0 - 86400)  # f3 bought before: returning
        o1 = self._order(f1, "O1", 100.0, session=session, paid_at=T0 + 100, medium=self.ads)
        self._order(f2, "O2", 200.0, session=session, paid_at=T0 + 200, medium=self.ads)
        self._order(f2, "O3", 50.0, session=session, paid_at=T0 + 250)
        self._order(f3, "O5", 120.0, session=session, paid_at=T0 + 300)
        self._order(f4, "O4", 80.0, session=session)  # created, never paid
        self.env["live.order.refund"].create({"order_id": o1.id, "refund_ref": "R1", "amount": 30.0,
                                              "state": "succeeded"})
        self.env.invalidate_all()
        session = session.with_context(live_figures_now=utc(T0 + 3600))  # long after the end
        # Entries: f1, f2, f3, f3 again, f5 = 5 visits; fans seen: f1..f5 = 5 people.
        self.assertEqual((session.pv, session.uv, session.entry_count), (5, 5, 5))
        # Entries less leaves: 11:06 +2 = 2, 11:07 +1 = 3, 11:08 +2-2 = 3, 11:09 = 3, 11:10 -1 = 2,
        # then 2 until the end minute 11:16. Peak 3; average over 11:06..11:16 (11 minutes):
        # (2 + 3 + 3 + 3 + 7 x 2) / 11 = 25 / 11 = 2.2727...
        self.assertEqual(session.pcu, 3)
        self.assertAlmostEqual(session.acu, 25 / 11, places=3)
        self.assertEqual(session.online_count, 0)  # ended
        # Capped at the 600 s session: f1 190 + f2 585 + f3 (30 + 470) + f4 0 + f5 600 = 1875; / 5 UV = 375.
        self.assertEqual(session.watch_seconds_total, 1875)
        self.assertAlmostEqual(session.avg_watch_seconds, 375.0)
        # Interacting: f1 (comment, like, share), f2 (follow, gift), f4 (comment) = 3; / 5 UV = 60 %.
        self.assertEqual(session.interacting_count, 3)
        self.assertAlmostEqual(session.interaction_rate, 0.6)
        # One follow / 5 UV = 20 %.
        self.assertEqual(session.new_follower_count, 1)
        self.assertAlmostEqual(session.new_fan_rate, 0.2)
        self.assertEqual((session.comment_total, session.like_total, session.share_total), (2, 5, 1))
        self.assertAlmostEqual(session.gift_value_total, 19.90)
        # Paid: O1 100 + O2 200 + O3 50 + O5 120 = 470 in 4 orders by 3 buyers (f1, f2, f3).
        self.assertEqual((session.order_count, session.buyer_count), (4, 3))
        self.assertAlmostEqual(session.gmv, 470.0)
        self.assertAlmostEqual(session.refund_amount, 30.0)
        self.assertAlmostEqual(session.net_gmv, 440.0)
        # f1 and f2 buy for the first time; f3 paid O0 the day before.
        self.assertEqual((session.new_buyer_count, session.returning_buyer_count), (2, 1))
        self.assertAlmostEqual(session.conversion_people, 0.6)   # 3 buyers / 5 UV
        self.assertAlmostEqual(session.conversion_visits, 0.8)   # 4 orders / 5 PV
        self.assertAlmostEqual(session.gpm, 94000.0)             # 470 x 1000 / 5 PV
        self.assertAlmostEqual(session.uv_value, 94.0)           # 470 / 5 UV
        self.assertAlmostEqual(session.aov, 117.5)               # 470 / 4 orders
        self.assertAlmostEqual(session.roi, 2.35)                # 470 / 200 ad spend
        self.assertAlmostEqual(session.ad_gmv, 300.0)            # O1 + O2 came through the paid medium
        self.assertAlmostEqual(session.ad_roi, 1.5)              # 300 / 200
        self.assertEqual(session.refund_order_count, 1)
        self.assertAlmostEqual(session.refund_rate, 30 / 470)    # 0.0638...
        self.assertAlmostEqual(session.refund_order_rate, 0.25)  # 1 / 4 orders
        # Funnel (people): 5 viewers -> 3 interacting (60 %) -> 4 ordered (f1, f2, f3, f4: 133 %, f3 ordered
        # without interacting) -> 3 paid (75 %).
        self.assertEqual(session.ordering_count, 4)
        self.assertAlmostEqual(session.funnel_interacting_ratio, 0.6)
        self.assertAlmostEqual(session.funnel_ordering_ratio, 4 / 3)
        self.assertAlmostEqual(session.funnel_paid_ratio, 0.75)

        # The platform's statistics win for PV, UV and PCU; the per-viewer figures follow.
        self._push(self._event("st", "session.stats", None, 590, pv=40, uv=20, pcu=9, likes=300))
        session = session.with_context(live_figures_now=utc(T0 + 3600))
        self.assertEqual((session.pv, session.uv, session.pcu), (40, 20, 9))
        self.assertAlmostEqual(session.conversion_people, 0.15)  # 3 / 20
        self.assertAlmostEqual(session.conversion_visits, 0.1)   # 4 / 40
        self.assertAlmostEqual(session.gpm, 11750.0)             # 470 x 1000 / 40
        self.assertAlmostEqual(session.uv_value, 23.5)           # 470 / 20
        self.assertAlmostEqual(session.avg_watch_seconds, 93.75)  # 1875 / 20
        self.assertAlmostEqual(session.interaction_rate, 0.15)   # 3 / 20
        self.assertAlmostEqual(session.new_fan_rate, 0.05)       # 1 / 20

        # The board reads the same aggregates: its row says the same, and adds up by channel.
        self.env.flush_all()
        board = self.env["live.session.board"].search([("session_id", "=", session.id)])
        self.assertEqual(
            (board.pv, board.uv, board.interacting_count, board.new_follower_count, board.watch_seconds,
             board.buyer_count, board.order_count), (40, 20, 3, 1, 1875, 3, 4))
        self.assertEqual((board.gmv, board.refund_amount, board.net_gmv, board.ad_spend), (470, 30, 440, 200))
        self.assertAlmostEqual(board.conversion_people, 0.15)
        self.assertAlmostEqual(board.roi, 2.35)
        self.assertAlmostEqual(board.gpm, 11750.0)
        [(channel, gmv, orders)] = self.env["live.session.board"]._read_group(
            [("channel_id", "=", self.channel.id)], ["channel_id"], ["gmv:sum", "order_count:sum"])
        self.assertEqual((gmv, orders), (530, 5))  # this session's 470 in 4 orders + the earlier one's O0 (60)

    def test_minute_rows_are_upserted_once_per_batch_and_minute(self):
        Processor = type(self.env["live.event.processor"])
        upsert = Processor._upsert_counters
        with patch.object(Processor, "_upsert_counters", autospec=True, side_effect=upsert) as spy:
            session = self._interactions()
        tables = [call.args[1] for call in spy.call_args_list]
        # Two batches, each spanning several minutes: one statement each.
        self.assertEqual(tables.count("live_session_minute"), 2)
        minutes = self.env["live.session.minute"].search([("session_id", "=", session.id)])
        # 11:06 (f1, f2 enter), 11:07 (comment, like, follow, f3 enters), 11:08 (f4, f5, f3 leave, gift,
        # f3 again), 11:09 (share), 11:10 (f1 leaves): one row each, whatever the batches.
        self.assertEqual([m.minute.strftime("%H:%M") for m in minutes], ["11:06", "11:07", "11:08", "11:09", "11:10"])
        by_minute = {m.minute.strftime("%H:%M"): m for m in minutes}
        # 11:08 spans both batches' fans: f4 and f5 are new viewers there (f3 was new at 11:07).
        self.assertEqual((by_minute["11:08"].enter_count, by_minute["11:08"].leave_count,
                          by_minute["11:08"].new_viewer_count, by_minute["11:08"].watch_seconds), (2, 2, 2, 5030))
        self.assertEqual(sum(minutes.mapped("new_viewer_count")), 5)
        self.assertEqual(sum(minutes.mapped("new_interacting_count")), 3)
        # A fan who interacts again is not counted twice.
        self._push(self._event("c1b", "comment", "f1", 400, content="again"))
        self.assertEqual(sum(minutes.mapped("new_interacting_count")), 3)
        self.assertEqual(sum(minutes.search([("session_id", "=", session.id)]).mapped("comment_count")), 3)

    def test_audience_list_has_no_page_totals_and_the_form_shows_the_session_totals(self):
        """A paged list totals its page only: watch seconds 'dropped' between two reloads."""
        arch = self.env.ref("live_commerce_crm.live_session_fan_view_list").arch
        self.assertNotIn("sum=", arch)
        form = self.env["live.session"].get_view(view_type="form")["arch"]
        for name in ("watch_seconds_total", "comment_total", "like_total", "entry_count", "figures_updated_at"):
            self.assertIn(f'name="{name}"', form)

    def test_figures_of_sessions_applied_before_the_minute_rows_are_backfilled(self):
        session = self._interactions()
        self._push(self._event("s9", "session.ended", None, 600))
        self.env.cr.execute("DELETE FROM live_session_minute WHERE session_id = %s", [session.id])
        migration = _load_migration("18.0.1.3.0", "post-migrate.py")
        migration.migrate(self.env.cr, "18.0.1.2.0")
        self.env.invalidate_all()
        session = session.with_context(live_figures_now=utc(T0 + 3600))
        # The same totals as when the processor kept them (5 entries, 5 viewers, 3 interacting,
        # 1875 s, 1 follow); the concurrency is unknown: 0.
        self.assertEqual((session.pv, session.uv, session.interacting_count, session.watch_seconds_total,
                          session.new_follower_count, session.comment_total, session.pcu), (5, 5, 3, 1875, 1, 2, 0))


def _load_migration(version, name):
    path = os.path.join(get_module_path("live_commerce_crm"), "migrations", version, name)
    spec = importlib.util.spec_from_file_location(f"live_commerce_crm_migration_{name[:-3]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestChannelHealthFigures(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel = cls.env["live.channel"].create({
            "name": "Health", "code": "health", "platform": "generic", "app_secret": "s"})
        cls.creds = Credentials(cls.channel.id, "health", "generic", cls.channel.company_id.id, app_secret="s")

    def _receive(self, *ids):
        events = [generic_event(event_id, "comment", "h1", room_id="room-h", content="x") for event_id in ids]
        inbox = [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in events]
        self.env["live.event"]._store(self.creds, inbox)

    def test_health_figures_read_the_inbox_by_time_and_pending_rows(self):
        empty = self.channel
        self.assertEqual((empty.health_last_push_at, empty.health_pending_count, empty.health_lag_seconds),
                         (False, 0, 0))
        self._receive("a", "b", "c")
        while self.env["live.event"]._process_batch():
            pass
        self._receive("d", "e")  # left pending
        # One transaction, one now(): d is made 3 minutes older than the others.
        self.env.cr.execute("""UPDATE live_event SET received_at = received_at - interval '3 minutes'
                                WHERE channel_id = %s AND message_id = 'd'""", [self.channel.id])
        self.env.invalidate_all()
        received = max(self.env["live.event"].search([("channel_id", "=", self.channel.id)]).mapped("received_at"))
        later = self.channel.with_context(live_figures_now=received + timedelta(minutes=10))
        self.assertEqual(later.health_last_push_at, received)
        self.assertEqual(later.health_events_5m, 0.0)                 # nothing in the last 5 minutes
        self.assertAlmostEqual(later.health_events_15m, 5 / 15)       # 5 events within 15 minutes
        self.assertEqual(later.health_pending_count, 2)
        self.assertEqual(later.health_lag_seconds, 780)               # the oldest pending, d, is 13 minutes old
        soon = self.channel.with_context(live_figures_now=received + timedelta(minutes=1))
        self.assertAlmostEqual(soon.health_events_5m, 1.0)            # 5 events / 5 minutes
        self.assertEqual(soon.health_lag_seconds, 240)


@tagged("post_install", "-at_install")
class TestBoardAccess(LiveCommerceCase):

    def test_board_minutes_and_export_are_for_their_company_and_roles(self):
        session_a = self._make_session(self.channel_a, name="Shop A night")
        session_b = self._make_session(self.channel_b, name="Shop B night")
        self.env["live.session.minute"].create([
            {"session_id": session.id, "company_id": session.company_id.id, "minute": "2026-11-20 12:00:00",
             "enter_count": 3, "new_viewer_count": 3} for session in (session_a, session_b)])
        self.env.flush_all()
        for role in ("host", "field_controller", "manager", "user"):
            user = self.users[role]
            board = self.env["live.session.board"].with_user(user).search([])
            self.assertIn(session_a, board.session_id, role)
            self.assertNotIn(session_b, board.session_id, role)     # the other company's
            minutes = self.env["live.session.minute"].with_user(user).search([])
            self.assertEqual(minutes.session_id & (session_a | session_b), session_a, role)
            self.assertEqual(session_a.with_user(user).uv, 3, role)
        for role in ("host", "field_controller", "manager"):
            self.env["live.session.export.wizard"].with_user(self.users[role]).create({"session_ids": session_a.ids})
        with self.assertRaises(AccessError):
            self.env["live.session.export.wizard"].with_user(self.users["service"]).create(
                {"session_ids": session_a.ids})
