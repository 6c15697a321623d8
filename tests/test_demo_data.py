from lxml import etree

from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

# The demo story's orders (models/live_demo.py), by what happened to them.
COMPLETED = ("6919477890601602733", "6919481230948812345", "6919482209716623481", "6919483378120045126")
SHIPPED = ("6919475568966452510", "6919486620187734402")
PARTIALLY_SHIPPED = "6919478367549954787"
REFUND_ONLY = "6919424008774577061"
RETURNED = "6919440638974635071"
REFUNDED_BEFORE_SHIPPING = "6919478907062472030"
CANCELLED = "6919450185932525289"
SHORT = "6919484406651289930"
AMOUNT_DIFFERENCE = "6919485512093376215"
MADE_TO_ORDER = "6919490344556677889"
PAID_ON_AIR = ("6919490011223344556", "6919490122334455667", "6919490233445566778", "6919490455667788990",
               "6919490566778899001")


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """`make run` promises a story: a shop in China with its own company in yuan, two
    platform channels and a middleware, six sessions, fifty fans, and orders that
    came through the inbox and the processor, in every state."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.ref("live_commerce_crm.demo_company")
        cls.relay = cls.env.ref("live_commerce_crm.demo_channel_middleware")
        cls.past = cls.env.ref("live_commerce_crm.demo_session_past")
        cls.live = cls.env.ref("live_commerce_crm.demo_session_live")
        orders = cls.env["sale.order"].search([("live_channel_id", "=", cls.relay.id)])
        cls.orders = {order.platform_order_ref: order for order in orders}

    def test_installed_with_demo_data(self):
        self.assertTrue(self.env["ir.module.module"].search([("name", "=", "live_commerce_crm")]).demo,
                        "the test database is installed with demo data")

    def test_company_in_yuan_with_the_chinese_chart_and_vat_included(self):
        company = self.company
        self.assertEqual((company.currency_id.name, company.country_id.code), ("CNY", "CN"))
        self.assertEqual(company.account_price_include, "tax_included")
        self.assertEqual(company.chart_template, "cn", "make test installs l10n_cn beside the addon, as make run")
        tax = company.account_sale_tax_id
        self.assertEqual((tax.amount, tax.price_include), (13.0, True))
        warehouse = self.env.ref("live_commerce_crm.demo_warehouse")
        self.assertEqual(warehouse.company_id, company)
        channels = self.env["live.channel"].search([("company_id", "=", company.id)])
        # Two platform shops, the Douyin room app, the middleware and its WeChat room relay.
        self.assertEqual(len(channels), 5)
        for channel in channels.filtered(lambda c: c.platform != "douyin_live"):
            self.assertEqual(channel.tax_ids, tax, "the channels' taxes are the company's default sales tax")
            self.assertEqual(channel._order_warehouse(), warehouse)
        self.assertEqual(self.relay.commission_account_id.with_company(self.company).code, "560100",
                         "commission is a selling expense (销售费用)")

    def test_people_and_languages(self):
        self.assertEqual(set(self.env["res.lang"].search([]).mapped("code")), {"en_US", "zh_CN"},
                         "both languages are active: users switch in their preferences")
        for login in ("host", "controller", "service"):
            user = self.env["res.users"].search([("login", "=", login)])
            self.assertEqual((user.company_id, user.company_ids), (self.company, self.company))
            self.assertEqual(user.lang, "zh_CN", "the demo users read Chinese")
        admin = self.env.ref("base.user_admin")
        self.assertEqual(admin.company_id, self.company)
        self.assertIn(self.env.ref("base.main_company"), admin.company_ids, "admin keeps the first company")

    def test_story_lives_in_the_demo_company(self):
        sessions = self.env["live.session"].search([("company_id", "=", self.company.id)])
        self.assertLessEqual({"live", "scheduled", "reviewed"}, set(sessions.mapped("state")))
        fans = self.env["res.partner"].search([("live_identity_ids.channel_id.company_id", "=", self.company.id)])
        self.assertGreaterEqual(len(fans), 50)
        self.assertEqual(fans.company_id, self.company)
        products = self.env["product.product"].search([("default_code", "=like", "LC-%")])
        self.assertEqual(len(products), 8)
        self.assertEqual(products.company_id, self.company)
        self.assertTrue(all(product.taxes_id == self.company.account_sale_tax_id for product in products))
        in_stock = products.filtered(lambda p: p.with_company(self.company).qty_available > 0)
        self.assertGreaterEqual(len(in_stock), 5)
        self.assertEqual(set(self.orders), {*COMPLETED, *SHIPPED, PARTIALLY_SHIPPED, REFUND_ONLY, RETURNED,
                                            REFUNDED_BEFORE_SHIPPING, CANCELLED, SHORT, AMOUNT_DIFFERENCE,
                                            MADE_TO_ORDER, *PAID_ON_AIR})
        self.assertEqual(len(self.orders), 19)
        for order in self.orders.values():
            self.assertEqual(order.company_id, self.company)
            self.assertEqual(order.currency_id.name, "CNY")
            self.assertEqual(order.live_session_id, self.live if order.platform_order_ref in
                             (*PAID_ON_AIR, MADE_TO_ORDER) else self.past)
            self.assertEqual(order.live_host_id, self.env.ref("live_commerce_crm.demo_user_host"))
            self.assertTrue(order.partner_id.live_identity_ids, "the buyers are fans")

    def test_orders_came_through_the_inbox(self):
        events = self.env["live.event"].search([("channel_id", "=", self.relay.id)])
        self.assertGreater(len(events), 100)
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(set(events.filtered("order_ref").mapped("order_ref")), set(self.orders))
        newcomer = self.orders["6919490566778899001"].partner_id
        self.assertEqual(newcomer.name, "新来的小鹿", "a buyer nobody knew became a fan")

    def test_every_state_of_an_order(self):
        orders = self.orders
        self.assertEqual({order.platform_status for order in orders.values()},
                         {"paid", "shipped", "completed", "cancelled"})
        for ref in COMPLETED + (REFUND_ONLY, RETURNED):
            order = orders[ref]
            self.assertEqual((order.state, order.platform_status), ("sale", "completed"))
            invoice = order.invoice_ids.filtered(lambda move: move.move_type == "out_invoice")
            self.assertEqual((invoice.state, invoice.payment_state), ("posted", "paid"))
            lines = invoice.line_ids
            self.assertIn(self.relay.settlement_journal_id, lines.matched_credit_ids.credit_move_id.journal_id,
                          "paid into the settlement journal")
            commission = lines.matched_credit_ids.credit_move_id.move_id.line_ids.filtered(
                lambda line: line.account_id == self.relay.commission_account_id)
            self.assertAlmostEqual(commission.balance, order.currency_id.round(invoice.amount_total * 0.05))
        for ref in SHIPPED:
            self.assertEqual(orders[ref].platform_status, "shipped")
            self.assertEqual(orders[ref].picking_ids.mapped("state"), ["done"])
        partial = orders[PARTIALLY_SHIPPED]
        self.assertEqual(partial.platform_status, "shipped")
        self.assertEqual(sorted(partial.picking_ids.mapped("state")), ["assigned", "done"])

        refund_only = orders[REFUND_ONLY].live_refund_ids
        self.assertEqual((refund_only.applied, refund_only.return_goods, refund_only.amount), (True, False, 30.0))
        self.assertEqual((refund_only.credit_note_id.move_type, refund_only.credit_note_id.state),
                         ("out_refund", "posted"))
        self.assertFalse(refund_only.return_picking_id)
        returned = orders[RETURNED].live_refund_ids
        self.assertTrue(returned.return_goods and returned.credit_note_id)
        self.assertEqual(returned.return_picking_id.picking_type_code, "incoming")

        before = orders[REFUNDED_BEFORE_SHIPPING]
        self.assertEqual((before.state, before.platform_status), ("cancel", "paid"))
        self.assertTrue(before.live_refund_ids.before_shipping)
        self.assertFalse(before.invoice_ids)
        cancelled = orders[CANCELLED]
        self.assertEqual((cancelled.state, cancelled.platform_status), ("cancel", "cancelled"))
        self.assertFalse(cancelled.platform_paid_at)

        short = orders[SHORT]
        self.assertEqual(short.state, "sale")
        self.assertTrue(short.live_stock_short and short.live_attention)
        difference = orders[AMOUNT_DIFFERENCE]
        self.assertEqual(difference.live_amount_difference, 10.0)
        self.assertTrue(difference.live_attention)

        made = orders[MADE_TO_ORDER]
        production = made.mrp_production_ids
        self.assertEqual(production.state, "confirmed")
        product = production.product_id
        self.assertEqual(set(product.route_ids.ids), {self.env.ref("stock.route_warehouse0_mto").id,
                                                      self.env.ref("mrp.route_warehouse0_manufacture").id})
        self.assertEqual(production.bom_id.bom_line_ids.product_id, self.env.ref("live_commerce_crm.demo_product_scarf"))
        for ref in PAID_ON_AIR:
            self.assertEqual((orders[ref].state, orders[ref].platform_status), ("sale", "paid"))
            self.assertEqual(orders[ref].picking_ids.mapped("state"), ["assigned"], "the stock is reserved")
            self.assertFalse(orders[ref].live_attention)

    def test_customer_service_has_open_after_sales_with_deadlines(self):
        action = self.env.ref("live_commerce_crm.action_live_order_refund")
        domain = safe_eval(action.domain or "[]")
        context = safe_eval(action.context or "{}")
        if context.get("search_default_open"):
            domain += [("state", "=", "requested")]
        queue = self.env["live.order.refund"].search(domain + [("company_id", "=", self.company.id)])
        self.assertEqual(sorted(queue.mapped("refund_ref")), ["AS70012004", "AS70012005", "AS70012006"])
        by_ref = {refund.refund_ref: refund for refund in queue}
        self.assertEqual(by_ref["AS70012005"].deadline_state, "overdue")
        self.assertEqual(by_ref["AS70012004"].deadline_state, "soon")
        exchange = by_ref["AS70012006"]
        self.assertEqual((exchange.kind, exchange.stage, exchange.return_tracking_ref),
                         ("exchange", "seller_receipt", "SF1400098219930"))
        self.assertFalse(queue.credit_note_id, "a request refunds nothing until it succeeds")

    def test_settlement_bills_matched_booked_and_listed(self):
        lines = self.env["live.settlement.line"].search([("channel_id", "=", self.relay.id)])
        self.assertEqual(sorted(lines.mapped("state")), ["booked", "difference", "matched"])
        booked = lines.filtered(lambda line: line.state == "booked")
        self.assertEqual(booked.move_id.state, "posted")
        self.assertFalse(lines.filtered(lambda line: line.state == "difference").move_id, "listed, never forced")

    def test_prices_include_vat(self):
        tax = self.company.account_sale_tax_id
        for order in self.orders.values():
            lines = order.order_line.filtered(lambda line: not line.display_type)
            self.assertEqual(lines.tax_id, tax)
            self.assertAlmostEqual(order.amount_total, sum(line.price_unit * line.product_uom_qty for line in lines),
                                   msg="the buyer's price is the order total: VAT is in it")
            self.assertAlmostEqual(order.amount_tax, order.currency_id.round(order.amount_total * 13 / 113), delta=0.02)

    def test_every_view_of_a_session_counts_the_same(self):
        """The session's card and form (order_count, gmv, net_gmv), its smart button's
        list and the Live Orders list filtered on paid orders show the same numbers."""
        view = self.env.ref("live_commerce_crm.sale_order_view_search_live")
        arch = etree.fromstring(view.arch)
        paid_filter = safe_eval(arch.xpath("//filter[@name='live_paid']")[0].get("domain"))
        self.assertEqual(paid_filter, self.env["sale.order"]._live_paid_domain())
        SaleOrder = self.env["sale.order"]
        for session in (self.past, self.live):
            action = session.action_view_orders()
            self.assertEqual(action["context"].get("search_default_live_paid"), 1)
            listed = SaleOrder.search(action["domain"] + paid_filter)
            self.assertEqual(session.order_count, len(listed))
            self.assertAlmostEqual(session.gmv, sum(listed.mapped("live_gmv")))
            self.assertAlmostEqual(session.refund_amount, sum(listed.mapped("live_refunded_amount")))
            self.assertAlmostEqual(session.net_gmv, session.gmv - session.refund_amount)
        self.assertEqual(self.past.order_count, 12, "every order of the reviewed session but the unpaid quotation")
        self.assertEqual(self.live.order_count, 6)
        self.assertAlmostEqual(self.past.refund_amount, 30.0 + 319.1 + 638.2)
        self.assertGreater(self.past.gmv, self.past.net_gmv)

    def test_reviewed_session_has_an_audience(self):
        session = self.past
        self.assertGreaterEqual(session.audience_count, 12)
        self.assertGreaterEqual(len(session.comment_ids), 20)
        audience = session.audience_ids
        self.assertTrue(sum(audience.mapped("like_count")) and sum(audience.mapped("gift_count")))
        self.assertTrue(all(row.watch_seconds > 0 for row in audience))

    def test_fans_in_every_segment_and_lifecycle_stage(self):
        """The operator's first look at the fans shows every RFM segment and every
        lifecycle stage, and a repeat buyer with sessions and live orders."""
        Partner = self.env["res.partner"]
        fans = Partner.search([("company_id", "=", self.company.id), ("is_live_fan", "=", True)])
        segments = {key for key, _label in Partner._fields["fan_rfm_segment"].selection}
        stages = {key for key, _label in Partner._fields["fan_lifecycle_stage"].selection}
        self.assertEqual(set(fans.mapped("fan_rfm_segment")) - {False}, segments)
        self.assertEqual(set(fans.mapped("fan_lifecycle_stage")), stages)
        champion = self.env.ref("live_commerce_crm.demo_fan_00")
        self.assertEqual((champion.fan_rfm_segment, champion.fan_lifecycle_stage), ("champions", "vip"))
        self.assertTrue(champion.live_audience_ids and champion.live_order_count >= 2)
        self.assertGreater(champion.fan_paid_order_count, champion.fan_live_order_count,
                           "orders count across all of the person's sale orders, live or not")
        # Tags the rules gave, each with its reason.
        reasons = self.env["live.fan.tag.reason"].search([("partner_id", "in", fans.ids)])
        self.assertTrue({"VIP", "Repeat Buyer", "High Intent"} <= set(reasons.tag_id.mapped("name")),
                        reasons.tag_id.mapped("name"))
        self.assertIn("VIP", champion.live_tag_reason_ids.tag_id.mapped("name"))
        self.assertTrue(all(reason.tag_id in reason.partner_id.category_id for reason in reasons))
        tagged_segments = set(reasons.partner_id.mapped("fan_rfm_segment")) - {False}
        self.assertGreaterEqual(len(tagged_segments), 5, "fans of most segments carry rule tags")
