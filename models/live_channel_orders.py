from odoo import _, api, fields, models
from odoo.exceptions import UserError


class LiveChannel(models.Model):
    """How a channel's orders go through the company: warehouse, taxes, settlement
    and commission. A channel created with only its platform and credentials works:
    what is not set comes from the company's defaults, made on first use."""
    _inherit = "live.channel"

    tax_ids = fields.Many2many(
        "account.tax", "live_channel_tax_rel", "channel_id", "tax_id", string="Taxes in Platform Prices",
        check_company=True, domain="[('type_tax_use', '=', 'sale'), ('price_include', '=', True)]",
        help="The taxes included in the prices the platform sells at (VAT in China): the order lines get them, so "
             "the order total stays what the buyer paid. Empty: the platform's prices carry no tax for Odoo.")
    settlement_journal_id = fields.Many2one(
        "account.journal", string="Settlement Journal", check_company=True,
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Where the platform pays the shop: completed orders' invoices are paid into it. Made on first use.")
    commission_rate = fields.Float(
        string="Commission (%)", digits=(5, 2),
        help="The platform's commission on an order's total, booked when the order completes.")
    commission_account_id = fields.Many2one(
        "account.account", string="Commission Account", check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_direct_cost'))]",
        help="Where the platform's commission is booked. Default: the company's first expense account.")
    sku_ids = fields.One2many("live.channel.sku", "channel_id", string="SKU Mappings")
    order_count = fields.Integer(compute="_compute_order_count")

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        for channel, vals in zip(channels, vals_list):
            if "tax_ids" not in vals:
                channel.tax_ids = channel._default_taxes()
        return channels

    def _default_taxes(self):
        """The company's default sales tax, when it is included in prices (Chinese
        retail prices include VAT: Settings › Default Sales Price Include)."""
        tax = self.company_id.account_sale_tax_id
        return tax if tax.price_include else self.env["account.tax"]

    @api.constrains("commission_rate")
    def _check_commission_rate(self):
        for channel in self:
            if not 0 <= channel.commission_rate < 100:
                raise UserError(_("The commission of channel %s must be between 0 and 100%%.", channel.name))

    def _compute_order_count(self):
        counts = dict(self.env["sale.order"].sudo()._read_group(
            [("live_channel_id", "in", self.ids)], ["live_channel_id"], ["__count"]))
        for channel in self:
            channel.order_count = counts.get(channel, 0)

    # ------------------------------------------------------------------
    # Defaults made on first use
    # ------------------------------------------------------------------
    def _order_warehouse(self):
        self.ensure_one()
        return self.warehouse_id or self.env["stock.warehouse"].sudo().search(
            [("company_id", "=", self.company_id.id)], limit=1)

    def _order_taxes(self):
        return self.tax_ids.filtered(lambda tax: tax.company_id == self.company_id)

    def _settlement_journal(self):
        """The channel's settlement journal, made (a bank journal of its own) the
        first time a completed order needs it."""
        self.ensure_one()
        if not self.settlement_journal_id:
            journal = self.env["account.journal"].sudo().with_company(self.company_id).create({
                "name": _("%s Settlement", self.name), "type": "bank",
                "code": self._free_journal_code(), "company_id": self.company_id.id,
            })
            self.sudo().settlement_journal_id = journal
        return self.settlement_journal_id

    def _free_journal_code(self):
        taken = set(self.env["account.journal"].sudo().with_context(active_test=False).search(
            [("company_id", "=", self.company_id.id)]).mapped("code"))
        return next(code for code in (f"LC{n}" for n in range(1, 1000)) if code not in taken)

    def _commission_account(self):
        self.ensure_one()
        if not self.commission_account_id:
            account = self.env["account.account"].sudo().search([
                *self.env["account.account"]._check_company_domain(self.company_id),
                ("account_type", "=", "expense")], order="code", limit=1)
            if not account:
                raise UserError(_("Channel %s needs a commission account: the company has no expense account.",
                                  self.name))
            self.sudo().commission_account_id = account
        return self.commission_account_id

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_orders")
        action["domain"] = [("live_channel_id", "=", self.id)]
        return action


class LiveChannelSku(models.Model):
    """Which product a platform SKU is. Looked up by the platform's SKU id, then by
    the seller's own code; a product whose internal reference is that code needs no
    mapping. Nothing else is guessed."""
    _name = "live.channel.sku"
    _description = "Platform SKU Mapping"
    _order = "channel_id, platform_sku, merchant_code"
    _check_company_auto = True

    channel_id = fields.Many2one("live.channel", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    platform_sku = fields.Char(string="Platform SKU ID", help="The SKU id the platform shows on its orders.")
    merchant_code = fields.Char(string="Merchant Code", help="The seller's own code of the SKU on the platform.")
    product_id = fields.Many2one("product.product", required=True, check_company=True, ondelete="restrict",
                                 domain="[('sale_ok', '=', True)]")

    _sql_constraints = [
        ("sku_unique", "unique(channel_id, platform_sku)", "This platform SKU is already mapped on the channel."),
        ("code_unique", "unique(channel_id, merchant_code)", "This merchant code is already mapped on the channel."),
        ("sku_or_code", "CHECK(platform_sku IS NOT NULL OR merchant_code IS NOT NULL)",
         "A mapping needs the platform SKU id or the merchant code."),
    ]
