"""Fetching an order from the platform's API, as a job (OCA queue_job).

Douyin shop, Kuaishou, WeChat Channels and TikTok Shop push only ids. The processor
hands such events to a job (state *Waiting for the Platform*) and goes on; the job
calls the platform's order API outside any transaction that holds inbox rows or
stock, and stores what it got back into the inbox as a snapshot, which the
processor applies like a push that carries the whole order. One job per order
waiting to run (queue_job's identity key): pushes about an order whose job has not
started add nothing, and the job answers every push of the order waiting when it
runs, after-sales included. Each platform has its job channel, whose capacity caps
the calls made to it at once (and whose throttle spaces them).
"""
import hashlib
import json
import logging

from odoo import _, api, models

from .platforms import get_adapter
from .platforms.base import Credentials, InboxEvent
from .platforms.orders import ApiError, to_dict

_logger = logging.getLogger(__name__)

RETRY_SECONDS = {"rate_limit": 30, "transient": 10, "token": 10}


class LiveEvent(models.Model):
    _inherit = "live.event"

    @api.model
    def _enqueue_order_fetch(self, events, order_ref, refund_refs):
        """One fetch job for an order of `events` (same channel), unless one waits
        already: the job collects, when it runs, every push of the order still
        waiting, after-sales included."""
        channel = events.channel_id
        events.with_delay(
            channel=f"root.live_commerce.{channel.platform}", max_retries=8,
            identity_key=f"live_commerce_fetch:{channel.id}:{order_ref}",
            description=_("Fetch order %(order)s from %(channel)s", order=order_ref, channel=channel.name),
        )._job_fetch_order(order_ref, list(refund_refs))

    def _job_fetch_order(self, order_ref, refund_refs):
        """The job: fetch the order and its after-sales, store them as snapshots, and
        mark the pushes it answered done. Pushes that arrive while it runs wait for
        the next job (a job that has started is not the one a new push joins)."""
        channel = self.channel_id.sudo()
        channel.ensure_one()
        client = channel._api_client()
        if client is None:
            raise ApiError("permanent", _("Channel %s has no order API.", channel.name))
        waiting = self.sudo().search([("channel_id", "=", channel.id), ("order_ref", "=", order_ref),
                                      ("state", "=", "waiting")])
        adapter = get_adapter(channel.platform)
        refund_refs = set(refund_refs) | {
            adapter.order_reference(event.event_type, event.payload or {})[1] for event in waiting}
        refund_refs = sorted(ref for ref in refund_refs if ref)
        try:
            order = client.fetch_order(order_ref)
            refunds = [client.fetch_refund(refund_ref, order_ref) for refund_ref in refund_refs]
        except ApiError as exc:
            if exc.kind in RETRY_SECONDS:
                from odoo.addons.queue_job.exception import RetryableJobError
                raise RetryableJobError(f"{channel.platform}: {exc.message}",
                                        seconds=exc.retry_after or RETRY_SECONDS[exc.kind]) from exc
            raise
        inbox = snapshot_inbox_events(order_ref, order, refunds)
        creds = Credentials(channel.id, channel.code, channel.platform, channel.company_id.id)
        self._store(creds, inbox)
        self.env.cr.execute("""
            UPDATE live_event SET state = 'done', processed_at = now() AT TIME ZONE 'UTC', error = NULL
             WHERE id = ANY(%s) AND state = 'waiting'
        """, [waiting.ids])
        self.invalidate_model(["state", "processed_at", "error"])
        return _("Stored %(count)s snapshot(s) of order %(order)s.", count=len(inbox), order=order_ref)

    def _job_fetch_failed(self, exc_message=None, **_kw):
        """queue_job gave up: the order's waiting events need attention, with the
        platform's word; re-running one of them fetches again."""
        channel = self.channel_id[:1]
        order_refs = [ref for ref in set(self.sudo().mapped("order_ref")) if ref]
        if not channel or not order_refs:
            return
        self.env.cr.execute("""
            UPDATE live_event SET state = 'failed', error = %s
             WHERE channel_id = %s AND order_ref = ANY(%s) AND state = 'waiting'
        """, [_("Fetching the order from the platform failed: %s", exc_message or _("unknown error")),
              channel.id, order_refs])
        self.invalidate_model(["state", "error"])


def snapshot_inbox_events(order_ref, order, refunds):
    """The inbox events of what an order API said: the order (None: only after-sales)
    and its after-sales. The same answer stored twice, by the fetch job or by the
    backstop (models/live_channel_backstop.py), is one message: a duplicate."""
    snapshots = [("order.snapshot", {"order": to_dict(order)})] if order is not None else []
    snapshots += [("refund.snapshot", {"order_ref": order_ref, "refund": to_dict(refund)}) for refund in refunds]
    inbox = []
    for event_type, payload in snapshots:
        digest = hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]
        inbox.append(InboxEvent.make(f"{event_type}:{order_ref}:{digest}", event_type, payload,
                                     order and order.room_id, order and order.updated_at))
    return inbox
