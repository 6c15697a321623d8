"""Uploading a validated delivery to the platform, as a job (OCA queue_job).

For a channel whose *Who Ships* is *Odoo Warehouse*, validating an outgoing delivery
of a platform order queues its upload: never inside the click, in bounded batches,
on the platform's job channel (capacity 2: the calls made to it at once). The job
reads the order from the platform (the SKU lines' ids the parcel names, and the
parcels the platform already has), then sends the carrier's company code, the
tracking number and what the parcel holds. A repeated upload after a crash is not a
second parcel: Douyin's request_id returns the first success; elsewhere a parcel
whose tracking number the platform already lists is not sent again.

A failure (no carrier code, a token the platform refuses, a rate limit, an open
refund that blocks shipping) is recorded on the delivery with the platform's own
message and retried with backoff in a job of its own, so one refused parcel never
rolls back the others of its batch. After MAX_ATTEMPTS the delivery is *Upload
Failed*: the order is in *Orders Needing Attention*, and *Retry Upload* queues it again.
"""
import logging

from odoo import _, api, fields, models
from odoo.tools import split_every

from .platforms.orders import ApiError, ParcelUpload

_logger = logging.getLogger(__name__)

BATCH_SIZE = 20
MAX_ATTEMPTS = 5


class UploadError(Exception):
    """A parcel we cannot describe to the platform (no carrier code, no tracking number)."""


def backoff_seconds(attempts):
    return min(1800, 30 * 2 ** max(0, attempts - 1))


class StockPicking(models.Model):
    _inherit = "stock.picking"

    live_upload_state = fields.Selection(
        [("pending", "Waiting for Upload"), ("retrying", "Retrying"), ("done", "Uploaded"),
         ("failed", "Upload Failed")], string="Platform Upload", readonly=True, copy=False, index=True)
    live_parcel_ref = fields.Char(string="Platform Parcel", readonly=True, copy=False,
                                  help="The platform's id of the parcel (its tracking number where it names none).")
    live_upload_error = fields.Text(string="Upload Error", readonly=True, copy=False,
                                    help="Why the last upload failed, in the platform's own words.")
    live_upload_attempts = fields.Integer(string="Upload Attempts", readonly=True, copy=False)
    live_uploaded_at = fields.Datetime(string="Uploaded On", readonly=True, copy=False)

    def _action_done(self):
        result = super()._action_done()
        if not self.env.context.get("live_commerce_no_upload"):
            self._live_queue_upload()
        return result

    def action_live_retry_upload(self):
        # Only given-up uploads: one still retrying has its job waiting (two jobs on one
        # delivery could both send it where the platform takes no idempotency key).
        pickings = self.sudo().filtered(lambda p: p.live_upload_state == "failed")
        pickings.write({"live_upload_state": "pending", "live_upload_attempts": 0})
        pickings._live_enqueue_upload()
        return True

    # ------------------------------------------------------------------
    def _live_queue_upload(self):
        """Mark the done deliveries of Odoo-shipped platform orders for upload and queue them."""
        # As superuser: the warehouse user who validates may not read sale orders or channels.
        pickings = self.sudo().filtered(
            lambda p: p.state == "done" and p.picking_type_code == "outgoing" and not p.live_upload_state
            and p.sale_id.live_channel_id.ship_mode == "odoo" and p.sale_id.platform_order_ref)
        if pickings:
            pickings.write({"live_upload_state": "pending"})
            pickings._live_enqueue_upload()

    def _live_enqueue_upload(self, eta=None):
        for channel in self.sale_id.live_channel_id:
            mine = self.filtered(lambda p: p.sale_id.live_channel_id == channel)
            for ids in split_every(BATCH_SIZE, mine.ids):
                self.browse(ids).sudo().with_delay(
                    channel=f"root.live_commerce.{channel.platform}", eta=eta, max_retries=3,
                    description=_("Upload %(count)s shipment(s) to %(channel)s", count=len(ids), channel=channel.name),
                )._job_upload_shipments()

    def _job_upload_shipments(self):
        """The job: upload each delivery still waiting; record what each got; queue the
        ones that failed again after their backoff."""
        self = self.sudo()  # noqa: PLW0642 - the channel's credentials and orders, whoever validated
        retry, done = self.browse(), 0
        for picking in self.filtered(lambda p: p.live_upload_state in ("pending", "retrying")):
            try:
                parcel_ref = picking._live_upload()
            except (ApiError, UploadError) as exc:
                message = exc.message if isinstance(exc, ApiError) else str(exc)
                attempts = picking.live_upload_attempts + 1
                state = "failed" if attempts >= MAX_ATTEMPTS else "retrying"
                picking.write({"live_upload_state": state, "live_upload_attempts": attempts,
                               "live_upload_error": message})
                _logger.info("Shipment %s of order %s: upload failed (%s), attempt %s", picking.name,
                             picking.sale_id.platform_order_ref, message, attempts)
                if state == "retrying":
                    retry |= picking
                continue
            picking.write({"live_upload_state": "done", "live_parcel_ref": parcel_ref, "live_upload_error": False,
                           "live_upload_attempts": picking.live_upload_attempts + 1,
                           "live_uploaded_at": fields.Datetime.now()})
            _logger.info("Shipment %s of order %s uploaded to %s: parcel %s", picking.name,
                         picking.sale_id.platform_order_ref, picking.sale_id.live_channel_id.platform, parcel_ref)
            done += 1
        for attempts in set(retry.mapped("live_upload_attempts")):
            retry.filtered(lambda p: p.live_upload_attempts == attempts)._live_enqueue_upload(
                eta=backoff_seconds(attempts))
        return _("Uploaded %(done)s shipment(s), %(retry)s to retry.", done=done, retry=len(retry))

    def _live_upload(self):
        """Upload this delivery: the platform's parcel id. Raises ApiError or UploadError."""
        self.ensure_one()
        order, channel = self.sale_id, self.sale_id.live_channel_id.sudo()
        if not self.carrier_id:
            raise UploadError(_("The delivery has no carrier: set one that has a company code for channel %s.",
                                channel.name))
        code = self.env["live.carrier.code"]._code_for(channel.platform, self.carrier_id, channel.company_id)
        if not code:
            raise UploadError(_("Carrier %(carrier)s has no company code for channel %(channel)s: map it in "
                                "Live Commerce › Configuration › Carrier Codes.", carrier=self.carrier_id.name,
                                channel=channel.name))
        if not self.carrier_tracking_ref:
            raise UploadError(_("The delivery has no tracking number."))
        client = channel._api_client()
        if client is None:
            raise UploadError(_("Channel %s has no order API.", channel.name))
        platform_order = client.fetch_order(order.platform_order_ref)
        if not client.idempotent_upload:
            # No idempotency key: a parcel the platform lists already is not sent again.
            for shipment in platform_order.shipments:
                if shipment.tracking_ref == self.carrier_tracking_ref:
                    return self.carrier_tracking_ref
        lines = self._live_parcel_lines(platform_order)
        parcel = ParcelUpload(
            request_id=f"lcc-{self.env.cr.dbname[:16]}-{self.id}", tracking_ref=self.carrier_tracking_ref,
            company_code=code, lines=lines, whole_order=self._live_is_whole_order())
        return client.upload_shipment(platform_order, parcel)

    def _live_parcel_lines(self, platform_order):
        """[(the platform's OrderLine, quantity)] of what this delivery holds."""
        channel = self.sale_id.live_channel_id.sudo()
        mapped = {sku.product_id.id: sku.platform_sku for sku in channel.sku_ids if sku.platform_sku}
        lines = []
        for move in self.move_ids.filtered(lambda m: m.state == "done" and m.quantity):
            skus = {move.sale_line_id.platform_sku, mapped.get(move.product_id.id)} - {False, None}
            line = next((line for line in platform_order.lines if line.sku in skus), None) or next(
                (line for line in platform_order.lines
                 if move.product_id.default_code and line.merchant_code == move.product_id.default_code), None)
            if line is None:
                raise UploadError(_("%(product)s is not on the platform's order %(order)s: map its SKU.",
                                    product=move.product_id.display_name, order=platform_order.order_ref))
            lines.append((line, int(move.quantity)))
        return lines

    def _live_is_whole_order(self):
        order = self.sale_id
        others = order.picking_ids.filtered(
            lambda p: p != self and p.picking_type_code == "outgoing" and p.state not in ("cancel",))
        return not others


class SaleOrder(models.Model):
    _inherit = "sale.order"

    live_upload_failed = fields.Boolean(
        string="Shipment Upload Failed", compute="_compute_live_upload_failed", store=True,
        help="A delivery of the order could not be uploaded to the platform: see the delivery's Platform Upload.")

    @api.depends("picking_ids.live_upload_state")
    def _compute_live_upload_failed(self):
        for order in self:
            order.live_upload_failed = "failed" in order.picking_ids.mapped("live_upload_state")

    @api.depends("live_upload_failed")
    def _compute_live_attention(self):
        super()._compute_live_attention()
        for order in self.filtered("live_upload_failed"):
            order.live_attention = True
