import logging
import re
import time
from datetime import datetime, timezone

import psycopg2.errors

from odoo import SUPERUSER_ID, _, api, fields, models, tools
from odoo.exceptions import ValidationError

from .platforms import Credentials
from .platforms.orders import CLIENTS, ApiSettings, Token, TokenStore

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
STAMP_EVERY = 1.0  # seconds between two writes of a channel's last rejection, per process
_last_stamp = {}  # (database, channel id) -> time.monotonic() of this process's last write

_logger = logging.getLogger(__name__)


COUNT_REJECTED = """
    WITH stamped AS (
        UPDATE live_channel SET webhook_last_rejected_at = now() AT TIME ZONE 'UTC'
         WHERE %(stamp)s AND id = (SELECT id FROM live_channel WHERE id = %(id)s FOR UPDATE SKIP LOCKED)
        RETURNING id)
    SELECT nextval(%(sequence)s::regclass), (SELECT count(*) FROM stamped)
"""


class UnknownChannel(Exception):
    """Raised inside the cached lookup so that a miss is not cached."""


def _rejected_sequence(channel_id):
    # Counting rejected pushes must cost an unauthenticated caller no lock and no
    # transaction to retry: a PostgreSQL sequence per channel is a counter that
    # nextval() moves outside any transaction, without a row lock.
    return f"live_channel_rejected_{int(channel_id)}"


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
    # Order API tokens: written by the API clients (ChannelTokenStore), in their own
    # transaction, and by a manager after authorizing the app for the shop.
    api_access_token = fields.Char(string="API Access Token", groups=MANAGER_GROUP, copy=False,
                                   help="The access token of the order API, renewed automatically.")
    api_token_expires_at = fields.Datetime(string="Access Token Expires", groups=MANAGER_GROUP, copy=False)
    api_refresh_token = fields.Char(
        string="API Refresh Token", groups=MANAGER_GROUP, copy=False,
        help="Given when the shop authorizes the app (not used by WeChat, whose token comes from the App Key "
             "and App Secret). Kuaishou issues a new one at each refresh.")
    api_refresh_expires_at = fields.Datetime(string="Refresh Token Expires", groups=MANAGER_GROUP, copy=False)
    api_sign_secret = fields.Char(string="Sign Secret", groups=MANAGER_GROUP, copy=False,
                                  help="Kuaishou: the signSecret of the app, apart from its App Secret.")
    api_shop_cipher = fields.Char(string="Shop Cipher", groups=MANAGER_GROUP, copy=False,
                                  help="TikTok Shop: the shop_cipher of the authorized shop.")

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
        string="Rejected Pushes", compute="_compute_webhook_rejected_count",
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

    def _compute_webhook_rejected_count(self):
        counts = {}
        if self.ids:
            self.env.cr.execute("SELECT sequencename, last_value FROM pg_sequences WHERE sequencename = ANY(%s)",
                                [[_rejected_sequence(channel_id) for channel_id in self.ids]])
            counts = dict(self.env.cr.fetchall())
        for channel in self:
            channel.webhook_rejected_count = counts.get(_rejected_sequence(channel.id) if channel.id else None) or 0

    def init(self):
        # Channels created before rejections were counted by sequences keep their count.
        self.env.cr.execute("SELECT id FROM live_channel")
        self._create_rejected_sequences([channel_id for (channel_id,) in self.env.cr.fetchall()])
        self.env.cr.execute("""
            SELECT 1 FROM information_schema.columns
             WHERE table_name = 'live_channel' AND column_name = 'webhook_rejected_count'""")
        if self.env.cr.fetchone():
            self.env.cr.execute("SELECT id, webhook_rejected_count FROM live_channel WHERE webhook_rejected_count > 0")
            for channel_id, count in self.env.cr.fetchall():
                self.env.cr.execute("SELECT setval(%s::regclass, %s)", [_rejected_sequence(channel_id), count])
            self.env.cr.execute("ALTER TABLE live_channel DROP COLUMN webhook_rejected_count")

    def _create_rejected_sequences(self, channel_ids):
        for channel_id in channel_ids:
            self.env.cr.execute(f"CREATE SEQUENCE IF NOT EXISTS {_rejected_sequence(channel_id)}")

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # _webhook_credentials
        missing_source = [vals for vals in vals_list if not vals.get("source_id")]
        if missing_source:
            sources = self.env["utm.source"].sudo().create(
                [{"name": vals.get("name") or vals.get("code")} for vals in missing_source])
            for vals, source in zip(missing_source, sources):
                vals["source_id"] = source.id
        channels = super().create(vals_list)
        self._create_rejected_sequences(channels.ids)
        return channels

    def write(self, vals):
        self.env.registry.clear_cache()  # _webhook_credentials
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        # The inbox has no foreign key to its channel (see live.event.channel_id).
        self.env["live.event"].flush_model()
        self.env.cr.execute("DELETE FROM live_event WHERE channel_id = ANY(%s)", [self.ids])
        self.env["live.event"].invalidate_model()
        ids = self.ids
        result = super().unlink()
        for channel_id in ids:
            self.env.cr.execute(f"DROP SEQUENCE IF EXISTS {_rejected_sequence(channel_id)}")
        return result

    @api.model
    def _webhook_credentials(self, code):
        """What the webhook needs to authenticate a push, or None for an unknown code.

        Known codes are cached (shared by the server's workers and requests);
        unknown ones are not: a flood of made-up codes would evict everyone's
        entries from Odoo's shared cache. They cost one indexed lookup each.
        """
        if not CODE_PATTERN.match(code or ""):
            return None
        try:
            return self._webhook_credentials_known(code)
        except UnknownChannel:
            return None

    @api.model
    @tools.ormcache("code")
    def _webhook_credentials_known(self, code):
        """Called as superuser by the controller; an immutable value so the cache can
        be shared between requests. The body limit rides along: it is a system
        parameter, whose changes clear this cache too, and reading it on its own
        would be a second cache lookup per push.
        """
        channel = self.sudo().with_context(active_test=True).search([("code", "=", code)], limit=1)
        if not channel:
            raise UnknownChannel(code)
        return Credentials(
            id=channel.id, code=channel.code, platform=channel.platform, company_id=channel.company_id.id,
            app_key=channel.app_key, app_secret=channel.app_secret, token=channel.token,
            encoding_aes_key=channel.encoding_aes_key, message_secret=channel.message_secret,
            shop_id=channel.shop_id or None, max_body_bytes=self.env["live.event"]._max_body_bytes())

    @api.model
    def _count_rejected_push(self, channel_id):
        """Count a push refused for its credentials, from the webhook request.

        The count is the channel's sequence; the time of the last rejection is
        written at most once a second per process, skipped when another request
        holds the row. Committed on its own (the webhook's connections), never
        retried, never waited for.
        """
        key = (self.env.cr.dbname, channel_id)
        now = time.monotonic()
        stamp = now - _last_stamp.get(key, -STAMP_EVERY) >= STAMP_EVERY
        if stamp:
            _last_stamp[key] = now
        sequence = _rejected_sequence(channel_id)
        Event = self.env["live.event"]
        try:
            try:
                Event._execute_committed(COUNT_REJECTED, {"id": channel_id, "stamp": stamp, "sequence": sequence})
            except psycopg2.errors.UndefinedTable:
                # A channel inserted without the ORM (a data import in SQL).
                try:
                    Event._execute_committed(f"CREATE SEQUENCE IF NOT EXISTS {sequence}", ())
                except psycopg2.errors.UniqueViolation:
                    pass  # IF NOT EXISTS is not atomic: a concurrent rejection created it first
                Event._execute_committed(COUNT_REJECTED, {"id": channel_id, "stamp": stamp, "sequence": sequence})
        except psycopg2.Error as exc:  # the refusal stands whatever happens to its count
            _logger.warning("Could not count a rejected push on channel %s: %s", channel_id, exc)

    def _api_client(self, session=None):
        """The platform's order API client for this channel (models/platforms/orders.py),
        None for platforms without one (generic, Douyin live). Reads the credentials as
        superuser: callers are jobs and managers' actions, never the webhook."""
        self.ensure_one()
        client_class = CLIENTS.get(self.platform)
        if client_class is None:
            return None
        channel = self.sudo()
        timeout = float(self.env["ir.config_parameter"].sudo().get_param("live_commerce_crm.api_timeout_seconds", 10))
        settings = ApiSettings(
            base_url=channel.api_base_url or DEFAULT_API_BASE_URL.get(channel.platform, ""),
            app_key=channel.app_key or None, app_secret=channel.app_secret or None, shop_id=channel.shop_id or None,
            sign_secret=channel.api_sign_secret or None, shop_cipher=channel.api_shop_cipher or None, timeout=timeout)
        return client_class(settings, ChannelTokenStore(self.env.registry, channel.id), session=session)

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


class ChannelTokenStore(TokenStore):
    """A channel's order API token, read and written in a transaction of its own.

    A refreshed token must outlive the job that refreshed it, even when that job
    rolls back: the platform has already retired the old one (Kuaishou's refresh
    token dies with its use). So `save` commits on a new cursor from the registry,
    and `load` reads what is committed (not the caller's snapshot, which may predate
    another worker's refresh). The caller must not hold a lock on the channel's row.
    """
    LOCK_TIMEOUT = "10s"  # never wait for ever on a row the caller itself may hold

    def __init__(self, registry, channel_id):
        self.registry = registry
        self.channel_id = channel_id

    def load(self):
        with self.registry.cursor() as cr:
            cr.execute("""SELECT api_access_token, api_token_expires_at, api_refresh_token, api_refresh_expires_at
                            FROM live_channel WHERE id = %s""", [self.channel_id])
            row = cr.fetchone()
        if not row or not (row[0] or row[2]):
            return None
        access, expires, refresh, refresh_expires = row
        return Token(access or "", _unix(expires) or 0.0, refresh or None, _unix(refresh_expires))

    def save(self, token):
        with self.registry.cursor() as cr:
            cr.execute(f"SET LOCAL lock_timeout = '{self.LOCK_TIMEOUT}'")
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["live.channel"].browse(self.channel_id).write({
                "api_access_token": token.access_token,
                "api_token_expires_at": _utc(token.expires_at),
                "api_refresh_token": token.refresh_token or False,
                "api_refresh_expires_at": _utc(token.refresh_expires_at),
            })
        _logger.info("live.channel %s: order API token renewed, valid until %s", self.channel_id,
                     _utc(token.expires_at))


def _utc(unix_seconds):
    """Unix seconds -> the naive UTC datetime Odoo stores (whole seconds)."""
    if not unix_seconds:
        return False
    return datetime.fromtimestamp(int(unix_seconds), timezone.utc).replace(tzinfo=None)


def _unix(value):
    """A naive UTC datetime Odoo stores -> unix seconds (None for none)."""
    return int(value.replace(tzinfo=timezone.utc).timestamp()) if value else None
