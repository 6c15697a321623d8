from datetime import timedelta

from dateutil.relativedelta import relativedelta
from lxml import etree, html

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tests.common import freeze_time
from odoo.tools.safe_eval import datetime as safe_datetime, safe_eval

from .test_fan_rfm import NOW, FanFiguresCase


@tagged("post_install", "-at_install")
class TestFanProfile(FanFiguresCase):
    """The 360° profile on a known data set: a fan with a live order (partly refunded)
    and an order confirmed in Odoo, lines in two product categories, and two
    sessions attended."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Category = cls.env["product.category"]
        cls.clothing = Category.create({"name": "Clothing"})
        cls.tea = Category.create({"name": "Tea"})
        Product = cls.env["product.product"]
        cls.scarf = Product.create({"name": "Scarf", "categ_id": cls.clothing.id, "list_price": 200.0,
                                    "taxes_id": [Command.clear()]})
        cls.green_tea = Product.create({"name": "Green tea", "categ_id": cls.tea.id, "list_price": 50.0,
                                        "taxes_id": [Command.clear()]})
        cls.host = cls.users["host"]
        cls.session_old = cls._make_session(cls.channel_a, "Spring show", host_id=cls.host.id)
        cls.session_new = cls._make_session(cls.channel_a, "Summer show")

    def line(self, product, quantity):
        return Command.create({"product_id": product.id, "product_uom_qty": quantity, "price_unit": product.list_price,
                               "tax_id": [Command.clear()]})

    def sale(self, fan, lines, days_ago, live):
        when = NOW - timedelta(days=days_ago)
        SaleOrder = self.env["sale.order"].with_company(self.company)
        vals = {"partner_id": fan.id, "company_id": self.company.id, "user_id": False, "date_order": when,
                "order_line": lines}
        if live:
            order = SaleOrder.create(dict(vals, live_channel_id=self.channel_a.id, platform_paid_at=when))
            order.platform_paid_amount = order.amount_total
            return order
        order = SaleOrder.create(vals)
        order.action_confirm()
        order.date_order = when
        return order

    def attend(self, fan, session, days_ago, **counters):
        when = NOW - timedelta(days=days_ago)
        return self.env["live.session.fan"].sudo().create({
            "session_id": session.id, "partner_id": fan.id, "company_id": self.company.id,
            "first_seen_at": when, "last_seen_at": when + timedelta(minutes=30), **counters})

    def buyer(self):
        """Live order: 2 scarves (400.00), 100.00 refunded, 10 days ago; in Odoo: 3
        teas (150.00), 4 days ago; a quotation of a scarf, not paid, not counted."""
        fan = self.fan("buyer", interacted_days_ago=1)
        self.live_order = self.sale(fan, [self.line(self.scarf, 2)], 10, live=True)
        self.live_order.live_refunded_amount = 100.0
        self.odoo_order = self.sale(fan, [self.line(self.green_tea, 3)], 4, live=False)
        self.quotation = self.env["sale.order"].with_company(self.company).create({
            "partner_id": fan.id, "company_id": self.company.id, "user_id": False,
            "date_order": NOW - timedelta(days=1), "order_line": [self.line(self.scarf, 5)]})
        self.attend(fan, self.session_old, 20, watch_seconds=600, comment_count=3, like_count=0, gift_count=1,
                    gift_value=9.9)
        self.attend(fan, self.session_new, 7, watch_seconds=3725, comment_count=1, like_count=5)
        return fan

    @freeze_time(NOW)
    def test_fan_profile_figures_live_share_apart_and_favourite_categories(self):
        fan = self.buyer()
        self.recompute(fan)
        self.assertEqual((fan.fan_paid_order_count, fan.fan_paid_amount, fan.fan_refunded_amount),
                         (2, 450.0, 100.0), "every paid order, live or not, net of refunds; not the quotation")
        self.assertEqual((fan.fan_live_order_count, fan.fan_live_paid_amount), (1, 300.0))
        self.assertAlmostEqual(fan.fan_live_share, 100.0 * 300 / 450)
        self.assertEqual(fan.fan_average_order_value, 275.0, "GMV 550.00 over 2 orders")
        self.assertAlmostEqual(fan.fan_refund_rate, 100.0 * 100 / 550)
        self.assertEqual((fan.fan_first_order_at, fan.fan_last_order_at),
                         (NOW - timedelta(days=10), NOW - timedelta(days=4)))
        self.assertEqual(fan.fan_first_interaction_at, NOW - timedelta(days=20))
        self.assertEqual([(c.rank, c.category_id, c.amount, c.order_count) for c in fan.fan_favourite_category_ids],
                         [(1, self.clothing, 400.0, 1), (2, self.tea, 150.0, 1)],
                         "by paid amount, the refund-free lines; the quotation's scarves not counted")
        # A new paid order of tea after a processed batch (or at night) reorders them.
        self.sale(fan, [self.line(self.green_tea, 6)], 1, live=False)
        self.recompute(fan)
        self.assertEqual(fan.fan_favourite_category_ids.mapped("category_id"), self.tea + self.clothing)
        self.assertEqual(fan.fan_favourite_category_ids[0].amount, 450.0)

    @freeze_time(NOW)
    def test_favourite_categories_of_other_fans_are_left_alone(self):
        fan = self.buyer()
        other = self.fan("other")
        self.sale(other, [self.line(self.green_tea, 1)], 2, live=False)
        self.recompute()
        self.assertEqual(other.fan_favourite_category_ids.category_id, self.tea)
        self.recompute(fan)  # after a batch that touched only `fan`
        self.assertEqual(other.fan_favourite_category_ids.category_id, self.tea)
        self.assertEqual(len(fan.fan_favourite_category_ids), 2)

    @freeze_time(NOW)
    def test_fan_profile_timeline_sessions_and_orders_newest_first(self):
        fan = self.buyer()
        rows = html.fromstring(fan.fan_timeline_html).xpath("//tbody/tr")
        texts = [" ".join(row.text_content().split()) for row in rows]
        # Newest first: the quotation (1 day), the order in Odoo (4), the Summer show
        # (7), the live order (10), the Spring show (20).
        names = [self.quotation.name, self.odoo_order.name, "Summer show", self.live_order.name, "Spring show"]
        self.assertEqual(len(texts), 5, texts)
        for text, name in zip(texts, names):
            self.assertIn(name, text)
        # Each session with what the fan did there, and nothing of the other.
        self.assertIn("Watched 1:02:05", texts[2])
        self.assertIn("1 comments", texts[2])
        self.assertIn("5 likes", texts[2])
        self.assertIn("Watched 0:10:00", texts[4])
        self.assertIn("3 comments", texts[4])
        self.assertIn("1 gifts", texts[4])
        self.assertIn("400.00", texts[3])
        self.assertEqual(rows[0].get("class"), "o_live_fan_timeline_order")
        self.assertEqual(rows[2].get("class"), "o_live_fan_timeline_session")

    @freeze_time(NOW)
    def test_fan_profile_timeline_is_bounded_with_the_rest_behind_buttons(self):
        from ..models import res_partner_profile
        fan = self.buyer()
        self.patch(res_partner_profile, "TIMELINE_LIMIT", 1)
        timeline = fan.fan_timeline_html
        self.assertEqual(len(html.fromstring(timeline).xpath("//tbody/tr")), 2, "the last session and order")
        self.assertIn("Older: 1 session(s) and 2 order(s)", " ".join(html.fromstring(timeline).text_content().split()))
        self.assertEqual(self.env["live.session.fan"].search(fan.action_view_fan_sessions()["domain"]),
                         fan.live_audience_ids)
        self.assertEqual(self.env["sale.order"].search(fan.action_view_fan_orders()["domain"]),
                         self.live_order + self.odoo_order + self.quotation)

    def test_fan_profile_timeline_for_a_host(self):
        """Hosts read fans: the timeline renders for them too."""
        fan = self.buyer()
        self.assertIn("Summer show", fan.with_user(self.host).fan_timeline_html)


@tagged("post_install", "-at_install")
class TestFanFilters(FanFiguresCase):
    """The fans' search filters, as the search view defines them, find the right fans."""

    def filter_domain(self, name):
        arch = self.env["res.partner"].get_views([(self.env.ref("base.view_res_partner_filter").id, "search")])
        node = etree.fromstring(arch["views"]["search"]["arch"]).find(f".//filter[@name='{name}']")
        self.assertIsNotNone(node, name)
        return safe_eval(node.get("domain"), {
            "context_today": lambda: fields.Date.context_today(self.env.user), "relativedelta": relativedelta,
            "datetime": safe_datetime, "uid": self.env.uid})

    def found(self, domain, fans):
        return self.env["res.partner"].search([("id", "in", [fan.id for fan in fans]), *domain])

    def rfm(self, fan, **vals):
        self.env["live.fan.rfm"].sudo().create({"partner_id": fan.id, "company_id": self.company.id, **vals})

    def stats(self, fan, **vals):
        self.env["live.fan.stats"].sudo().create({"partner_id": fan.id, "company_id": self.company.id, **vals})

    def test_fan_filters_segments_intent_watchers_and_dormant(self):
        champion, at_risk, keen, watcher, buyer, dormant, new = (
            self.fan(name) for name in ("champion", "at risk", "keen", "watcher", "buyer", "dormant", "new"))
        champion.fan_rfm_segment = "champions"
        at_risk.fan_rfm_segment = "at_risk"
        # The comment-keyword rule's tag, whatever it is called (here set by hand);
        # another tag that reads alike is not it.
        keen.category_id = self.env.ref("live_commerce_crm.rule_high_intent").tag_id
        at_risk.category_id = self.env["res.partner.category"].create({"name": "High Intent (old list)"})
        # Watched and never bought: with no order figures yet, or with none paid.
        self.stats(watcher, session_count=2, watch_seconds=300)
        self.stats(keen, session_count=1)
        self.rfm(keen, order_count=0)
        self.stats(buyer, session_count=3)
        self.rfm(buyer, order_count=1, last_activity_at=fields.Datetime.now())
        self.rfm(dormant, order_count=1, last_activity_at=fields.Datetime.now() - timedelta(days=31))
        self.rfm(new, last_activity_at=fields.Datetime.now() - timedelta(days=29))
        fans = [champion, at_risk, keen, watcher, buyer, dormant, new]
        self.assertEqual(self.found(self.filter_domain("fan_champions"), fans), champion)
        self.assertEqual(self.found(self.filter_domain("fan_at_risk"), fans), at_risk)
        self.assertEqual(self.found(self.filter_domain("fan_high_intent"), fans), keen)
        self.assertEqual(self.found(self.filter_domain("fan_watched_never_bought"), fans), watcher + keen)
        self.assertEqual(self.found(self.filter_domain("fan_dormant_30"), fans), dormant)

    def test_fan_filters_by_channel_and_by_host(self):
        other_channel = self.env["live.channel"].create({
            "name": "Kuaishou A", "code": "kuaishou-a", "platform": "kuaishou_shop", "company_id": self.company.id})
        douyin_fan = self.fan("douyin fan")
        kuaishou_fan = self._make_fan(other_channel, "oid-kuaishou", "kuaishou fan")
        host = self.users["host"]
        hosted = self._make_session(self.channel_a, "Hosted show", host_id=host.id)
        unhosted = self._make_session(self.channel_a, "Other show")
        for fan, session in ((douyin_fan, hosted), (kuaishou_fan, unhosted)):
            self.env["live.session.fan"].sudo().create({"session_id": session.id, "partner_id": fan.id,
                                                        "company_id": self.company.id})
        fans = [douyin_fan, kuaishou_fan]
        self.assertEqual(self.found([("fan_channel_ids", "=", other_channel.id)], fans), kuaishou_fan)
        self.assertEqual(self.found([("fan_channel_ids", "ilike", "Douyin")], fans), douyin_fan)
        self.assertEqual(self.found([("fan_host_ids", "=", host.id)], fans), douyin_fan)
        self.assertEqual(douyin_fan.fan_channel_ids, self.channel_a)
        self.assertEqual(douyin_fan.fan_host_ids, host)

    def test_fan_kanban_shows_every_segment(self):
        """Grouped by segment, the fans' kanban has a column per segment, empty ones too."""
        self.fan("champion").fan_rfm_segment = "champions"
        groups = self.env["res.partner"].web_read_group(
            [("is_live_fan", "=", True), ("company_id", "=", self.company.id)], ["fan_rfm_segment"],
            ["fan_rfm_segment"])["groups"]
        segments = [group["fan_rfm_segment"] for group in groups if group["fan_rfm_segment"]]
        self.assertEqual(len(segments), len(self.env["res.partner"]._fields["fan_rfm_segment"].selection))


@tagged("post_install", "-at_install")
class TestFanNaming(FanFiguresCase):

    def test_fan_profile_segment_and_failed_events_cannot_be_confused(self):
        """The RFM segment of customers needing attention and the webhooks' failed
        events share no name, in English or in Chinese."""
        root = self.env.ref("live_commerce_crm.menu_live_root")
        for lang in ("en_US", "zh_CN"):
            env = self.env(context=dict(self.env.context, lang=lang))
            segment = dict(env["res.partner"]._fields["fan_rfm_segment"]._description_selection(env))["needs_attention"]
            failed = env.ref("live_commerce_crm.menu_live_inbox_failed").name
            menus = env["ir.ui.menu"].search([("id", "child_of", root.id)]).mapped("name")
            self.assertNotIn(segment, menus, lang)
            self.assertNotEqual(failed, segment, lang)
            event_states = dict(env["live.event"]._fields["state"]._description_selection(env))
            self.assertNotIn(segment, event_states.values(), lang)
            self.assertNotEqual(env["sale.order"]._fields["live_attention"]._description_string(env), segment, lang)
        zh = self.env(context=dict(self.env.context, lang="zh_CN"))
        self.assertEqual(zh.ref("live_commerce_crm.menu_live_inbox_failed").name, "处理失败的事件")
        self.assertNotIn("关注", zh.ref("live_commerce_crm.menu_live_inbox_failed").name)
        self.assertNotIn("关注", zh["sale.order"]._fields["live_attention"]._description_string(zh),
                         "an order to fix is 待处理, as its menu; 关注 is the segment's")

    def test_fan_profile_action_opens_on_the_kanban_with_pivot_and_graph(self):
        views = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_fan")["views"]
        self.assertEqual([mode for _view, mode in views], ["kanban", "list", "form", "pivot", "graph"])
