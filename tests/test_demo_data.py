from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """`make run` promises a story: two channels, three sessions, fifty fans, orders."""

    def test_demo_story(self):
        self.assertTrue(self.env["ir.module.module"].search([("name", "=", "live_commerce_crm")]).demo,
                        "the test database is installed with demo data")
        channels = self.env.ref("live_commerce_crm.demo_channel_douyin") | self.env.ref("live_commerce_crm.demo_channel_wechat")
        self.assertEqual(sorted(channels.mapped("platform")), ["douyin_shop", "wechat_channels_shop"])
        sessions = self.env["live.session"].search([("channel_id", "in", channels.ids)])
        self.assertLessEqual({"live", "scheduled"}, set(sessions.mapped("state")))
        self.assertTrue(sessions.filtered(lambda s: s.state in ("ended", "reviewed")))
        fans = self.env["res.partner"].search([("live_identity_ids.channel_id", "in", channels.ids)])
        self.assertGreaterEqual(len(fans), 45)
        self.assertTrue(all(fan.live_identity_ids for fan in fans))
        orders = self.env["sale.order"].search([("live_session_id", "in", sessions.ids), ("state", "=", "sale")])
        self.assertGreaterEqual(len(orders), 10)
        self.assertTrue(all(order.platform_order_ref and order.live_channel_id for order in orders))
        self.assertTrue(all(session.gmv > 0 for session in orders.live_session_id))
