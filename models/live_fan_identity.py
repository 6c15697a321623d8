from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .live_channel import PLATFORM_SELECTION

IDENTITY_TYPES = [
    ("open_id", "Open ID"),
    ("sec_openid", "Secure Open ID (Douyin live)"),
    ("union_id", "Union ID (WeChat)"),
    ("buyer_open_id", "Buyer Open ID"),
    ("user_id", "User ID"),
    ("phone_hash", "Phone Hash"),
]

# Identity types whose value belongs to one app/shop: unique per channel. The
# others (union_id, phone_hash) hold across a platform's apps: unique per platform
# and company.
CHANNEL_SCOPED_TYPES = ("open_id", "sec_openid", "buyer_open_id", "user_id")


class LiveFanIdentity(models.Model):
    _name = "live.fan.identity"
    _description = "Fan Platform Identity"
    _order = "partner_id, platform, id"
    _rec_name = "value"
    _check_company_auto = True

    # check_company: a fan of one company cannot carry another company's identity
    # (the fan's company, when set, is the identity's).
    partner_id = fields.Many2one(
        "res.partner", string="Fan", required=True, ondelete="cascade", index=True, check_company=True)
    platform = fields.Selection(PLATFORM_SELECTION, required=True)
    channel_id = fields.Many2one(
        "live.channel", index=True, check_company=True, ondelete="cascade",
        help="Set for identities that only mean something inside one shop or app (open ids).")
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company)
    identity_type = fields.Selection(IDENTITY_TYPES, string="Type", required=True, default="open_id")
    value = fields.Char(required=True, index=True)
    nickname = fields.Char()
    # What the platform sent; never typed by users (see _check_avatar_url_source).
    avatar_url = fields.Char(string="Avatar URL", readonly=True)
    first_seen = fields.Datetime(default=fields.Datetime.now, readonly=True)

    def init(self):
        # Two partial unique indexes implement "unique per channel, or per platform
        # when the identity is not tied to a channel"; a plain constraint cannot.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS live_fan_identity_channel_value_uniq
                ON live_fan_identity (channel_id, identity_type, value)
             WHERE channel_id IS NOT NULL;
            CREATE UNIQUE INDEX IF NOT EXISTS live_fan_identity_platform_value_uniq
                ON live_fan_identity (company_id, platform, identity_type, value)
             WHERE channel_id IS NULL
        """)

    @api.onchange("channel_id")
    def _onchange_channel_id(self):
        if self.channel_id:
            self.platform = self.channel_id.platform
            self.company_id = self.channel_id.company_id

    @api.constrains("channel_id", "platform", "company_id")
    def _check_channel_consistency(self):
        for identity in self.filtered("channel_id"):
            if identity.channel_id.platform != identity.platform:
                raise ValidationError(_(
                    "The identity %(value)s is on %(platform)s but its channel %(channel)s is not.",
                    value=identity.value, platform=identity.platform, channel=identity.channel_id.name))

    @api.constrains("channel_id", "identity_type")
    def _check_scope(self):
        for identity in self:
            if identity.identity_type in CHANNEL_SCOPED_TYPES and not identity.channel_id:
                raise ValidationError(_(
                    "A %(type)s identity only means something inside one shop: set its channel.",
                    type=dict(IDENTITY_TYPES)[identity.identity_type]))

    @api.model_create_multi
    def create(self, vals_list):
        channel_ids = {vals["channel_id"] for vals in vals_list if vals.get("channel_id")}
        channels = {channel.id: channel for channel in self.env["live.channel"].browse(channel_ids)}
        for vals in vals_list:
            channel = channels.get(vals.get("channel_id"))
            if channel:
                vals.setdefault("platform", channel.platform)
                vals.setdefault("company_id", channel.company_id.id)
        return super().create(vals_list)
