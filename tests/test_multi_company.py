from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import LiveCommerceCase


@tagged("post_install", "-at_install")
class TestMultiCompany(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session_a = cls._make_session(cls.channel_a, "A show")
        cls.session_b = cls._make_session(cls.channel_b, "B show")
        cls.fan_a = cls._make_fan(cls.channel_a, "oid-a", "Fan of A")
        cls.fan_b = cls._make_fan(cls.channel_b, "oid-b", "Fan of B")

    def test_company_a_cannot_see_company_b_sessions(self):
        Session = self.env["live.session"].with_user(self.users["manager"])
        found = Session.search([("name", "in", ["A show", "B show"])])
        self.assertEqual(found, self.session_a.with_user(self.users["manager"]))
        with self.assertRaises(AccessError):
            self.session_b.with_user(self.users["manager"]).read(["name"])

    def test_company_a_cannot_see_company_b_fans(self):
        Partner = self.env["res.partner"].with_user(self.users["manager"])
        fans = Partner.search([("is_live_fan", "=", True), ("name", "like", "Fan of")])
        self.assertEqual(fans.ids, self.fan_a.ids)
        with self.assertRaises(AccessError):
            self.fan_b.with_user(self.users["manager"]).read(["name"])
        identities = self.env["live.fan.identity"].with_user(self.users["manager"]).search(
            [("value", "in", ["oid-a", "oid-b"])])
        self.assertEqual(identities.mapped("value"), ["oid-a"])

    def test_company_b_sees_its_own_data_only(self):
        user_b = self.user_b
        self.assertEqual(
            self.env["live.channel"].with_user(user_b).search([("code", "in", ["douyin-a", "wechat-b"])]).ids,
            self.channel_b.ids)
        with self.assertRaises(AccessError):
            self.fan_a.with_user(user_b).read(["name"])

    def test_session_cannot_use_another_company_host_channel(self):
        with self.assertRaises(UserError):
            self.env["live.session"].create({
                "name": "Mixed", "channel_id": self.channel_b.id,
                "product_line_ids": [(0, 0, {"product_id": self.env["product.product"].create({
                    "name": "A-only product", "company_id": self.company_a.id}).id})],
            })

    def test_order_cannot_point_to_another_company_channel(self):
        with self.assertRaises(UserError):
            self.env["sale.order"].create({
                "partner_id": self.fan_a.id, "company_id": self.company_a.id,
                "live_channel_id": self.channel_b.id,
            })

    def test_identity_cannot_belong_to_another_company_fan(self):
        with self.assertRaises(UserError):
            self.env["live.fan.identity"].create({
                "partner_id": self.fan_a.id, "channel_id": self.channel_b.id, "value": "oid-mixed"})
