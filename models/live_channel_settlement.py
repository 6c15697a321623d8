"""The channel's settlement bills: where the fees the order capability does not know
are booked, and the import of the platform's bills as a job (OCA queue_job) on the
platform's job channel, from a daily cron or the channel's button."""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .live_channel import _unix
from .platforms.orders import CLIENTS, ApiClient, ApiError

# Bills are asked for again this far back: the platforms settle late rows into a past
# window now and then; the bill row's unique key makes the overlap harmless.
OVERLAP = timedelta(days=1)
FIRST_LOOKBACK = timedelta(days=7)
WINDOW = timedelta(days=7)  # Douyin advises at most 7 days per call
MAX_PAGES = 500
RETRY_SECONDS = {"rate_limit": 30, "transient": 10, "token": 10}


class LiveChannel(models.Model):
    _inherit = "live.channel"

    affiliate_fee_account_id = fields.Many2one(
        "account.account", string="Talent Commission Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Where the talent's / affiliate's commission of a settlement bill is booked. Default: the "
             "commission account.")
    service_fee_account_id = fields.Many2one(
        "account.account", string="Service Fee Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Where the platform's service fees of a settlement bill are booked (a 团长's service fee, "
             "transaction fees). Default: the commission account.")
    promotion_fee_account_id = fields.Many2one(
        "account.account", string="Promotion Fee Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Where promotion fees of a settlement bill are booked. Default: the commission account.")
    other_fee_account_id = fields.Many2one(
        "account.account", string="Other Fees Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Where any other amount the platform kept is booked. Default: the commission account.")
    settlement_imported_until = fields.Datetime(
        string="Settlements Imported Until", copy=False,
        help="The platform's bills are imported up to this time; the next import starts a day before it.")
    settlement_line_count = fields.Integer(compute="_compute_settlement_line_count")
    settlement_supported = fields.Boolean(compute="_compute_settlement_supported")

    def _compute_settlement_line_count(self):
        counts = dict(self.env["live.settlement.line"].sudo()._read_group(
            [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        for channel in self:
            channel.settlement_line_count = counts.get(channel, 0)

    @api.depends("platform")
    def _compute_settlement_supported(self):
        for channel in self:
            channel.settlement_supported = channel._settlement_client_class() is not None

    def _settlement_client_class(self):
        client_class = CLIENTS.get(self.platform)
        if client_class and client_class.list_settlements is not ApiClient.list_settlements:
            return client_class
        return None

    def _fee_account(self, kind):
        """The account of a fee kind (platforms.settlements.FEE_KINDS), else the
        commission account."""
        self.ensure_one()
        field = {"affiliate": "affiliate_fee_account_id", "service": "service_fee_account_id",
                 "promotion": "promotion_fee_account_id", "other": "other_fee_account_id"}[kind]
        return self[field] or self._commission_account()

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------
    def action_import_settlements(self):
        unsupported = self.filtered(lambda channel: not channel.settlement_supported)
        if unsupported:
            raise UserError(_("Channel %s cannot import settlement bills: its platform's bill API is not "
                              "supported.", ", ".join(unsupported.mapped("name"))))
        self._enqueue_settlement_import()
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "message": _("The settlement bills are imported in the background.")}}

    def action_view_settlements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_settlement_line")
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"default_channel_id": self.id}
        return action

    @api.model
    def _cron_import_settlements(self):
        channels = self.search([("active", "=", True)]).filtered("settlement_supported")
        channels._enqueue_settlement_import()

    def _enqueue_settlement_import(self):
        for channel in self:
            # One import per channel waiting at a time: a click while one waits adds nothing.
            channel.with_delay(
                channel=f"root.live_commerce.{channel.platform}", max_retries=8,
                identity_key=f"live_commerce_settlements:{channel.id}",
                description=_("Import settlement bills of %s", channel.name),
            )._job_import_settlements()

    def _job_import_settlements(self):
        """The job: the bills settled since the last import, page by page, stored once
        per bill row, then matched with what the orders booked."""
        channel = self.sudo()
        channel.ensure_one()
        client = channel._api_client()
        if client is None or channel._settlement_client_class() is None:
            raise ApiError("permanent", _("Channel %s has no settlement bill API.", channel.name))
        now = fields.Datetime.now()
        since = (channel.settlement_imported_until - OVERLAP) if channel.settlement_imported_until \
            else now - FIRST_LOOKBACK
        Line = self.env["live.settlement.line"].sudo().with_company(channel.company_id)
        new = Line
        start = since
        while start < now:
            end = min(start + WINDOW, now)
            cursor, pages = None, 0
            while True:
                try:
                    page = client.list_settlements(_unix(start), _unix(end), cursor)
                except ApiError as exc:
                    if exc.kind in RETRY_SECONDS:
                        from odoo.addons.queue_job.exception import RetryableJobError
                        raise RetryableJobError(f"{channel.platform}: {exc.message}",
                                                seconds=exc.retry_after or RETRY_SECONDS[exc.kind]) from exc
                    raise
                new |= Line._store_rows(channel, page.rows)
                cursor, pages = page.cursor, pages + 1
                if not cursor or pages >= MAX_PAGES:
                    break
            start = end
        channel.settlement_imported_until = now
        # Rows of earlier imports still waiting for their order get another look.
        waiting = Line.search([("channel_id", "=", channel.id), ("state", "in", ("no_order", "difference"))])
        (new | waiting)._match()
        return _("Imported %(count)s settlement bill row(s) of %(channel)s.", count=len(new), channel=channel.name)
