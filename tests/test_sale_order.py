from psycopg2 import IntegrityError

from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import LiveCommerceCase


@tagged("post_install", "-at_install")
class TestSaleOrder(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fan = cls._make_fan(cls.channel_a, "oid-order")
        cls.team = cls.env["crm.team"].create({"name": "Live team", "company_id": cls.company_a.id})
        cls.channel_a.team_id = cls.team

    def _order(self, channel, ref):
        return self.env["sale.order"].create({
            "partner_id": self.fan.id, "company_id": channel.company_id.id,
            "live_channel_id": channel.id, "platform_order_ref": ref})

    @mute_logger("odoo.sql_db")
    def test_platform_order_ref_unique_per_channel(self):
        self._order(self.channel_a, "3729145627718289152")
        other_channel = self.env["live.channel"].create({
            "name": "Douyin A2", "code": "douyin-a2", "company_id": self.company_a.id})
        self._order(other_channel, "3729145627718289152")
        with self.assertRaises(IntegrityError):
            self._order(self.channel_a, "3729145627718289152")

    def test_session_fills_channel_and_utm(self):
        campaign = self.env["utm.campaign"].create({"name": "Double 11"})
        session = self._make_session(self.channel_a, campaign_id=campaign.id)
        with Form(self.env["sale.order"].with_company(self.company_a)) as form:
            form.partner_id = self.fan
            form.live_session_id = session
            self.assertEqual(form.live_channel_id, self.channel_a)
            self.assertEqual(form.campaign_id, campaign)
            self.assertEqual(form.source_id, self.channel_a.source_id)
            self.assertEqual(form.team_id, self.team)

    def test_fan_counts_paid_live_orders(self):
        paid = self._order(self.channel_a, "A-1")
        self._order(self.channel_a, "A-2")  # a quotation: not an order yet
        self.env["sale.order"].create({"partner_id": self.fan.id, "company_id": self.company_a.id})
        self.assertEqual(self.fan.live_order_count, 0)
        paid.action_confirm()
        self.fan.invalidate_recordset()
        self.assertEqual(self.fan.live_order_count, 1)
