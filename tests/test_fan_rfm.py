import importlib.util
import os
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import Command, fields
from odoo.modules.module import get_module_path
from odoo.tests import tagged
from odoo.tests.common import freeze_time

from ..models.platforms import Credentials
from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase, generic_event
from .order_common import OrderCase

NOW = datetime(2026, 6, 30, 12, 0, 0)


class FanFiguresCase(LiveCommerceCase):
    """Fans of company A with paid orders (live, or confirmed in Odoo) placed some
    days before NOW."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_a
        cls.service = cls.env["product.product"].create({"name": "Styling session", "type": "service",
                                                         "list_price": 100.0})

    def fan(self, name, interacted_days_ago=None):
        fan = self._make_fan(self.channel_a, f"oid-{name}", name, fan_lifecycle_stage="passerby")
        if interacted_days_ago is not None:
            self.interact(fan, interacted_days_ago)
        return fan

    def interact(self, fan, days_ago):
        when = fields.Datetime.now() - timedelta(days=days_ago)
        stats = fan.live_fan_stats_ids
        if stats:
            stats.sudo().last_interaction_at = when
        else:
            self.env["live.fan.stats"].sudo().create({"partner_id": fan.id, "company_id": self.company.id,
                                                      "last_interaction_at": when, "comment_count": 1})

    def order(self, fan, amount, days_ago, live=True):
        when = fields.Datetime.now() - timedelta(days=days_ago)
        SaleOrder = self.env["sale.order"].with_company(self.company)
        vals = {"partner_id": fan.id, "company_id": self.company.id, "user_id": False, "date_order": when}
        if live:
            return SaleOrder.create(dict(vals, live_channel_id=self.channel_a.id, platform_paid_at=when,
                                         platform_paid_amount=amount))
        order = SaleOrder.create(dict(vals, order_line=[Command.create({
            "product_id": self.service.id, "product_uom_qty": 1, "price_unit": amount, "tax_id": [Command.clear()]})]))
        order.action_confirm()
        order.date_order = when
        return order

    def orders(self, fan, count, total, last_days_ago):
        """`count` orders worth `total` together, the last one `last_days_ago`."""
        for k in range(count):
            self.order(fan, total / count, last_days_ago + k)

    def recompute(self, fans=None):
        self.env["live.fan.rfm"]._recompute(self.company, fans.ids if fans is not None else None)

    def segments(self, fans):
        return {fan.name: fan.fan_rfm_segment for fan in fans}


@tagged("post_install", "-at_install")
class TestRfmSegments(FanFiguresCase):

    @freeze_time(NOW)
    def test_rfm_fixed_thresholds_below_enough_buyers(self):
        """Ten buyers, fewer than the 200 of quintile scoring: each of R, F and M is
        high or low against 60 days, 5 orders and 500 (the 8-cell grid)."""
        fans = {}
        for name, count, total, last in (
                ("champion", 5, 600, 3), ("loyal", 5, 100, 10), ("potential", 1, 800, 10), ("newcomer", 1, 50, 5),
                ("promising", 2, 60, 20), ("at risk", 6, 1000, 100), ("big spender gone", 1, 700, 120),
                ("attention", 5, 100, 150), ("hibernating", 1, 50, 200), ("lost", 1, 300, 400)):
            fans[name] = self.fan(name)
            self.orders(fans[name], count, total, last)
        fans["passer-by"] = self.fan("passer-by", interacted_days_ago=2)
        self.recompute()
        everyone = self.env["res.partner"].concat(*fans.values())
        self.assertEqual(self.segments(everyone), {
            "champion": "champions", "loyal": "loyal", "potential": "potential", "newcomer": "new",
            "promising": "promising", "at risk": "at_risk", "big spender gone": "at_risk",
            "attention": "needs_attention", "hibernating": "hibernating", "lost": "lost", "passer-by": False,
        })
        champion = fans["champion"]
        self.assertEqual((champion.fan_rfm_method, champion.fan_rfm_score), ("fixed", "555"))
        self.assertEqual(champion.fan_rfm_segment_date, NOW.date())
        self.assertEqual((champion.fan_rfm_recency_days, champion.fan_rfm_frequency, champion.fan_rfm_monetary),
                         (3, 5, 600.0))
        self.assertEqual(fans["lost"].fan_rfm_frequency, 0, "the order of 400 days ago is outside the window")
        # A different cut-off moves the fans it concerns, and only them.
        self.company.live_rfm_monetary_amount = 50
        self.recompute()
        self.assertEqual(fans["loyal"].fan_rfm_segment, "champions")
        self.assertEqual(fans["newcomer"].fan_rfm_segment, "potential")
        self.assertEqual(fans["attention"].fan_rfm_segment, "at_risk")
        self.assertEqual(fans["potential"].fan_rfm_segment, "potential")

    @freeze_time(NOW)
    def test_rfm_quintile_scores_with_enough_buyers(self):
        """Ten buyers, quintile scoring from five: R, F and M are ranked among the
        company's buyers; values shared by several buyers share a score."""
        self.company.live_rfm_quintile_min_buyers = 5
        expected = {}
        # name: (R days, F orders, M amount) -> (RFM score, segment)
        for name, (recency, frequency, monetary), score, segment in (
                ("b1", (1, 5, 500), "555", "champions"),
                ("b2", (1, 4, 500), "545", "champions"),
                ("b3", (10, 1, 100), "411", "new"),
                ("b4", (10, 2, 200), "422", "promising"),
                ("b5", (30, 3, 300), "333", "loyal"),
                ("b6", (30, 2, 100), "321", "needs_attention"),
                ("b7", (90, 4, 400), "244", "at_risk"),
                ("b8", (90, 3, 300), "233", "needs_attention"),
                ("b9", (200, 5, 400), "154", "at_risk"),
                ("b10", (200, 1, 200), "112", "hibernating")):
            fan = self.fan(name)
            self.orders(fan, frequency, monetary, recency)
            expected[fan] = (score, segment)
        self.recompute()
        for fan, (score, segment) in expected.items():
            self.assertEqual((fan.fan_rfm_method, fan.fan_rfm_score, fan.fan_rfm_segment),
                             ("quintile", score, segment), fan.name)
        # The same buyers below the quintile minimum: fixed thresholds again.
        self.company.live_rfm_quintile_min_buyers = 200
        self.recompute()
        b1 = next(fan for fan in expected if fan.name == "b1")
        self.assertEqual((b1.fan_rfm_method, b1.fan_rfm_score, b1.fan_rfm_segment), ("fixed", "555", "champions"))

    @freeze_time(NOW)
    def test_value_layer_by_contribution_thresholds(self):
        """High value: the best buyers who bring the first 60% of the window's paid
        amount; medium: up to 90%; low: the other buyers; nothing without orders."""
        fans = {}
        for name, amount in (("a", 600), ("b", 200), ("c", 100), ("d", 60), ("e", 40)):
            fans[name] = self.fan(name)
            self.order(fans[name], amount, 5)
        fans["f"] = self.fan("f", interacted_days_ago=1)
        self.order(fans["f"], 900, 500)  # outside the window: contributes nothing to it
        self.recompute()
        layers = lambda: {name: fan.fan_value_layer for name, fan in fans.items()}  # noqa: E731
        self.assertEqual(layers(), {"a": "high", "b": "medium", "c": "medium", "d": "low", "e": "low", "f": False})
        self.company.live_value_high_share = 70
        self.recompute()
        self.assertEqual(layers(), {"a": "high", "b": "high", "c": "medium", "d": "low", "e": "low", "f": False})
        # Refunds lower the contribution.
        fans["b"].sale_order_ids.live_refunded_amount = 180
        self.recompute()
        self.assertEqual(fans["b"].fan_rfm_monetary, 20.0)
        self.assertEqual(fans["b"].fan_value_layer, "low")

    @freeze_time(NOW)
    def test_order_figures_count_every_paid_order_with_the_live_share_apart(self):
        fan = self.fan("buyer", interacted_days_ago=1)
        self.order(fan, 300, 10)
        self.order(fan, 100, 4, live=False)
        unpaid = self.env["sale.order"].with_company(self.company).create({
            "partner_id": fan.id, "company_id": self.company.id, "user_id": False})  # a quotation: not counted
        self.assertEqual(unpaid.state, "draft")
        self.recompute(fan)
        self.assertEqual((fan.fan_paid_order_count, fan.fan_paid_amount, fan.fan_live_order_count,
                          fan.fan_live_paid_amount, fan.fan_average_order_value),
                         (2, 400.0, 1, 300.0, 200.0))
        self.assertAlmostEqual(fan.fan_live_share, 75.0)
        self.assertEqual(fan.fan_last_order_at, NOW - timedelta(days=4))
        self.assertEqual(fan.fan_lifecycle_stage, "repeat")


@tagged("post_install", "-at_install")
class TestLifecycle(FanFiguresCase):

    def test_lifecycle_transitions_over_time_with_their_dates(self):
        def day(text):
            return fields.Date.from_string(text)

        with freeze_time("2026-01-01 09:00:00"):
            fan = self.fan("Xiaolu", interacted_days_ago=0)
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("passerby", day("2026-01-01")))
        with freeze_time("2026-01-10 09:00:00"):
            self.order(fan, 100, 0)
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("first_order", day("2026-01-10")))
        with freeze_time("2026-01-20 09:00:00"):
            self.order(fan, 200, 0, live=False)
            self.recompute()
            self.assertEqual(fan.fan_lifecycle_stage, "repeat")
        with freeze_time("2026-01-25 09:00:00"):
            self.order(fan, 4700, 0)
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("vip", day("2026-01-25")),
                             "5,000 spent over all time")
        with freeze_time("2026-02-23 09:00:00"):
            self.recompute()
            self.assertEqual(fan.fan_lifecycle_stage, "vip", "29 days without interaction or order")
        with freeze_time("2026-02-24 09:00:00"):
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("dormant", day("2026-02-24")))
        with freeze_time("2026-05-01 09:00:00"):
            self.recompute()  # the nightly run came late: the date is when it churned
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("churned", day("2026-04-25")))
        with freeze_time("2026-05-02 09:00:00"):
            self.interact(fan, 0)
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date), ("vip", day("2026-05-02")))
            self.recompute()  # nothing moved: nothing logged
        log = fan.fan_lifecycle_log_ids.sorted(lambda entry: (entry.date, entry.id))
        self.assertEqual([(entry.date, entry.stage_from, entry.stage_to) for entry in log], [
            (day("2026-01-10"), "passerby", "first_order"),
            (day("2026-01-20"), "first_order", "repeat"),
            (day("2026-01-25"), "repeat", "vip"),
            (day("2026-02-24"), "vip", "dormant"),
            (day("2026-04-25"), "dormant", "churned"),
            (day("2026-05-02"), "churned", "vip"),
        ])

    def test_lifecycle_thresholds_are_the_company_settings(self):
        self.company.write({"live_vip_amount": 250, "live_dormant_days": 5, "live_churned_days": 10})
        with freeze_time(NOW):
            fan = self.fan("regular", interacted_days_ago=6)
            self.order(fan, 300, 7)
            self.recompute()
            self.assertEqual((fan.fan_lifecycle_stage, fan.fan_lifecycle_date),
                             ("dormant", (NOW - timedelta(days=1)).date()))
            self.interact(fan, 0)
            self.recompute()
            self.assertEqual(fan.fan_lifecycle_stage, "vip")


@tagged("post_install", "-at_install")
class TestRecomputeAfterBatch(OrderCase):

    @freeze_time("2026-11-19 12:00:00")
    def test_rfm_recomputed_after_a_processed_batch(self):
        """The processor recomputes the fans a batch touched, with no cron: the buyer
        of a paid order is a first-order buyer in a segment at once, and a comment
        later changes nothing but the last activity."""
        self.push(self.paid("RFM-1", buyer="rfm-buyer"))
        buyer = self.order("RFM-1").partner_id
        self.assertTrue(buyer.is_live_fan)
        self.assertEqual(buyer.fan_paid_order_count, 1)
        self.assertEqual((buyer.fan_lifecycle_stage, buyer.fan_rfm_segment, buyer.fan_value_layer),
                         ("first_order", "potential", "high"), "697.00 paid a day ago, one order")
        self.assertEqual(buyer.fan_lifecycle_log_ids.mapped("stage_to"), ["first_order"])
        self.push(self.event("comment", "RFM-1", buyer="rfm-buyer", content="还有吗", occurred_at=1795060000))
        self.assertEqual(buyer.fan_last_activity_at, datetime(2026, 11, 19, 3, 46, 40))
        self.assertEqual(len(buyer.fan_lifecycle_log_ids), 1)
        self.push(self.paid("RFM-2", buyer="rfm-buyer"))
        self.assertEqual((buyer.fan_paid_order_count, buyer.fan_lifecycle_stage), (2, "repeat"))


@tagged("post_install", "-at_install")
class TestRfmMigration(LiveCommerceCase):

    def test_migration_moves_segments_out_of_the_value_layer(self):
        fans = [self._make_fan(self.channel_a, f"oid-mig-{k}") for k in range(3)]
        self.env.flush_all()
        for fan, old in zip(fans, ("champions", "at_risk", "lost")):
            self.env.cr.execute("UPDATE res_partner SET fan_value_layer = %s, fan_rfm_segment = NULL WHERE id = %s",
                                [old, fan.id])
        path = os.path.join(get_module_path("live_commerce_crm"), "migrations", "18.0.1.2.0", "pre-migrate.py")
        spec = importlib.util.spec_from_file_location("lcc_pre_migrate_1_2", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.1.1.0")
        self.env.invalidate_all()
        self.assertEqual([(fan.fan_rfm_segment, fan.fan_value_layer) for fan in fans],
                         [("champions", "high"), ("at_risk", "medium"), ("lost", "low")])
        self.assertTrue(all(fan.fan_rfm_segment_date for fan in fans))


@tagged("post_install", "-at_install")
class TestFanQueue(FanFiguresCase):
    """The fans a processor call or an order touches are queued when their
    transaction commits and recomputed after it, not inside it."""

    def commit(self):
        """What a commit does to our hooks (tests cannot commit): flush, precommit."""
        self.env.cr.flush()

    def queued(self):
        self.env.cr.execute("SELECT partner_id FROM live_fan_rfm_queue WHERE company_id = %s ORDER BY 1",
                            [self.company.id])
        return [row[0] for row in self.env.cr.fetchall()]

    def drain(self):
        with patch.object(self.env.cr, "commit", self.commit):
            taken = self.env["live.fan.rfm"]._drain_queue()
        self.env.invalidate_all()
        return taken

    def drain_triggers(self):
        cron = self.env.ref("live_commerce_crm.ir_cron_drain_fan_queue")
        return self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

    @freeze_time(NOW)
    def test_processor_call_queues_its_fans_and_drains_them_after_its_batches(self):
        relay = self.env["live.channel"].create({"name": "Relay A", "code": "relay-rfm-a", "platform": "generic",
                                                 "app_secret": "s", "company_id": self.company.id})
        creds = Credentials(relay.id, relay.code, "generic", self.company.id, app_secret="s")
        Event = self.env["live.event"]
        at = NOW.replace(tzinfo=timezone.utc).timestamp()
        Event._store(creds, [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e.get("occurred_at")) for e in (
            generic_event("q1", "comment", "queued-fan", occurred_at=at - 60, content="hello"),)])
        self.assertEqual(Event._process_batch(defer_fans=True), 1)
        fan = self.env["live.fan.identity"].search([("value", "=", "queued-fan")]).partner_id
        self.assertFalse(fan.live_fan_rfm_ids, "not computed inside the batch")
        triggers = self.drain_triggers()
        self.commit()
        self.assertEqual(self.queued(), [fan.id])
        self.assertEqual(self.drain_triggers(), triggers, "the processor call drains its own queue")
        self.assertEqual(self.drain(), 1)
        self.assertEqual(self.queued(), [])
        self.assertEqual((fan.fan_lifecycle_stage, fan.live_fan_rfm_ids.order_count), ("passerby", 0))
        self.assertEqual(fan.fan_last_activity_at, NOW - timedelta(seconds=60))

    @freeze_time(NOW)
    def test_order_confirmed_by_hand_queues_its_buyer_and_wakes_the_queue_job(self):
        fan = self.fan("walk-in", interacted_days_ago=3)
        self.recompute()
        contact = self.env["res.partner"].create({"name": "walk-in, home", "parent_id": fan.id, "type": "delivery",
                                                  "company_id": self.company.id})
        triggers = self.drain_triggers()
        self.order(contact, 300, 1, live=False)
        self.commit()
        self.assertEqual(self.queued(), [fan.id, contact.id], "the buyer's contact and its fan")
        self.assertEqual(self.drain_triggers(), triggers + 1, "no processor call ends this work: the job is woken")
        self.assertEqual(fan.fan_lifecycle_stage, "passerby", "not before the queue is drained")
        self.drain()
        self.assertEqual((fan.fan_lifecycle_stage, fan.fan_paid_order_count, fan.fan_paid_amount),
                         ("first_order", 1, 300.0))

    @freeze_time(NOW)
    def test_events_rerun_by_hand_recompute_their_fans_at_once(self):
        fan = self.fan("direct", interacted_days_ago=3)
        self.env["live.fan.rfm"]._touch({self.company.id: {fan.id}})
        self.env["live.fan.rfm"]._recompute_touched()
        self.commit()
        self.assertEqual(self.queued(), [], "recomputed in the transaction: nothing left to queue")
        self.assertEqual(fan.live_fan_rfm_ids.order_count, 0)
