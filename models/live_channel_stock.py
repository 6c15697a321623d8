"""Stock levels to the platforms.

A channel with stock sync on keeps, for each mapped SKU, the platform's stock at
what is free to sell in the channel's warehouse, less its safety stock, times its
share, floored at 0. A stock move that changes what is free (done, reserved,
unreserved, cancelled: models/stock_move.py) enqueues one job per (channel, SKU);
queue_job's identity key makes a burst of moves share the job still waiting, and
the job reads the level when it runs, so 1,000 sales of a SKU cost a few calls.
Platforms that take an absolute level get it; Kuaishou only takes increments, so
the SKU keeps what was last sent and the job sends the difference.
"""
import hashlib
import math

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .platforms.orders import CLIENTS, ApiError, StockItem

RETRY_SECONDS = {"rate_limit": 30, "transient": 10, "token": 10}
# How long a stock job waits for more changes of its SKU before it reads the level
# and calls the platform: the level reaches the platform within seconds, in few calls.
STOCK_COALESCE_SECONDS = 1


class LiveChannel(models.Model):
    _inherit = "live.channel"

    stock_sync = fields.Boolean(
        string="Send Stock Levels",
        help="Keep the platform's stock of each mapped SKU at what is free to sell in the channel's warehouse.")
    stock_safety_qty = fields.Integer(
        string="Safety Stock", default=0,
        help="Units per SKU kept back from the platform, against overselling in a flash sale.")
    stock_share = fields.Float(
        string="Share of Stock (%)", default=100.0, digits=(5, 2),
        help="The part of the free stock (after the safety stock) this channel may sell, when several "
             "channels sell from one warehouse.")

    platform_warehouse_ref = fields.Char(
        string="Platform Warehouse ID",
        help="TikTok Shop: the id of the platform's warehouse (warehouse_id) whose stock the levels set.")

    @api.constrains("stock_safety_qty", "stock_share")
    def _check_stock_settings(self):
        for channel in self:
            if channel.stock_safety_qty < 0 or not 0 <= channel.stock_share <= 100:
                raise UserError(_("Channel %s: the safety stock cannot be negative and the share of stock must be "
                                  "between 0 and 100%%.", channel.name))

    def action_view_stock_drift(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_stock_drift")
        if len(self) == 1:
            action["domain"] = [("channel_id", "=", self.id)]
        return action

    def _api_client(self, session=None):
        client = super()._api_client(session=session)
        if client is not None:
            client.settings.warehouse_ref = self.sudo().platform_warehouse_ref or None
        return client

    @api.model
    def _cron_stock_full_sync(self):
        """Nightly: read each SKU's stock on the platform where it can be read,
        record how far it is from Odoo's, and queue a job for every SKU of the
        channels with stock sync on, so drift is corrected."""
        for channel in self.sudo().search([("stock_sync", "=", True)]):
            mappings = channel.sku_ids.filtered("platform_sku")
            mappings._stock_check_drift()
            mappings._enqueue_stock_sync()


class LiveChannelSku(models.Model):
    _inherit = "live.channel.sku"

    platform_product_ref = fields.Char(
        string="Platform Product ID",
        help="The platform's id of the product (item) the SKU belongs to: Douyin's product_id, Kuaishou's "
             "kwaiItemId.")
    stock_last_sent = fields.Integer(string="Last Sent Stock", readonly=True,
                                     help="The level the platform was last told.")
    stock_sequence = fields.Integer(readonly=True, help="How many stock changes were sent for the SKU.")
    stock_sent_at = fields.Datetime(string="Stock Sent At", readonly=True)
    stock_odoo_qty = fields.Integer(string="Odoo Stock", readonly=True,
                                    help="What the platform should show, at the last check.")
    stock_platform_qty = fields.Integer(
        string="Platform Stock", readonly=True,
        help="The platform's stock at the last check: read from the platform where it can be read, else the "
             "last level sent.")
    stock_checked_at = fields.Datetime(string="Stock Checked At", readonly=True)
    stock_drift = fields.Integer(string="Difference", compute="_compute_stock_drift", store=True,
                                 help="Platform stock minus Odoo stock at the last check.")
    stock_uncertain = fields.Boolean(
        string="Stock Change Unconfirmed", readonly=True,
        help="A stock change to a platform that only takes increments got no answer: it may or may not have "
             "been applied, so no further change is sent (it could count twice) until a person checks the "
             "platform, corrects Last Sent Stock and clears this.")
    stock_error = fields.Char(string="Stock Error", readonly=True)

    @api.depends("stock_platform_qty", "stock_odoo_qty")
    def _compute_stock_drift(self):
        for mapping in self:
            mapping.stock_drift = mapping.stock_platform_qty - mapping.stock_odoo_qty

    def action_stock_resolved(self):
        """The person checked the platform: send changes again, from Last Sent Stock."""
        self.write({"stock_uncertain": False, "stock_error": False})
        self._enqueue_stock_sync()

    # ------------------------------------------------------------------
    def _stock_targets(self):
        """{mapping: units the platform should show}, one free_qty read per warehouse."""
        targets = {}
        for channel in self.channel_id:
            mappings = self.filtered(lambda m, c=channel: m.channel_id == c)
            location = channel._order_warehouse().lot_stock_id
            products = mappings.product_id.with_context(location=location.id)
            free = {product.id: product.free_qty for product in products}
            for mapping in mappings:
                units = max(0.0, free.get(mapping.product_id.id, 0.0) - channel.stock_safety_qty)
                targets[mapping] = max(0, math.floor(units * channel.stock_share / 100.0 + 1e-9))
        return targets

    def _stock_item(self):
        return StockItem(sku=self.platform_sku, product_ref=self.platform_product_ref or None,
                         merchant_code=self.merchant_code or None)

    def _enqueue_stock_sync(self):
        """One waiting job per (channel, SKU): a job that waits already answers for
        this change too, since it reads the level when it runs. It waits
        STOCK_COALESCE_SECONDS before it runs, so a flash sale's burst of sales of one
        SKU is a few calls, at most one a second, instead of one per sale."""
        for mapping in self.filtered(lambda m: m.platform_sku and m.channel_id.stock_sync
                                     and CLIENTS.get(m.channel_id.platform)
                                     and CLIENTS[m.channel_id.platform].stock_mode):
            mapping.with_delay(
                channel=f"root.live_commerce.{mapping.channel_id.platform}", max_retries=8,
                identity_key=f"live_commerce_stock:{mapping.id}", eta=STOCK_COALESCE_SECONDS,
                description=_("Send stock of %(sku)s to %(channel)s", sku=mapping.platform_sku,
                              channel=mapping.channel_id.name),
            )._job_sync_stock()

    def _job_sync_stock(self):
        """The job: the SKU's level now, sent to the platform (absolute, or the
        difference from what was last sent)."""
        mapping = self.sudo()
        mapping.ensure_one()
        channel = mapping.channel_id
        if not channel.stock_sync:
            return _("Stock sync is off on %s.", channel.name)
        client = channel._api_client()
        target = mapping._stock_targets()[mapping]
        item = mapping._stock_item()
        try:
            if client.stock_mode == "absolute":
                client.set_stock(item, target)
            else:
                if mapping.stock_uncertain:
                    return _("Not sent: an earlier change to SKU %s is unconfirmed.", mapping.platform_sku)
                delta = target - mapping.stock_last_sent
                if not delta:
                    return _("SKU %(sku)s: the platform has %(qty)s already.", sku=mapping.platform_sku, qty=target)
                client.add_stock(item, delta, mapping._stock_request_id(target))
        except ApiError as exc:
            if exc.kind == "transient" and client.stock_mode != "absolute":
                # No answer: the increment may have been applied. Sending it again
                # could count it twice, so stop sending until a person checks.
                mapping.write({"stock_uncertain": True, "stock_error": exc.message})
                return exc.message
            if exc.kind in RETRY_SECONDS:
                # The platform refused the call: nothing was applied, and the retry
                # sends the difference from the same last sent level.
                from odoo.addons.queue_job.exception import RetryableJobError
                raise RetryableJobError(f"{channel.platform}: {exc.message}",
                                        seconds=exc.retry_after or RETRY_SECONDS[exc.kind]) from exc
            mapping.write({"stock_error": exc.message})
            return exc.message
        mapping.write({"stock_last_sent": target, "stock_sequence": mapping.stock_sequence + 1,
                       "stock_sent_at": fields.Datetime.now(), "stock_error": False})
        return _("SKU %(sku)s: stock %(qty)s sent.", sku=mapping.platform_sku, qty=target)

    def _stock_request_id(self, target):
        """The change's id: the same (channel, SKU, level, sequence) is the same change."""
        key = f"{self.channel_id.id}:{self.platform_sku}:{target}:{self.stock_sequence}"
        return hashlib.sha1(key.encode()).hexdigest()[:32]

    def _stock_check_drift(self):
        """Record the platform's stock (read where it can be) next to Odoo's."""
        targets = self._stock_targets()
        now = fields.Datetime.now()
        for mapping in self:
            client = mapping.channel_id._api_client()
            platform_qty = mapping.stock_last_sent
            if client is not None and client.stock_readable:
                try:
                    platform_qty = client.read_stock(mapping._stock_item())
                except ApiError as exc:
                    mapping.stock_error = exc.message
            mapping.write({"stock_odoo_qty": targets[mapping], "stock_platform_qty": platform_qty,
                           "stock_checked_at": now})

    @api.model
    def _stock_moved(self, moves):
        """Moves changed what is free to sell: queue the SKUs of the channels with
        stock sync on whose warehouse the moves touch."""
        products = moves.product_id.filtered(lambda p: p.is_storable)
        if not products:
            return
        mappings = self.sudo().search([("product_id", "in", products.ids), ("channel_id.stock_sync", "=", True),
                                       ("platform_sku", "!=", False)])
        if not mappings:
            return
        touched = set()
        for move in moves:
            for location in (move.location_id, move.location_dest_id):
                touched.add((move.product_id.id, location.parent_path or ""))
        for mapping in mappings:
            view = mapping.channel_id._order_warehouse().view_location_id.parent_path or ""
            if any(product_id == mapping.product_id.id and path.startswith(view)
                   for product_id, path in touched):
                mapping._enqueue_stock_sync()
