import re

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from .platforms import Credentials

# Platform keys: shared by channels, fan identities and the webhook adapters.
PLATFORM_SELECTION = [
    ("douyin_shop", "Douyin Shop"),
    ("kuaishou_shop", "Kuaishou Shop"),
    ("wechat_channels_shop", "WeChat Channels Shop"),
    ("tiktok_shop", "TikTok Shop"),
    ("douyin_live", "Douyin Live (room data)"),
    ("generic", "Generic (documented JSON)"),
]

# Outbound API hosts as published by each platform; overridable per channel so a
# private gateway or a local test server can stand in.
DEFAULT_API_BASE_URL = {
    "douyin_shop": "https://openapi-fxg.jinritemai.com",
    "kuaishou_shop": "https://openapi.kwaixiaodian.com",
    "wechat_channels_shop": "https://api.weixin.qq.com",
    "tiktok_shop": "https://open-api.tiktokglobalshop.com",
    "douyin_live": "https://developer.toutiao.com",
}

CODE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{1,62}$")
MANAGER_GROUP = "live_commerce_crm.group_live_manager"


class LiveChannel(models.Model):
    _name = "live.channel"
    _description = "Live Commerce Channel"
    _inherit = ["mail.thread"]
    _order = "sequence, name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(
        required=True, copy=False, tracking=True,
        help="Short unique identifier used in the webhook URL: lowercase letters, digits, '-' and '_'.")
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    color = fields.Integer()
    platform = fields.Selection(PLATFORM_SELECTION, required=True, default="douyin_shop", tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    shop_id = fields.Char(
        string="Platform Shop ID",
        help="The shop or account id on the platform, as the platform shows it. When set, the webhook refuses "
             "pushes signed for another shop: Douyin Shop checks each message's shop_id, Kuaishou the seller "
             "id, TikTok Shop the shop_id of the notification.")

    # Credentials. Only managers read them; the webhook and API code reads them as superuser.
    app_key = fields.Char(string="App Key", groups=MANAGER_GROUP, copy=False)
    app_secret = fields.Char(string="App Secret", groups=MANAGER_GROUP, copy=False)
    token = fields.Char(string="Token", groups=MANAGER_GROUP, copy=False,
                        help="WeChat: the Token configured for message push.")
    encoding_aes_key = fields.Char(string="EncodingAESKey", groups=MANAGER_GROUP, copy=False,
                                   help="WeChat: the 43-character message encryption key.")
    message_secret = fields.Char(string="Message Secret", groups=MANAGER_GROUP, copy=False,
                                 help="Kuaishou: the Base64 message encryption key.")
    api_base_url = fields.Char(
        string="API Base URL", compute="_compute_api_base_url", store=True, readonly=False,
        help="Base URL of the platform's order API. Change it only to go through a gateway.")

    warehouse_id = fields.Many2one("stock.warehouse", string="Warehouse", check_company=True)
    pricelist_id = fields.Many2one("product.pricelist", string="Pricelist", check_company=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    source_id = fields.Many2one(
        "utm.source", string="UTM Source", ondelete="restrict",
        help="Source written on the orders and sessions of this channel.")

    session_channel_id = fields.Many2one(
        "live.channel", string="Attach Sessions To", check_company=True,
        domain="[('id', '!=', id)]",
        help="For room-data channels (Douyin live): the shop channel whose sessions the room's "
             "comments, likes and gifts belong to. Empty: this channel's own sessions.")
    webhook_url = fields.Char(string="Webhook URL", compute="_compute_webhook_url")
    webhook_rejected_count = fields.Integer(
        string="Rejected Pushes", readonly=True, copy=False,
        help="Pushes refused for a bad signature or credentials since the channel was created.")
    webhook_last_rejected_at = fields.Datetime(string="Last Rejected Push", readonly=True, copy=False)
    session_ids = fields.One2many("live.session", "channel_id", string="Sessions")
    session_count = fields.Integer(compute="_compute_counts")
    fan_count = fields.Integer(compute="_compute_counts")

    _sql_constraints = [
        ("code_unique", "unique(code)", "The channel code is used in the webhook URL and must be unique."),
    ]

    @api.constrains("code")
    def _check_code(self):
        for channel in self:
            if not CODE_PATTERN.match(channel.code or ""):
                raise ValidationError(_(
                    "The channel code '%(code)s' must be 2 to 63 characters: lowercase letters, "
                    "digits, '-' or '_', starting with a letter or digit.", code=channel.code))

    @api.depends("platform")
    def _compute_api_base_url(self):
        for channel in self:
            channel.api_base_url = DEFAULT_API_BASE_URL.get(channel.platform, False)

    @api.depends("code")
    def _compute_webhook_url(self):
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for channel in self:
            channel.webhook_url = channel.code and f"{base_url}/live_commerce/webhook/{channel.code}"

    def _compute_counts(self):
        sessions = dict(self.env["live.session"]._read_group(
            [("channel_id", "in", self.ids)], ["channel_id"], ["__count"]))
        fans = dict(self.env["live.fan.identity"]._read_group(
            [("channel_id", "in", self.ids)], ["channel_id"], ["partner_id:count_distinct"]))
        for channel in self:
            channel.session_count = sessions.get(channel, 0)
            channel.fan_count = fans.get(channel, 0)

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # _webhook_credentials
        missing_source = [vals for vals in vals_list if not vals.get("source_id")]
        if missing_source:
            sources = self.env["utm.source"].sudo().create(
                [{"name": vals.get("name") or vals.get("code")} for vals in missing_source])
            for vals, source in zip(missing_source, sources):
                vals["source_id"] = source.id
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()  # _webhook_credentials
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        # The inbox has no foreign key to its channel (see live.event.channel_id).
        self.env["live.event"].flush_model()
        self.env.cr.execute("DELETE FROM live_event WHERE channel_id = ANY(%s)", [self.ids])
        self.env["live.event"].invalidate_model()
        return super().unlink()

    @api.model
    @tools.ormcache("code")
    def _webhook_credentials(self, code):
        """What the webhook needs to authenticate a push, cached per code.

        Called as superuser by the controller; an immutable value so the cache can
        be shared between requests. The body limit rides along: it is a system
        parameter, whose changes clear this cache too, and reading it on its own
        would be a second cache lookup per push.
        """
        channel = self.sudo().with_context(active_test=True).search([("code", "=", code)], limit=1)
        if not channel:
            return None
        return Credentials(
            id=channel.id, code=channel.code, platform=channel.platform, company_id=channel.company_id.id,
            app_key=channel.app_key, app_secret=channel.app_secret, token=channel.token,
            encoding_aes_key=channel.encoding_aes_key, message_secret=channel.message_secret,
            shop_id=channel.shop_id or None, max_body_bytes=self.env["live.event"]._max_body_bytes())

    @api.model
    def _count_rejected_push(self, channel_id):
        self.env.cr.execute("""
            UPDATE live_channel
               SET webhook_rejected_count = coalesce(webhook_rejected_count, 0) + 1,
                   webhook_last_rejected_at = now() AT TIME ZONE 'UTC'
             WHERE id = %s
        """, [channel_id])

    def action_view_sessions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_session")
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"default_channel_id": self.id}
        return action

    def action_view_fans(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_fan")
        action["domain"] = [("live_identity_ids.channel_id", "=", self.id)]
        return action
