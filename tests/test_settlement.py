"""Settlement bills imported from the platform (sandbox: Douyin's
order.getSettleBillDetailV3 in fen, TikTok's statements in decimal strings, WeChat
Channels funds flows) and matched with what completion booked: the commission
confirmed and nothing booked again; fees Odoo did not know booked once to the
channel's fee accounts; a different commission, an order not completed and an
unknown order listed, never booked."""
import time
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..models.platforms.orders import Refund
from ..models.platforms.wechat_channels_shop import WechatChannelsShopClient
from .common import ApiSandboxCase, run_queue_job, utc


class SettlementCase(ApiSandboxCase):
    currency = "CNY"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.commission_rate = 5.0
        Product = cls.env["product.product"]
        cls.scarf = Product.create({"name": "Bill Scarf", "default_code": "B-SCARF", "type": "consu",
                                    "is_storable": True, "invoice_policy": "delivery"})
        cls.cup = Product.create({"name": "Bill Cup", "default_code": "B-CUP", "type": "consu",
                                  "is_storable": True, "invoice_policy": "delivery"})
        warehouse = cls.channel._order_warehouse()
        for product in cls.scarf | cls.cup:
            cls.env["stock.quant"]._update_available_quantity(product, warehouse.lot_stock_id, 50)
        cls.buyer = cls.env["res.partner"].create({"name": "Bill Buyer"})
        Account = cls.env["account.account"]
        cls.service_account = Account.create({"name": "Platform service fees", "code": "660291",
                                              "account_type": "expense", "company_ids": [cls.env.company.id]})

    def setUp(self):
        super().setUp()
        with self.sandbox.lock:
            self.sandbox.settlements.clear()
            self.sandbox.orders.clear()
        self.an_hour_ago = int(time.time()) - 3600

    # -- helpers --------------------------------------------------------------------
    def completed_order(self, ref, lines=None, total=737.0):
        """An order of 2 scarves at 319.00 and a cup at 99.00 (737.00), completed in
        Odoo the way the order capability completes it: invoiced, paid into the
        settlement journal less 5% commission (36.85)."""
        lines = lines or [{"sku": "B-SCARF", "quantity": 2, "unit_price": 31900},
                          {"sku": "B-CUP", "quantity": 1, "unit_price": 9900}]
        self.sandbox.add_order(self.platform, ref, status="completed", lines=lines, currency=self.currency)
        order = self.env["sale.order"].create({
            "partner_id": self.buyer.id, "live_channel_id": self.channel.id, "platform_order_ref": ref,
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": line["quantity"],
                                   "price_unit": line["unit_price"] / 100, "platform_sku": line["sku"],
                                   # the platform's prices, taxes included, as the importer sells them
                                   "tax_id": [(6, 0, self.channel._order_taxes().ids)]})
                           for product, line in zip(self.scarf | self.cup, lines)]})
        order.action_confirm()
        self.env["live.order.importer"]._complete(order, self.channel)
        invoice = order.invoice_ids
        self.assertEqual((invoice.amount_total, invoice.payment_state), (total, "paid"))
        return order

    def import_settlements(self):
        self.channel._enqueue_settlement_import()
        jobs = self.env["queue.job"].search([("method_name", "=", "_job_import_settlements"),
                                             ("state", "=", "pending")])
        self.assertEqual(len(jobs), 1, "one import job per channel")
        self.assertEqual(jobs.channel, f"root.live_commerce.{self.platform}", "on the platform's job channel")
        error = run_queue_job(self.env, jobs)
        self.assertIsNone(error)
        self.env.invalidate_all()

    def lines(self, order_ref=None):
        return self.env["live.settlement.line"].search(
            [("channel_id", "=", self.channel.id)] + ([("order_ref", "=", order_ref)] if order_ref else []))

    def settlement_moves(self):
        return self.env["account.move"].search([("journal_id", "=", self.channel.settlement_journal_id.id)])

    def money_balance(self, order, extra_moves):
        """The balance, on the account the order's payment sits on, of its payment and
        `extra_moves`: what the shop has from the platform for the order."""
        payment = order.invoice_ids._get_reconciled_payments()
        account = payment.outstanding_account_id
        lines = (payment.move_id | extra_moves).line_ids.filtered(lambda line: line.account_id == account)
        return sum(lines.mapped("balance"))


@tagged("post_install", "-at_install")
class TestSettlementDouyin(SettlementCase):
    platform = "douyin_shop"

    def test_bill_with_the_booked_commission_confirms_it_and_books_nothing(self):
        order = self.completed_order("6920000000000000001")
        moves = self.settlement_moves()
        self.sandbox.add_settlement(self.platform, "6920000000000000001", commission=3685,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual(len(line), 1)
        self.assertEqual((line.state, line.order_id, line.invoice_id), ("matched", order, order.invoice_ids))
        self.assertEqual((line.income, line.settle_amount, line.commission), (737.0, 700.15, 36.85),
                         "fen in the bill, yuan in Odoo")
        self.assertEqual((line.booked_payment, line.booked_commission), (700.15, 36.85))
        self.assertFalse(line.move_id)
        self.assertEqual(self.settlement_moves(), moves, "the bill confirms: nothing booked a second time")
        calls = self.sandbox.calls_to(self.platform, "settlement")
        self.assertEqual([call["outcome"] for call in calls], ["ok"])
        # The same bill imported again is the same record, and books nothing.
        self.import_settlements()
        self.assertEqual(self.lines(), line)
        self.assertEqual(line.state, "matched")
        self.assertEqual(self.settlement_moves(), moves)

    def test_extra_service_fee_booked_once_to_its_account(self):
        self.channel.service_fee_account_id = self.service_account
        order = self.completed_order("6920000000000000002")
        self.sandbox.add_settlement(self.platform, "6920000000000000002", commission=3685, service_fee=1200,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.service_fee, line.settle_amount), ("booked", 12.0, 688.15))
        move = line.move_id
        self.assertEqual(move.state, "posted")
        fee = move.line_ids.filtered(lambda l: l.account_id == self.service_account)
        self.assertEqual((fee.debit, fee.credit), (12.0, 0.0), "the fee is an expense on the configured account")
        self.assertEqual(self.money_balance(order, move), 688.15,
                         "the shop has from the platform what the bill says the merchant receives")
        self.import_settlements()
        self.assertEqual(self.lines(), line)
        self.assertEqual(self.env["account.move"].search_count([("ref", "like", line.bill_ref)]), 1,
                         "the fee is booked once")

    def test_talent_commission_defaults_to_the_commission_account(self):
        order = self.completed_order("6920000000000000003")
        self.sandbox.add_settlement(self.platform, "6920000000000000003", commission=3685, affiliate=2000,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.affiliate_fee), ("booked", 20.0))
        fee = line.move_id.line_ids.filtered(lambda l: l.account_id == self.channel.commission_account_id)
        self.assertEqual(fee.debit, 20.0)
        self.assertEqual(self.money_balance(order, line.move_id), 680.15)

    def test_different_commission_is_listed_not_booked(self):
        order = self.completed_order("6920000000000000004")
        moves = self.settlement_moves()
        self.sandbox.add_settlement(self.platform, "6920000000000000004", commission=4000,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.commission, line.booked_commission), ("difference", 40.0, 36.85))
        self.assertEqual(line.difference_amount, -3.15, "the merchant receives 3.15 less than booked")
        self.assertIn("40.00", line.explanation)
        self.assertFalse(line.move_id)
        self.assertEqual(self.settlement_moves(), moves, "a difference is never forced")
        # A manager books it on request: the missing commission, once.
        line.action_book_correction()
        self.assertEqual(line.state, "corrected")
        commission = line.move_id.line_ids.filtered(lambda l: l.account_id == self.channel.commission_account_id)
        self.assertEqual(commission.debit, 3.15)
        self.assertEqual(self.money_balance(order, line.move_id), 697.0)

    def test_bill_of_an_order_not_completed_in_odoo_is_a_difference(self):
        self.sandbox.add_order(self.platform, "6920000000000000005", status="completed",
                               lines=[{"sku": "B-CUP", "quantity": 1, "unit_price": 9900}])
        order = self.env["sale.order"].create({
            "partner_id": self.buyer.id, "live_channel_id": self.channel.id,
            "platform_order_ref": "6920000000000000005",
            "order_line": [(0, 0, {"product_id": self.cup.id, "product_uom_qty": 1, "price_unit": 99.0,
                                   "tax_id": [(6, 0, self.channel._order_taxes().ids)]})]})
        order.action_confirm()
        self.sandbox.add_settlement(self.platform, "6920000000000000005", commission=495,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.order_id, line.difference_amount), ("difference", order, 94.05))
        self.assertFalse(line.move_id)

    def test_bill_of_an_unknown_order_waits_for_it(self):
        self.sandbox.add_settlement(self.platform, "6920000000000000006", income=10000, commission=500,
                                    service_fee=300, settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.order_id, line.settle_amount), ("no_order", self.env["sale.order"], 92.0))
        self.assertIn("6920000000000000006", line.explanation)
        self.assertFalse(line.move_id, "nothing is booked for an order Odoo does not know")
        # Once the order completes in Odoo, the next import matches the waiting row.
        self.sandbox.settlements.clear()
        self.completed_order("6920000000000000007")
        self.sandbox.add_settlement(self.platform, "6920000000000000007", commission=3685,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        self.assertEqual(self.lines("6920000000000000007").state, "matched")
        self.assertEqual(self.lines("6920000000000000006").state, "no_order")

    def test_refund_after_settlement_confirms_the_credit_note(self):
        order = self.completed_order("6920000000000000010")
        self.env["live.order.importer"]._refund(order, self.channel, Refund("RF-SETTLE", 9900, "succeeded"))
        credit_note = order.live_refund_ids.credit_note_id
        self.assertEqual(credit_note.amount_total, 99.0)
        self.sandbox.add_settlement(self.platform, "6920000000000000010", trade_type=1, income=0,
                                    settle_amount=-9900, settled_at=self.an_hour_ago)
        self.import_settlements()
        first = self.lines()
        self.assertTrue(first.refund_after_settlement)
        self.assertEqual((first.state, first.refund_amount, first.order_id), ("matched", 99.0, order),
                         first.explanation)
        self.assertIn(credit_note.name, first.explanation)
        # A second take-back the credit notes do not cover: listed, nothing booked.
        self.sandbox.add_settlement(self.platform, "6920000000000000010", trade_type=1, income=0,
                                    settle_amount=-500, settled_at=self.an_hour_ago + 60)
        self.import_settlements()
        second = self.lines() - first
        self.assertEqual((second.state, second.refund_amount, first.state), ("difference", 5.0, "matched"))
        self.assertFalse(first.move_id | second.move_id)

    def test_daily_cron_queues_one_import_per_channel_with_a_bill_api(self):
        generic = self.env["live.channel"].create({"name": "No bills", "code": "no-bills", "platform": "generic"})
        self.env["live.channel"]._cron_import_settlements()
        self.env["live.channel"]._cron_import_settlements()
        jobs = self.env["queue.job"].search([("method_name", "=", "_job_import_settlements"),
                                             ("state", "=", "pending")])
        queued = [job.records for job in jobs]
        self.assertEqual(queued.count(self.channel), 1, "one waiting job per channel")
        self.assertNotIn(generic, queued, "a platform without a bill API gets none")

    def test_managers_only_read_the_bills(self):
        self.sandbox.add_settlement(self.platform, "6920000000000000011", income=1000, settled_at=self.an_hour_ago)
        self.import_settlements()
        host = self.env["res.users"].create({
            "name": "Bill Host", "login": "bill-host",
            "groups_id": [(6, 0, [self.env.ref("live_commerce_crm.group_live_host").id])]})
        with self.assertRaises(AccessError):
            self.lines().with_user(host).read(["settle_amount"])

    def test_bill_call_sends_douyin_parameters_and_survives_an_expired_token(self):
        self.completed_order("6920000000000000008")
        self.sandbox.add_settlement(self.platform, "6920000000000000008", commission=3685,
                                    settled_at=self.an_hour_ago)
        self.sandbox.expire_access_tokens(self.platform)
        self.import_settlements()
        self.assertEqual(self.lines().state, "matched")
        self.assertEqual([call["outcome"] for call in self.sandbox.calls_to(self.platform, "settlement")],
                         ["token_expired", "ok"], "refreshed once, then called again")

    def test_many_rows_are_read_page_by_page(self):
        self.completed_order("6920000000000000009")
        for index in range(120):
            self.sandbox.add_settlement(self.platform, f"69300000000000{index:05d}", income=1000,
                                        settled_at=self.an_hour_ago)
        self.sandbox.add_settlement(self.platform, "6920000000000000009", commission=3685,
                                    settled_at=self.an_hour_ago + 10)
        self.import_settlements()
        self.assertEqual(len(self.lines()), 121)
        self.assertEqual(len(self.sandbox.calls_to(self.platform, "settlement")), 2, "100 rows a page")
        self.assertEqual(self.lines("6920000000000000009").state, "matched")


@tagged("post_install", "-at_install")
class TestSettlementTiktok(SettlementCase):
    platform = "tiktok_shop"

    def test_statement_in_decimal_strings_matches_and_books_the_affiliate_commission(self):
        order = self.completed_order("577000000000000001")
        moves = self.settlement_moves()
        self.sandbox.add_settlement(self.platform, "577000000000000001", commission=3685, affiliate=550,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.settle_amount, line.commission, line.affiliate_fee),
                         ("booked", 694.65, 36.85, 5.5))
        self.assertEqual(self.settlement_moves() - moves, line.move_id, "one entry: the affiliate commission")
        self.assertEqual(self.money_balance(order, line.move_id), 694.65)
        self.import_settlements()
        self.assertEqual(self.settlement_moves() - moves, line.move_id)

    def test_statement_with_another_commission_is_a_difference(self):
        self.completed_order("577000000000000002")
        self.sandbox.add_settlement(self.platform, "577000000000000002", commission=3000,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.commission, line.difference_amount), ("difference", 30.0, 6.85))
        self.assertFalse(line.move_id)


@tagged("post_install", "-at_install")
class TestSettlementKuaishou(SettlementCase):
    platform = "kuaishou_shop"
    # A Kuaishou order sells one SKU: 2 scarves at 319.00, 638.00, 5% commission 31.90.
    scarves = [{"sku": "B-SCARF", "quantity": 2, "unit_price": 31900}]

    def test_bill_in_fen_with_millisecond_times_matches_and_books_the_service_fee(self):
        self.channel.service_fee_account_id = self.service_account
        order = self.completed_order("2420000000000001", self.scarves, 638.0)
        self.sandbox.add_settlement(self.platform, "2420000000000001", commission=3190, service_fee=800,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.state, line.settle_amount, line.commission, line.service_fee),
                         ("booked", 598.1, 31.9, 8.0))
        self.assertEqual(line.settled_at, utc(self.an_hour_ago), "milliseconds on the platform")
        self.assertEqual(self.money_balance(order, line.move_id), 598.1)
        self.import_settlements()
        self.assertEqual(self.lines(), line)
        self.assertEqual(self.env["account.move"].search_count([("ref", "like", line.bill_ref)]), 1)


@tagged("post_install", "-at_install")
class TestSettlementWechat(SettlementCase):
    """WeChat Channels: the shop's funds flows (getfundsflowlist ids, getfundsflowdetail
    each), one bill row per flow, an order's flows matched together."""
    platform = "wechat_channels_shop"
    LIST = "/channels/ec/funds/getfundsflowlist"
    DETAIL = "/channels/ec/funds/getfundsflowdetail"

    def calls(self, path):
        return [call for call in self.sandbox.calls_to(self.platform, "settlement") if call["path"] == path]

    def test_flows_with_the_booked_commission_confirm_it_and_book_nothing(self):
        order = self.completed_order("3720000000000000001")
        moves = self.settlement_moves()
        self.sandbox.add_settlement(self.platform, "3720000000000000001", commission=3685,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        lines = self.lines()
        self.assertEqual(len(lines), 2, "the order income flow and the platform commission flow")
        self.assertEqual(set(lines.mapped("state")), {"matched"})
        self.assertEqual(lines.order_id, order)
        self.assertEqual((sum(lines.mapped("income")), sum(lines.mapped("settle_amount")),
                          sum(lines.mapped("commission"))), (737.0, 700.15, 36.85), "fen on the platform")
        self.assertEqual(lines[0].settled_at, utc(self.an_hour_ago))
        self.assertFalse(lines.move_id)
        self.assertEqual(self.settlement_moves(), moves, "the flows confirm: nothing booked a second time")
        self.assertEqual((len(self.calls(self.LIST)), len(self.calls(self.DETAIL))), (1, 2))
        # The same flows imported again are the same records, and book nothing.
        self.import_settlements()
        self.assertEqual(self.lines(), lines)
        self.assertEqual(set(lines.mapped("state")), {"matched"})
        self.assertEqual(self.settlement_moves(), moves)

    def test_colonel_commission_flow_booked_once_as_a_service_fee(self):
        self.channel.service_fee_account_id = self.service_account
        order = self.completed_order("3720000000000000002")
        self.sandbox.add_settlement(self.platform, "3720000000000000002", commission=3685, service_fee=1200,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        lines = self.lines()
        fee_line = lines.filtered("service_fee")
        self.assertEqual((len(lines), fee_line.service_fee, fee_line.settle_amount), (3, 12.0, -12.0))
        self.assertEqual(set(lines.mapped("state")), {"matched", "booked"})
        self.assertEqual(fee_line.state, "booked")
        self.assertEqual(lines.move_id, fee_line.move_id, "one entry: the 团长's commission")
        fee = fee_line.move_id.line_ids.filtered(lambda l: l.account_id == self.service_account)
        self.assertEqual((fee.debit, fee.credit), (12.0, 0.0))
        self.assertEqual(self.money_balance(order, fee_line.move_id), 688.15,
                         "the shop has from the platform what its flows say it receives")
        self.import_settlements()
        self.assertEqual(self.lines(), lines)
        self.assertEqual(self.env["account.move"].search_count([("ref", "like", fee_line.bill_ref)]), 1,
                         "the fee is booked once")

    def test_different_commission_flow_is_listed_not_booked(self):
        self.completed_order("3720000000000000003")
        moves = self.settlement_moves()
        self.sandbox.add_settlement(self.platform, "3720000000000000003", commission=4000,
                                    settled_at=self.an_hour_ago)
        self.import_settlements()
        lines = self.lines()
        self.assertEqual(set(lines.mapped("state")), {"difference"})
        self.assertEqual((sum(lines.mapped("commission")), lines[0].booked_commission), (40.0, 36.85))
        self.assertEqual(set(lines.mapped("difference_amount")), {-3.15})
        self.assertIn("40.00", lines[0].explanation)
        self.assertFalse(lines.move_id)
        self.assertEqual(self.settlement_moves(), moves, "a difference is never forced")

    def test_flows_are_listed_page_by_page_and_an_order_split_over_pages_matches(self):
        refs = [f"372000000000000001{index}" for index in range(3)]
        for index, ref in enumerate(refs):
            self.completed_order(ref)
            # income + commission (+ a 团长 commission for the last): 7 flows
            self.sandbox.add_settlement(self.platform, ref, commission=3685, service_fee=500 if index == 2 else 0,
                                        settled_at=self.an_hour_ago + index)
        with patch.object(WechatChannelsShopClient, "settle_page_size", 3):
            self.import_settlements()
        self.assertEqual(len(self.lines()), 7)
        self.assertEqual([call["outcome"] for call in self.calls(self.LIST)], ["ok"] * 3,
                         "pages of 3 flows, each asked with the previous page's next_key")
        self.assertEqual(len(self.calls(self.DETAIL)), 7)
        for ref, states in zip(refs, ({"matched"}, {"matched"}, {"matched", "booked"})):
            self.assertEqual(set(self.lines(ref).mapped("state")), states, ref)

    def test_refund_flow_confirms_the_credit_note(self):
        order = self.completed_order("3720000000000000020")
        self.env["live.order.importer"]._refund(order, self.channel, Refund("RF-WX-SETTLE", 9900, "succeeded"))
        self.sandbox.add_settlement(self.platform, "3720000000000000020", trade_type=1, income=0,
                                    settle_amount=-9900, settled_at=self.an_hour_ago)
        self.import_settlements()
        line = self.lines()
        self.assertEqual((line.refund_after_settlement, line.state, line.refund_amount, line.order_id),
                         (True, "matched", 99.0, order), line.explanation)
        self.assertFalse(line.move_id)

    def test_flow_calls_survive_an_expired_token(self):
        self.completed_order("3720000000000000021")
        self.sandbox.add_settlement(self.platform, "3720000000000000021", commission=3685,
                                    settled_at=self.an_hour_ago)
        self.sandbox.expire_access_tokens(self.platform)
        self.import_settlements()
        self.assertEqual(set(self.lines().mapped("state")), {"matched"})
        self.assertEqual([call["outcome"] for call in self.calls(self.LIST)], ["token_expired", "ok"])
