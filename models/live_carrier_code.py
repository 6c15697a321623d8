from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .platforms.orders import ApiError

SHIP_PLATFORMS = [
    ("douyin_shop", "Douyin Shop"),
    ("kuaishou_shop", "Kuaishou Shop"),
    ("wechat_channels_shop", "WeChat Channels Shop"),
    ("tiktok_shop", "TikTok Shop"),
]


class LiveCarrierCode(models.Model):
    """Which company code a platform knows an Odoo carrier by. Users maintain it;
    *Load Carrier Codes* on a channel fills it from the platform's company list."""
    _name = "live.carrier.code"
    _description = "Platform Carrier Code"
    _order = "platform, name"

    platform = fields.Selection(SHIP_PLATFORMS, required=True)
    code = fields.Char(string="Company Code", required=True,
                       help="The platform's code of the carrier: Douyin company_code, WeChat delivery_id, "
                            "Kuaishou expressCode, TikTok shipping_provider_id.")
    name = fields.Char(string="Platform Name", required=True)
    carrier_id = fields.Many2one("delivery.carrier", string="Odoo Carrier", check_company=True,
                                 help="Deliveries with this carrier are uploaded with this code.")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)

    _sql_constraints = [
        ("code_unique", "unique(company_id, platform, code)", "This company code is already listed for the platform."),
    ]

    @api.constrains("carrier_id", "platform", "company_id")
    def _check_one_code_per_carrier(self):
        for row in self.filtered("carrier_id"):
            if self.search_count([("id", "!=", row.id), ("carrier_id", "=", row.carrier_id.id),
                                  ("platform", "=", row.platform), ("company_id", "=", row.company_id.id)]):
                raise UserError(_("Carrier %(carrier)s already has a company code on this platform.",
                                  carrier=row.carrier_id.name))

    @api.model
    def _code_for(self, platform, carrier, company):
        return self.sudo().search([("platform", "=", platform), ("carrier_id", "=", carrier.id),
                                   ("company_id", "=", company.id)], limit=1).code

    @api.model
    def _load_from_platform(self, channel):
        """Add the platform's carriers not listed yet (matched to an Odoo carrier of the
        same name when there is one): the number added."""
        client = channel._api_client()
        if client is None:
            raise UserError(_("Channel %s has no order API.", channel.name))
        try:
            listed = client.list_carriers()
        except ApiError as exc:
            raise UserError(_("The platform did not give its carrier list: %s", exc.message)) from None
        known = set(self.search([("platform", "=", channel.platform),
                                 ("company_id", "=", channel.company_id.id)]).mapped("code"))
        Carrier = self.env["delivery.carrier"]
        vals_list = []
        for code, name in listed:
            if code in known:
                continue
            known.add(code)
            carrier = Carrier.search([("name", "=ilike", name), ("company_id", "in", (False, channel.company_id.id))],
                                     limit=1)
            vals_list.append({"platform": channel.platform, "code": code, "name": name,
                              "carrier_id": carrier.id or False, "company_id": channel.company_id.id})
        self.create(vals_list)
        return len(vals_list)
