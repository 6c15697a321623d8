from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tests.common import freeze_time

from ..models.platforms.base import InboxEvent
from .common import LiveCommerceCase, generic_event

NOW = datetime(2026, 11, 20, 12, 0, 0)
T_NOW = int(NOW.replace(tzinfo=timezone.utc).timestamp())
DAY = 86400


class FanTagCase(LiveCommerceCase):
    """Company A's relay channel (generic pushes through the inbox and the
    processor) and the default rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_a
        cls.relay = cls.env["live.channel"].create({
            "name": "Relay A", "code": "relay-tags", "platform": "generic", "company_id": cls.company.id})
        cls.Runner = cls.env["live.fan.tag.runner"]
        ref = lambda xmlid: cls.env.ref("live_commerce_crm." + xmlid)  # noqa: E731
        cls.intent, cls.gifter, cls.watched = ref("rule_high_intent"), ref("rule_big_gifter"), ref("rule_watched_no_order")
        cls.repeat, cls.vip, cls.category = ref("rule_repeat_buyer"), ref("rule_vip"), ref("rule_category_preference")
        cls.service = cls.env["product.product"].create({"name": "Styling", "type": "service"})

    def push(self, *events):
        """Store the events in the inbox and process them, as the cron does."""
        Event = self.env["live.event"]
        creds = self.env["live.channel"]._webhook_credentials(self.relay.code)
        Event._store(creds, [InboxEvent.make(e["id"], e["type"], e, e["room_id"], e["occurred_at"]) for e in events])
        while Event._process_batch():
            pass
        self.env.invalidate_all()  # the processor writes in SQL

    def comment(self, event_id, fan_id, content, days_ago=0):
        return generic_event(event_id, "comment", fan_id, occurred_at=T_NOW - 60 - days_ago * DAY, content=content)

    def fan(self, fan_id):
        return self.env["live.fan.identity"].search([("channel_id", "=", self.relay.id), ("value", "=", fan_id)]).partner_id

    def nightly(self):
        """What the nightly cron does for company A: the figures, then the rules."""
        self.env["live.fan.rfm"]._recompute(self.company)
        self.Runner._apply(self.company)

    def tags(self, fan):
        return set(fan.category_id.mapped("name"))

    def reason(self, fan, rule):
        return fan.live_tag_reason_ids.filtered(lambda r: r.rule_id == rule)

    def order(self, fan, amount, days_ago, products=None):
        """A paid order: a live one of `amount`, or one confirmed in Odoo with a
        line per (product, amount) of `products`."""
        when = fields.Datetime.now() - timedelta(days=days_ago)
        SaleOrder = self.env["sale.order"].with_company(self.company)
        vals = {"partner_id": fan.id, "company_id": self.company.id, "user_id": False, "date_order": when}
        if not products:
            return SaleOrder.create(dict(vals, live_channel_id=self.channel_a.id, platform_paid_at=when,
                                         platform_paid_amount=amount))
        order = SaleOrder.create(dict(vals, order_line=[Command.create({
            "product_id": product.id, "product_uom_qty": 1, "price_unit": price, "tax_id": [Command.clear()]})
            for product, price in products]))
        order.action_confirm()
        order.date_order = when
        return order


@tagged("post_install", "-at_install")
class TestFanTagRules(FanTagCase):

    @freeze_time(NOW)
    def test_fan_tag_high_intent_from_weighted_keywords_after_a_batch(self):
        """想要 and 多少钱 weigh 3 each: two such comments in the week (score 6)
        reach the threshold of 5, one does not; English keywords count, whatever
        their case; older comments are outside the window."""
        other_company_rule = self.env["live.fan.tag.rule"].create({
            "name": "B's intent", "kind": "comment_keywords", "company_id": self.company_b.id, "threshold": 1,
            "tag_id": self.env["res.partner.category"].create({"name": "B intent"}).id,
            "keyword_ids": [Command.create({"keyword": "想要", "weight": 10})]})
        self.push(
            self.comment("c1", "f1", "想要这个"),
            generic_event("c2", "comment", "f1", occurred_at=T_NOW - 30, content="多少钱？"),
            self.comment("c3", "f2", "链接发一下"),
            self.comment("c4", "f3", "I WANT this"),
            self.comment("c5", "f3", "How much is it"),
            self.comment("c6", "f4", "想要", days_ago=10),
            self.comment("c7", "f4", "链接呢"),
            self.comment("c8", "f5", "好看"),
        )
        f1, f2, f3, f4, f5 = (self.fan(f"f{k}") for k in range(1, 6))
        self.assertEqual(self.tags(f1), {"High Intent"})
        reason = self.reason(f1, self.intent)
        latest = self.env["live.comment"].search([("partner_id", "=", f1.id)], limit=1)
        self.assertEqual(latest.content, "多少钱？")
        self.assertEqual((reason.tag_id.name, reason.value, reason.hits, reason.source_ref, reason.date),
                         ("High Intent", 6.0, 2, latest, NOW))
        self.assertEqual(reason.value_display, "Score 6 from 2 comment(s)")
        self.assertEqual(self.tags(f3), {"High Intent"}, "want (2) + how much (3)")
        self.assertEqual(self.reason(f3, self.intent).value, 5.0)
        for fan in (f2, f4, f5):
            self.assertFalse(fan.category_id, fan.name)
            self.assertFalse(fan.live_tag_reason_ids, fan.name)
        self.Runner._apply(self.company_b)  # company B's nightly run
        self.assertFalse(other_company_rule.reason_ids, "company B's rule never reads company A's fans")
        self.assertEqual(self.reason(f1, self.intent), reason, "company B's run leaves company A's fans alone")
        # 链接 now weighs 5: f2 and f4 reach the threshold; f4's old 想要 still does not count.
        self.intent.keyword_ids.filtered(lambda k: k.keyword == "链接").weight = 5
        self.nightly()
        self.assertEqual(self.tags(f2), {"High Intent"})
        self.assertEqual((self.reason(f4, self.intent).value, self.reason(f4, self.intent).hits), (5.0, 1))
        # A higher threshold takes the tag off the fans below it, with their reasons.
        self.intent.threshold = 6
        self.nightly()
        self.assertEqual(self.tags(f1), {"High Intent"})
        self.assertEqual(self.reason(f1, self.intent), reason, "an unchanged reason is kept as it was")
        for fan in (f2, f3, f4):
            self.assertFalse(fan.category_id, fan.name)
            self.assertFalse(fan.live_tag_reason_ids, fan.name)

    @freeze_time(NOW)
    def test_fan_tag_big_gifter_and_watched_never_bought(self):
        self.push(
            generic_event("g1", "gift", "g1", occurred_at=T_NOW - 300, gift_id="rocket", count=1, value=80000),
            generic_event("g2", "gift", "g1", occurred_at=T_NOW - 200, gift_id="rose", count=3, value=30000),
            generic_event("g3", "gift", "g2", occurred_at=T_NOW - 200, gift_id="rose", count=3, value=50000),
            generic_event("w1", "fan.left", "w1", occurred_at=T_NOW - 100, watch_seconds=2400),
            generic_event("w2", "fan.left", "w1", room_id="room-2", occurred_at=T_NOW - 90, watch_seconds=1800),
            generic_event("w3", "fan.left", "w2", occurred_at=T_NOW - 100, watch_seconds=7200),
        )
        g1, g2, w1, w2 = (self.fan(name) for name in ("g1", "g2", "w1", "w2"))
        room_1 = self.env["live.session"].search([("channel_id", "=", self.relay.id), ("room_id", "=", "room-1")])
        self.assertEqual(self.tags(g1), {"Big Gifter"})
        reason = self.reason(g1, self.gifter)
        self.assertEqual((reason.value, reason.hits, reason.source_ref, reason.date), (1100.0, 1, room_1, NOW))
        self.assertIn("1,100.00", reason.value_display)
        self.assertFalse(g2.category_id, "500 in gifts, below 1,000")
        self.assertEqual(self.tags(w1), {"Watched, Never Bought"})
        reason = self.reason(w1, self.watched)
        self.assertEqual((reason.value, reason.hits, reason.source_ref), (70.0, 2, room_1),
                         "70 minutes over two sessions, the longest first")
        self.assertFalse(w2.category_id, "two hours, but in one session")
        # w1 buys: no longer "never bought".
        self.order(w1, 99, 0)
        self.nightly()
        self.assertFalse(w1.category_id)
        self.assertFalse(w1.live_tag_reason_ids)
        self.assertEqual(self.tags(g1), {"Big Gifter"})
        # g1's gifts leave the 30-day window.
        with freeze_time(NOW + timedelta(days=31)):
            self.nightly()
        self.assertFalse(g1.category_id)
        self.assertFalse(g1.live_tag_reason_ids)

    @freeze_time(NOW)
    def test_fan_tag_repeat_buyer_and_vip_hand_set_tags_are_kept(self):
        repeat = self._make_fan(self.channel_a, "oid-repeat", "Repeat")
        big = self._make_fan(self.channel_a, "oid-big", "Big")
        keeper = self._make_fan(self.channel_a, "oid-keeper", "Keeper")
        vip_tag = self.vip.tag_id
        keeper.category_id = vip_tag  # by hand, before any rule
        self.order(repeat, 300, 10)
        last = self.order(repeat, 200, 2)
        first_big = self.order(big, 6000, 5)
        self.order(keeper, 100, 5)
        self.nightly()
        self.assertEqual(self.tags(repeat), {"Repeat Buyer"})
        reason = self.reason(repeat, self.repeat)
        self.assertEqual((reason.value, reason.source_ref, reason.date, reason.value_display),
                         (2.0, last, NOW, "2 paid orders"))
        self.assertEqual(self.tags(big), {"VIP"}, "6,000 paid, the company's VIP amount is 5,000")
        self.assertEqual((self.reason(big, self.vip).value, self.reason(big, self.vip).source_ref), (6000.0, first_big))
        self.assertEqual(self.tags(keeper), {"VIP"})
        self.assertFalse(keeper.live_tag_reason_ids, "a hand-set tag has no reason")
        # The keeper becomes VIP by the rule too, then falls below: the reason goes,
        # the tag set by hand stays.
        self.order(keeper, 5000, 1)
        self.nightly()
        self.assertTrue(self.reason(keeper, self.vip).tag_was_set)
        keeper.sale_order_ids.filtered(lambda o: o.platform_paid_amount == 5000).live_refunded_amount = 4000
        big.sale_order_ids.live_refunded_amount = 3000
        self.nightly()
        self.assertEqual(self.tags(keeper), {"VIP", "Repeat Buyer"})
        self.assertFalse(self.reason(keeper, self.vip))
        self.assertFalse(big.category_id, "3,000 paid after the refund: no longer VIP")
        self.assertFalse(big.live_tag_reason_ids)
        # A rule that does not remove its tag leaves it and its reason.
        self.repeat.remove_when_unmatched = False
        self.repeat.threshold = 3
        self.nightly()
        self.assertEqual(self.tags(repeat), {"Repeat Buyer"})
        self.assertTrue(self.reason(repeat, self.repeat))

    @freeze_time(NOW)
    def test_fan_tag_category_preference_per_category_and_configured(self):
        self.repeat.active = False  # these buyers' other tag
        Categ = self.env["product.category"]
        winter = Categ.create({"name": "Winter"})
        scarves = Categ.create({"name": "Scarves", "parent_id": winter.id})
        gloves = Categ.create({"name": "Gloves", "parent_id": winter.id})
        scarf, glove = (self.env["product.product"].create({"name": name, "type": "service", "categ_id": categ.id})
                        for name, categ in (("Silk scarf", scarves), ("Wool gloves", gloves)))
        fan = self._make_fan(self.channel_a, "oid-scarves", "Scarf lover")
        once = self._make_fan(self.channel_a, "oid-once", "Once")
        self.order(fan, 0, 20, [(scarf, 200)])
        latest = self.order(fan, 0, 3, [(scarf, 100), (glove, 50)])
        self.order(fan, 0, 8, [(glove, 50)])
        self.order(once, 0, 3, [(scarf, 500)])
        self.nightly()
        self.assertEqual(self.tags(fan), {"Scarves"}, "75% of the paid amount in scarves, over two orders")
        reason = self.reason(fan, self.category)
        self.assertEqual(reason.tag_id.parent_id, self.category.tag_id)
        self.assertEqual((reason.value, reason.hits, reason.source_ref), (75.0, 2, latest))
        self.assertFalse(once.category_id, "one order only")
        # A rule on a configured category counts its sub-categories.
        winter_tag = self.env["res.partner.category"].create({"name": "Winter Lover"})
        rule = self.env["live.fan.tag.rule"].create({
            "name": "Winter", "kind": "category_preference", "tag_id": winter_tag.id, "product_categ_id": winter.id,
            "threshold": 90, "window_days": 0})
        self.nightly()
        self.assertEqual(self.tags(fan), {"Scarves", "Winter Lover"})
        self.assertEqual(self.tags(once), {"Winter Lover"})
        self.assertEqual(self.reason(once, rule).value, 100.0)
        # The fan's preference moves to gloves: the Scarves tag goes, Gloves comes.
        self.order(fan, 0, 1, [(glove, 400)])
        self.order(fan, 0, 1, [(glove, 400)])
        self.nightly()
        self.assertEqual(self.tags(fan), {"Gloves", "Winter Lover"})

    @freeze_time(NOW)
    def test_fan_tag_nightly_cron_runs_the_rules_after_the_figures(self):
        """The nightly cron recomputes the figures, then applies the rules to every
        fan, also those no batch touched."""
        fan = self._make_fan(self.channel_a, "oid-nightly", "Nightly")
        self.order(fan, 100, 3)
        self.order(fan, 100, 2)
        self.assertFalse(fan.category_id)
        cron = self.env.ref("live_commerce_crm.ir_cron_recompute_fans")
        with patch.object(self.env.cr, "commit", lambda: None):
            cron.method_direct_trigger()
        self.env.invalidate_all()
        self.assertEqual(fan.fan_paid_order_count, 2)
        self.assertEqual(self.tags(fan), {"Repeat Buyer"})

    @freeze_time(NOW)
    def test_fan_tag_reasons_read_by_hosts_rules_written_by_managers(self):
        self.push(self.comment("h1", "h1", "想要"), self.comment("h2", "h1", "怎么买"))
        fan = self.fan("h1")
        host, manager = self.users["host"], self.users["manager"]
        self.assertEqual(fan.with_user(host).live_tag_reason_ids.mapped("rule_id.name"), ["High intent from comments"])
        self.assertTrue(self.intent.with_user(host).keyword_ids)
        with self.assertRaises(AccessError):
            self.intent.with_user(host).threshold = 1
        self.intent.with_user(manager).threshold = 7
        self.assertEqual(self.intent.threshold, 7)
