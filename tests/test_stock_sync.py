"""Stock levels to the platforms: moves in the channel's warehouse queue one job per
(channel, SKU), the job sends the level it reads when it runs, to the platform
sandbox (scripts/platform_sandbox.py): absolute on Douyin, increments on Kuaishou."""
import time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from .common import ApiSandboxCase, run_queue_job

DY_SKU, DY_PRODUCT = "1790000000000001", "3600000000000001"
KS_SKU, KS_ITEM = "2090001234", "2080009999"


class StockSyncCase(ApiSandboxCase):
    sku = None
    product_ref = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.stock_sync = True
        cls.warehouse = cls.channel._order_warehouse()
        cls.stock_location = cls.warehouse.lot_stock_id
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.product = cls.env["product.product"].create({
            "name": f"Flash Scarf {cls.platform}", "type": "consu", "is_storable": True, "list_price": 99.0})
        cls.mapping = cls.env["live.channel.sku"].create({
            "channel_id": cls.channel.id, "platform_sku": cls.sku, "platform_product_ref": cls.product_ref,
            "product_id": cls.product.id})

    def setUp(self):
        super().setUp()
        with self.sandbox.lock:
            self.sandbox.stock.clear()
            self.sandbox._stock_requests.clear()
        self.sandbox.add_sku(self.platform, self.sku, 0)

    # -- helpers --------------------------------------------------------------------
    def put_in_stock(self, quantity):
        self.env["stock.quant"]._update_available_quantity(self.product, self.stock_location, quantity)

    def sales(self, count):
        """`count` moves of one unit from the warehouse to a customer, confirmed."""
        moves = self.env["stock.move"].create([{
            "name": "sale", "product_id": self.product.id, "product_uom_qty": 1, "product_uom": self.product.uom_id.id,
            "location_id": self.stock_location.id, "location_dest_id": self.customers.id} for _n in range(count)])
        return moves._action_confirm()

    @staticmethod
    def ship(move):
        """One sale leaves the warehouse: reserved, then done (two hooks fire)."""
        move._action_assign()
        move.picked = True
        move._action_done()

    def sell_in_burst(self, count, runner_every):
        """`count` sales shipped one after the other; the job runner gets to the
        waiting job every `runner_every` sales, and never finds more than one."""
        for n, move in enumerate(self.sales(count), 1):
            self.ship(move)
            if n % runner_every == 0:
                self.assertLessEqual(len(self.stock_jobs()), 1, "one waiting job per SKU, whatever the burst")
                self.assertEqual(self.run_jobs(), [])

    def stock_jobs(self, state="pending"):
        return self.env["queue.job"].search([
            ("model_name", "=", "live.channel.sku"), ("method_name", "=", "_job_sync_stock"), ("state", "=", state)],
            order="id")

    def run_job(self, record):
        return run_queue_job(self.env, record)

    def run_jobs(self):
        return [error for error in map(self.run_job, self.stock_jobs()) if error is not None]

    def platform_stock(self):
        return self.sandbox.stock[(self.platform, self.sku)]

    def stock_calls(self):
        return self._calls("stock")


@tagged("post_install", "-at_install")
class TestStockSyncDouyin(StockSyncCase):
    platform = "douyin_shop"
    sku, product_ref = DY_SKU, DY_PRODUCT

    def test_a_stock_job_waits_a_moment_for_more_sales(self):
        before = fields.Datetime.now()
        self.put_in_stock(5)
        self.mapping._enqueue_stock_sync()
        job = self.stock_jobs()
        self.assertEqual(len(job), 1)
        self.assertTrue(job.eta and job.eta > before, "the sales of the next second ride on this job")

    def test_burst_of_sales_coalesces_into_few_calls(self):
        self.put_in_stock(2000)
        self.mapping._enqueue_stock_sync()
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self.platform_stock(), 2000)
        self.sandbox.reset_calls()
        self.sell_in_burst(1000, runner_every=250)
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self.platform_stock(), 1000)
        self.assertEqual(self.stock_calls(), [("stock", "ok")] * 4,
                         "1,000 sales, a call each time the job ran: 4, not 1,000")
        self.assertEqual(self.mapping.stock_last_sent, 1000)

    def test_move_elsewhere_sends_nothing(self):
        self.put_in_stock(5)
        other = self.env["stock.location"].create({"name": "Not a warehouse", "usage": "internal"})
        self.env["stock.quant"]._update_available_quantity(self.product, other, 5)
        move = self.env["stock.move"].create({
            "name": "elsewhere", "product_id": self.product.id, "product_uom_qty": 1,
            "product_uom": self.product.uom_id.id, "location_id": other.id, "location_dest_id": self.customers.id})
        self.ship(move._action_confirm())
        self.assertFalse(self.stock_jobs(), "the channel's warehouse did not move")
        self.ship(self.sales(1))
        self.assertEqual(len(self.stock_jobs()), 1)

    def test_sync_off_sends_nothing(self):
        self.channel.stock_sync = False
        self.put_in_stock(5)
        self.ship(self.sales(1))
        self.assertFalse(self.stock_jobs())

    def test_safety_stock_and_share(self):
        self.channel.write({"stock_safety_qty": 3, "stock_share": 50.0})
        self.put_in_stock(25)
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 11, "(25 - 3) x 50%")
        reserved = self.sales(5)
        reserved._action_assign()  # reserved units are not free to sell
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 8, "(20 - 3) x 50%, floored")
        self.channel.stock_safety_qty = 30
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 0, "never below 0")

    def test_token_expired_and_rate_limit_are_retried(self):
        self.put_in_stock(6)
        self.sandbox.expire_access_tokens(self.platform)
        self.sandbox.fail(self.sku, "rate_limit")
        self.mapping._enqueue_stock_sync()
        errors = self.run_jobs()
        self.assertEqual(len(errors), 1)
        self.assertIsInstance(errors[0], RetryableJobError)
        self.assertEqual(self.run_jobs(), [], "retried: the refreshed token works")
        self.assertEqual(self.platform_stock(), 6)

    def test_unknown_sku_is_shown_not_retried(self):
        self.put_in_stock(4)
        with self.sandbox.lock:
            self.sandbox.stock.clear()
        self.mapping._enqueue_stock_sync()
        self.assertEqual(self.run_jobs(), [])
        self.assertTrue(self.mapping.stock_error)
        self.assertEqual(self.mapping.stock_last_sent, 0)

    def test_nightly_sync_reports_and_corrects_drift(self):
        self.put_in_stock(10)
        self.sandbox.set_stock(self.platform, self.sku, 7)  # edited by hand in the platform's back office
        self.env["live.channel"]._cron_stock_full_sync()
        self.assertEqual((self.mapping.stock_platform_qty, self.mapping.stock_odoo_qty, self.mapping.stock_drift),
                         (7, 10, -3), "read from the platform (sku.stockNum)")
        action = self.channel.action_view_stock_drift()
        listed = self.env["live.channel.sku"].search(action["domain"] + [("stock_drift", "!=", 0)])
        self.assertEqual(listed, self.mapping)
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self.platform_stock(), 10, "the nightly sync corrects it")


@tagged("post_install", "-at_install")
class TestStockSyncKuaishou(StockSyncCase):
    platform = "kuaishou_shop"
    sku, product_ref = KS_SKU, KS_ITEM

    def test_increments_follow_the_level(self):
        self.put_in_stock(10)
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.ship(self.sales(1)[0])
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 9)
        self.assertEqual((self.mapping.stock_last_sent, self.mapping.stock_sequence), (9, 2))
        self.mapping._enqueue_stock_sync()
        self.sandbox.reset_calls()
        self.run_jobs()
        self.assertEqual(self.stock_calls(), [], "no difference, no call")

    def test_retry_after_refusal_never_double_counts(self):
        self.put_in_stock(10)
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 10)
        self.sandbox.fail(self.sku, "rate_limit")
        for move in self.sales(3):
            self.ship(move)
        errors = self.run_jobs()
        self.assertIsInstance(errors[0], RetryableJobError)
        self.assertEqual((self.platform_stock(), self.mapping.stock_last_sent), (10, 10), "refused: nothing applied")
        for move in self.sales(2):  # more sales before the retry
            self.ship(move)
        self.assertEqual(len(self.stock_jobs()), 1, "the postponed job answers for them too")
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual((self.platform_stock(), self.mapping.stock_last_sent), (5, 5),
                         "the retry sends the difference from what was last sent: -5 once")

    def test_unanswered_increment_is_not_sent_twice(self):
        self.env["ir.config_parameter"].sudo().set_param("live_commerce_crm.api_timeout_seconds", "1")
        self.put_in_stock(10)
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.sandbox.fail(self.sku, "stall")  # applied, but answered after the client gave up
        self.ship(self.sales(1)[0])
        self.assertEqual(self.run_jobs(), [])
        self.assertTrue(self.mapping.stock_uncertain)
        deadline = time.monotonic() + 10
        while self.platform_stock() != 9 and time.monotonic() < deadline:
            time.sleep(0.2)  # the stalled request is applied when the sandbox answers it
        self.assertEqual(self.platform_stock(), 9)
        self.ship(self.sales(1)[0])
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 9, "nothing more sent while the change is unconfirmed")
        # The manager checked the platform (9 = the unconfirmed change was applied).
        self.mapping.stock_last_sent = 9
        self.mapping.action_stock_resolved()
        self.run_jobs()
        self.assertEqual((self.platform_stock(), self.mapping.stock_uncertain), (8, False))

    def test_nightly_report_compares_last_sent_without_a_read_api(self):
        self.put_in_stock(10)
        self.mapping._enqueue_stock_sync()
        self.run_jobs()
        self.env["stock.quant"]._update_available_quantity(self.product, self.stock_location, -4)  # no move
        self.sandbox.reset_calls()
        self.env["live.channel"]._cron_stock_full_sync()
        self.assertEqual((self.mapping.stock_platform_qty, self.mapping.stock_odoo_qty, self.mapping.stock_drift),
                         (10, 6, 4))
        self.assertEqual(self.stock_calls(), [], "Kuaishou has no stock read: the level last sent is compared")
        self.run_jobs()
        self.assertEqual(self.platform_stock(), 6)


@tagged("post_install", "-at_install")
class TestStockSyncWechat(TestStockSyncKuaishou):
    """WeChat Channels: increments too (diff_type 1 / 2, never 3), same behaviours."""
    platform = "wechat_channels_shop"
    sku, product_ref = "wx-sku-2001", "wx-product-1001"


@tagged("post_install", "-at_install")
class TestStockSyncTiktok(StockSyncCase):
    """TikTok Shop: inventory/update sets the level of the channel's platform warehouse."""
    platform = "tiktok_shop"
    sku, product_ref = "1729592969712207000", "1729592969712206000"
    warehouse_ref = "7068517275539719942"  # the sandbox's sales warehouse

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.platform_warehouse_ref = cls.warehouse_ref

    def test_burst_sets_the_absolute_level_in_few_calls(self):
        self.put_in_stock(500)
        self.sandbox.set_stock(self.platform, self.sku, 3)  # whatever the platform had: overwritten
        self.mapping._enqueue_stock_sync()
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self.platform_stock(), 500)
        self.sandbox.reset_calls()
        self.sell_in_burst(200, runner_every=100)
        self.assertEqual(self.platform_stock(), 300)
        self.assertEqual(self.stock_calls(), [("stock", "ok")] * 2, "200 sales, 2 calls")
        self.assertEqual(self.mapping.stock_last_sent, 300)

    def test_token_expired_and_rate_limit_are_retried(self):
        self.put_in_stock(6)
        self.sandbox.expire_access_tokens(self.platform)
        self.sandbox.fail(self.sku, "rate_limit")
        self.mapping._enqueue_stock_sync()
        errors = self.run_jobs()
        self.assertIsInstance(errors[0], RetryableJobError)
        self.assertEqual(self.run_jobs(), [])
        self.assertEqual(self.platform_stock(), 6)

    def test_without_warehouse_id_nothing_is_sent(self):
        self.channel.platform_warehouse_ref = False
        self.put_in_stock(4)
        self.mapping._enqueue_stock_sync()
        self.assertEqual(self.run_jobs(), [])
        self.assertIn("warehouse", self.mapping.stock_error)
        self.assertEqual((self.platform_stock(), self.stock_calls()), (0, []))

    def test_unknown_sku_is_shown_not_retried(self):
        self.put_in_stock(4)
        with self.sandbox.lock:
            self.sandbox.stock.clear()
        self.mapping._enqueue_stock_sync()
        self.assertEqual(self.run_jobs(), [])
        self.assertIn("does not exist", self.mapping.stock_error)
