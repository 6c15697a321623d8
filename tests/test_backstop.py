"""The per-channel backstop (models/live_channel_backstop.py), per platform, against
the platform sandbox: orders and after-sales the pushes missed are listed through
the platform's list APIs (its parameter names, units, paging and window limits, as
the sandbox checks them), stored as snapshots and imported exactly once, whatever
the pushes, the earlier runs and a crash in the middle of a run did.
"""
import time
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.queue_job.exception import RetryableJobError

from ..models.live_channel_backstop import LiveChannel as BackstopChannel
from .common import run_queue_job, utc
from .test_orders_platforms import CUP, CUP_SKU, DouyinShop, KuaishouShop, PlatformOrderCase, TiktokShop, \
    WechatChannelsShop


class Crash(Exception):
    """The job's process dying."""


class BackstopCases:
    """What every platform's backstop does. Orders are registered in the sandbox as
    updated a minute ago: the channel's first run lists the last day."""
    expected_lines = [("Cup", 1, 99.5), ("Scarf", 2, 319.9)]

    def setUp(self):
        super().setUp()
        self.now = int(time.time())
        with self.sandbox.lock:  # each test lists only its own orders
            self.sandbox.orders.clear()
            self.sandbox.refunds.clear()

    # -- helpers ---------------------------------------------------------------------
    def missed(self, ref=None, **values):
        """An order the platform has and never pushed."""
        ref = ref or self.new_ref()
        self.register(ref, updated_at=values.pop("updated_at", self.now - 60), **values)
        return ref

    def backstop_jobs(self, state="pending"):
        return self.env["queue.job"].search([("model_name", "=", "live.channel"), ("method_name", "=", "_job_backstop"),
                                             ("state", "=", state)], order="id")

    def backstop(self):
        """One run, enqueued by the cron and run as queue_job runs it, then the processor."""
        self.env["live.channel"]._cron_backstop()
        jobs = self.backstop_jobs().filtered(lambda job: job.records == self.channel)
        self.assertEqual(len(jobs), 1)
        error = run_queue_job(self.env, jobs)
        self.assertIsNone(error, jobs.exc_info)
        self._process()
        self.env.invalidate_all()

    def assertRaisesOutsideSavepoint(self, exception, function):
        """Odoo's assertRaises rolls back to a savepoint; a job's own commits
        (its inbox rows, its cursor) must stay, as they would."""
        try:
            function()
        except exception:
            return
        self.fail(f"{exception.__name__} not raised")

    def snapshots(self):
        return self.Event.search([("channel_id", "=", self.channel.id),
                                  ("event_type", "in", ("order.snapshot", "refund.snapshot"))])

    def list_calls(self):
        return [call["ref"] for call in self.sandbox.calls_to(self.platform, "list")]

    # -- the tests -------------------------------------------------------------------
    def test_missed_order_is_imported_exactly_once(self):
        ref = self.missed()
        self.backstop()
        order = self.order(ref)
        self.assertEqual(len(order), 1, "the order no push announced is imported")
        self.assertEqual((order.state, self.product_lines(order)), ("sale", self.expected_lines))
        before = self.state_of(order)
        self.assertEqual(len(self.snapshots_of(ref)), 1)
        self.assertEqual(self.channel.backstop_last_count, 1)
        self.assertFalse(self.channel.backstop_last_error)

        self.backstop()  # the next run lists it again (the overlap)
        self.assertEqual(len(self.snapshots_of(ref)), 1, "the same document listed again is a duplicate")
        self.assertEqual(self.channel.backstop_last_count, 0)

        self.sync(self.order_push(ref, "paid"))  # the push arrives late: its fetch finds the same order
        self.assertEqual(len(self.order(ref)), 1)
        self.assertEqual(len(self.snapshots_of(ref)), 1)
        self.assertEqual(self.state_of(self.order(ref)), before, "applied once")

    def test_pushed_order_listed_again_changes_nothing(self):
        ref = self.missed()
        self.sync(self.order_push(ref, "paid"))
        order = self.order(ref)
        before = self.state_of(order)
        self.backstop()
        self.assertEqual(len(self.order(ref)), 1)
        self.assertEqual(len(self.snapshots_of(ref)), 1, "the push's fetch stored this very document")
        self.assertEqual(self.channel.backstop_last_count, 0)
        self.assertEqual(self.state_of(self.order(ref)), before)

    def test_update_after_the_push_is_applied_by_the_backstop(self):
        ref = self.missed()
        self.sync(self.order_push(ref, "paid"))
        # Cancelled on the platform; that push was lost.
        self.register(ref, "cancelled", updated_at=self.now - 30)
        self.backstop()
        self.assertEqual(self.order(ref).platform_status, "cancelled")
        self.assertEqual(len(self.snapshots_of(ref)), 2)

    def test_pages_are_walked_and_a_crash_resumes_from_the_committed_page(self):
        refs = [self.missed(updated_at=self.now - 100 + n) for n in range(5)]
        client_class = type(self.channel._api_client())
        store = BackstopChannel._backstop_store
        stored_pages = []

        def crash_after_second_page(channel, client, stream, page):
            accepted = store(channel, client, stream, page)
            stored_pages.append(page)
            if len(stored_pages) == 2:
                raise Crash("the worker died before the cursor of page 2 was committed")
            return accepted

        self.env.flush_all()
        with patch.object(client_class, "list_size", 2), \
                patch.object(BackstopChannel, "_backstop_store", crash_after_second_page):
            self.assertRaisesOutsideSavepoint(Crash, self.channel._job_backstop)
        self._process()
        first_run = self.list_calls()
        self.assertEqual(len(first_run), 2)
        self.assertEqual(len(self.env["sale.order"].search([("platform_order_ref", "in", refs)])), 4,
                         "the two pages stored before the crash are imported")
        self.assertTrue((self.channel.backstop_cursor or {}).get("orders", {}).get("page"),
                        "page 2's cursor is committed")
        self.assertFalse(self.channel.backstop_orders_until, "the window is not done")

        self.sandbox.reset_calls()
        with patch.object(client_class, "list_size", 2):
            self.backstop()
        resumed = self.list_calls()
        self.assertEqual(resumed[0], first_run[1], "the run resumes at the page whose cursor was committed")
        for ref in refs:
            self.assertEqual(len(self.order(ref)), 1, ref)
            self.assertEqual(len(self.snapshots_of(ref)), 1, ref)
        self.assertEqual(self.channel.backstop_last_count, 1, "page 2 again: duplicates; page 3: one order")
        self.assertGreaterEqual(self.channel.backstop_orders_until, utc(self.now))
        self.assertFalse(self.channel.backstop_cursor["orders"])

    def test_late_update_before_the_cursor_is_found_by_the_overlap(self):
        self.channel.backstop_orders_until = utc(self.now)
        self.channel.backstop_refunds_until = utc(self.now)
        # Its update time is before the cursor: the platform recorded it late.
        ref = self.missed(updated_at=self.now - 120)
        self.backstop()
        self.assertEqual(len(self.order(ref)), 1)

    def test_expired_token_is_refreshed(self):
        ref = self.missed()
        self.sandbox.expire_access_tokens(self.platform)
        old_token, _refresh = self._stored_token()
        self.backstop()
        self.assertEqual(len(self.order(ref)), 1)
        self.assertIn(("token", "ok"), self._calls())
        self.assertNotEqual(self._stored_token()[0], old_token)

    def test_rate_limited_run_is_retried_later_with_the_error_shown(self):
        ref = self.missed()
        self.sandbox.fail("orders-list:", "rate_limit")
        self.env.flush_all()
        self.assertRaisesOutsideSavepoint(RetryableJobError, self.channel._job_backstop)
        self.env.invalidate_all()
        self.assertTrue(self.channel.backstop_last_error, self.sandbox.calls_to(self.platform))
        self.assertFalse(self.order(ref))
        self.backstop()
        self.assertFalse(self.channel.backstop_last_error)
        self.assertEqual(len(self.order(ref)), 1)

    def test_listed_after_sale_is_recorded_once(self):
        ref = self.missed()
        self.backstop()
        order = self.order(ref)
        sku, amount = (CUP_SKU, CUP["unit_price"]) if self.platform != "kuaishou_shop" else \
            (self.lines[0]["sku"], self.lines[0]["unit_price"])
        refund = self.register_refund(ref, sku, 1, amount, state="requested")
        refund["created_at"] = self.now - 30
        self.backstop()
        self.assertEqual(order.live_refund_ids.mapped("refund_ref"), [refund["refund_ref"]])
        self.assertEqual(order.live_refund_ids.state, "requested")
        self.backstop()
        self.assertEqual(len(order.live_refund_ids), 1)
        self.assertEqual(len(self.snapshots_of(ref, "refund.snapshot")), 1)

    def test_cron_enqueues_one_waiting_job_per_channel_with_the_backstop_on(self):
        self.assertTrue(self.channel.backstop_enabled, "on by default for a platform with an order API")
        Channel = self.env["live.channel"]
        Channel._cron_backstop()
        Channel._cron_backstop()
        jobs = self.backstop_jobs().filtered(lambda job: job.records == self.channel)
        self.assertEqual((len(jobs), jobs.channel), (1, f"root.live_commerce.{self.platform}"))
        jobs.unlink()
        self.channel.backstop_enabled = False
        Channel._cron_backstop()
        self.assertFalse(self.backstop_jobs().filtered(lambda job: job.records == self.channel))


class WindowedCases:
    """Kuaishou and WeChat list at most 7 days of orders per call (the sandbox refuses
    more): a cursor ten days back is walked window by window."""

    def test_cursor_days_back_is_walked_window_by_window(self):
        self.channel.backstop_orders_until = utc(self.now - 10 * 86400)
        ref = self.missed(updated_at=self.now - 9 * 86400)
        self.backstop()
        self.assertEqual(len(self.order(ref)), 1)
        self.assertFalse([call for call in self.sandbox.calls_to(self.platform, "list")
                          if call["outcome"] != "ok"])


@tagged("post_install", "-at_install")
class TestDouyinShopBackstop(DouyinShop, BackstopCases, PlatformOrderCase):
    pass


@tagged("post_install", "-at_install")
class TestKuaishouShopBackstop(KuaishouShop, BackstopCases, WindowedCases, PlatformOrderCase):
    expected_lines = [("Scarf", 2, 319.9)]


@tagged("post_install", "-at_install")
class TestWechatChannelsShopBackstop(WechatChannelsShop, BackstopCases, WindowedCases, PlatformOrderCase):
    pass


@tagged("post_install", "-at_install")
class TestTiktokShopBackstop(TiktokShop, BackstopCases, PlatformOrderCase):
    pass
