"""The per-channel backstop: orders and after-sales listed from the platform.

Pushes get lost (a platform that gave up after failures, a webhook down, a channel
whose pushes were never set up). Every ten minutes one cron enqueues a job per
channel with the backstop on (queue_job, the platform's job channel, one waiting job
per channel); the job pages through the platform's list APIs for what was updated
since its cursor and stores each order and after-sale in the inbox as a snapshot,
exactly as the fetch job does (models/live_order_fetch.py): the same document stored
twice is one message, and the processor applies snapshots idempotently, so an order
that came by push and is listed again changes nothing.

The cursor (the update time up to which everything is stored, and the page of the
window being walked) is committed with each page, after the page's snapshots: a
job that dies resumes from its last page, and a page stored twice is duplicates.
Each run starts a few minutes before the cursor, because update times can tie or
arrive late. Platforms whose lists take a bounded window (Kuaishou, WeChat) are
walked window by window.
"""
import time

from odoo import SUPERUSER_ID, _, api, fields, models

from .live_channel import _unix, _utc
from .live_order_fetch import RETRY_SECONDS, snapshot_inbox_events
from .platforms.base import Credentials
from .platforms.orders import CLIENTS, ApiError

OVERLAP_SECONDS = 300  # each run lists again the last five minutes before its cursor
FIRST_LOOKBACK_SECONDS = 86400  # a channel's first run lists the last day
LOCK_TIMEOUT = "10s"
ADVISORY_LOCK = 0x6C63620B  # with the channel id: one backstop run per channel at a time


class LiveChannel(models.Model):
    _inherit = "live.channel"

    backstop_enabled = fields.Boolean(
        string="List Missed Orders", compute="_compute_backstop_enabled", store=True, readonly=False,
        help="Every ten minutes, list the orders and after-sales the platform updated since the last run and "
             "import those the pushes missed. For a channel whose platform does not push to Odoo, this is how its "
             "orders arrive.")
    backstop_orders_until = fields.Datetime(
        string="Orders Listed Up To", copy=False,
        help="Every order the platform updated before this time is imported. Set it back to list older orders "
             "again (imported orders are not imported twice). Empty: the next run lists the last day.")
    backstop_refunds_until = fields.Datetime(
        string="After-Sales Listed Up To", copy=False,
        help="Every after-sale the platform updated before this time is imported (WeChat: created before it).")
    backstop_cursor = fields.Json(
        string="Backstop Page Cursor", copy=False,
        help="The window and page a run was walking when it stopped: the next run resumes there.")
    backstop_last_run = fields.Datetime(string="Last Backstop Run", readonly=True, copy=False)
    backstop_last_count = fields.Integer(
        string="Orders Found Last Run", readonly=True, copy=False,
        help="Orders and after-sales the last run stored that Odoo did not have in that state.")
    backstop_last_error = fields.Text(string="Last Backstop Error", readonly=True, copy=False)

    @api.depends("platform")
    def _compute_backstop_enabled(self):
        for channel in self:
            channel.backstop_enabled = channel.platform in CLIENTS

    # ------------------------------------------------------------------
    # Actions and cron
    # ------------------------------------------------------------------
    def action_backstop_now(self):
        self._enqueue_backstop()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "message": _("Listing the platform's orders: the run shows here when it is done.")}}

    @api.model
    def _cron_backstop(self):
        self.sudo().search([("backstop_enabled", "=", True), ("platform", "in", list(CLIENTS)),
                            ("app_key", "!=", False)])._enqueue_backstop()

    def _enqueue_backstop(self):
        for channel in self.filtered(lambda c: c.platform in CLIENTS):
            channel.sudo().with_company(channel.company_id).with_delay(
                channel=f"root.live_commerce.{channel.platform}", max_retries=8,
                identity_key=f"live_commerce_backstop:{channel.id}",
                description=_("List missed orders of %s", channel.name),
            )._job_backstop()

    # ------------------------------------------------------------------
    # The job
    # ------------------------------------------------------------------
    def _job_backstop(self):
        """List orders, then after-sales (an after-sale needs its order first), each
        from its cursor up to now; store what was listed as snapshots."""
        self.ensure_one()
        channel = self.sudo()
        client = channel._api_client()
        if client is None:
            return _("Channel %s has no order API.", channel.name)
        # The identity key keeps one job waiting, not one running: a job enqueued
        # while another runs waits here for nothing. A lock of the job's own
        # transaction, not the channel's row, which the cursor writes need.
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [ADVISORY_LOCK, channel.id])
        if not self.env.cr.fetchone()[0]:
            return _("Another run of channel %s is listing its orders.", channel.name)
        now = int(time.time())
        streams = dict(channel.backstop_cursor or {})
        found = 0
        try:
            for stream in ("orders", "refunds"):
                found += channel._backstop_stream(client, stream, streams, now)
        except ApiError as exc:
            channel._backstop_save({"backstop_last_run": _utc(now), "backstop_last_error": exc.message})
            if exc.kind in RETRY_SECONDS:
                from odoo.addons.queue_job.exception import RetryableJobError
                raise RetryableJobError(f"{channel.platform}: {exc.message}",
                                        seconds=exc.retry_after or RETRY_SECONDS[exc.kind]) from exc
            raise
        channel._backstop_save({"backstop_last_run": _utc(now), "backstop_last_count": found,
                                "backstop_last_error": False})
        return _("Stored %(count)s new snapshot(s) for channel %(channel)s.", count=found, channel=channel.name)

    def _backstop_stream(self, client, stream, streams, now):
        """Page through one list (orders or refunds) from the cursor up to `now`;
        the new snapshots stored."""
        until_field = f"backstop_{stream}_until"
        window = client.order_window if stream == "orders" else client.refund_window
        listing = client.list_orders_since if stream == "orders" else client.list_refunds_since
        state = streams.get(stream) or {}
        if state.get("end"):  # the last run stopped inside this window
            start, end, page = state["start"], state["end"], state.get("page")
        else:
            since = _unix(self[until_field]) if self[until_field] else now - FIRST_LOOKBACK_SECONDS
            start = min(since, now) - OVERLAP_SECONDS
            end, page = _window_end(start, window, now), None
        found = 0
        while True:
            result = listing(start, end, page)
            found += self._backstop_store(client, stream, result)
            if result.cursor:
                page = result.cursor
                streams[stream] = {"start": start, "end": end, "page": page}
                self._backstop_save({"backstop_cursor": streams})
                continue
            streams[stream] = {}
            self._backstop_save({"backstop_cursor": streams, until_field: _utc(end)})
            if end >= now:
                return found
            start, page = end, None
            end = _window_end(start, window, now)

    def _backstop_store(self, client, stream, page):
        """Store a page's orders or after-sales as snapshots, committed (before the
        cursor that passes them); how many were new. Lists that name only ids
        (WeChat orders) are completed here with the order API."""
        inbox = []
        if stream == "orders":
            for order in page.orders:
                if isinstance(order, str):
                    order = client.fetch_order(order)
                inbox += snapshot_inbox_events(order.order_ref, order, [])
        else:
            for listed in page.refunds:
                refund = listed.refund or client.fetch_refund(listed.refund_ref, listed.order_ref)
                inbox += snapshot_inbox_events(listed.order_ref, None, [refund])
        creds = Credentials(self.id, self.code, self.platform, self.company_id.id)
        accepted, _duplicates = self.env["live.event"]._store(creds, inbox, committed=True)
        return accepted

    def _backstop_save(self, vals):
        """Write the channel's backstop state in a transaction of its own, committed
        now: it must survive the job dying on the next page. The job's own
        transaction never writes the channel's row, so this cannot wait on it."""
        with self.env.registry.cursor() as cr:
            cr.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            api.Environment(cr, SUPERUSER_ID, {})["live.channel"].browse(self.id).write(vals)
        self.invalidate_recordset(list(vals))


def _window_end(start, window, now):
    return min(start + window, now) if window else now
