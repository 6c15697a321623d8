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

    def test_paid_orders_are_the_same_in_sql_and_in_the_orm(self):
        """The board, figures and RFM read paid orders in SQL (paid_sql): the same
        orders as PAID_DOMAIN, whatever the platform and Odoo states."""
        from ..models.sale_order import PAID_DOMAIN, paid_sql
        orders = self.env["sale.order"]
        for n, (paid_at, confirm, cancel) in enumerate([
                (False, False, False), (False, True, False), ("2026-05-01 10:00:00", False, False),
                ("2026-05-01 10:00:00", True, True), (False, True, True)]):
            order = self._order(self.channel_a, f"P-{n}")
            order.platform_paid_at = paid_at
            if confirm:
                order.action_confirm()
            if cancel:
                order._action_cancel()
            orders |= order
        self.env.flush_all()
        self.env.cr.execute(f"SELECT o.id FROM sale_order o WHERE o.id = ANY(%s) AND {paid_sql('o')}", [orders.ids])
        in_sql = sorted(row[0] for row in self.env.cr.fetchall())
        self.assertEqual(in_sql, sorted(orders.filtered_domain(PAID_DOMAIN).ids))
        self.assertEqual(len(in_sql), 3)
