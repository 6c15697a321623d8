import copy
import json
import time
import traceback
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlencode, urlparse

import requests

from odoo.tests import HttpCase, TransactionCase, common, new_test_user
from odoo.tests.common import _super_send, freeze_time
from odoo.tools.translate import code_translations

from odoo.addons.queue_job.controllers.main import RunJobController
from odoo.addons.queue_job.exception import RetryableJobError
from odoo.addons.queue_job.job import Job

from ..models.platforms import Credentials, get_adapter
from ..models.platforms.orders import TokenStore

GROUPS = {
    "manager": "live_commerce_crm.group_live_manager",
    "host": "live_commerce_crm.group_live_host",
    "field_controller": "live_commerce_crm.group_live_field_controller",
    "service": "live_commerce_crm.group_live_service",
    "user": "live_commerce_crm.group_live_user",
}


class LiveCommerceCase(TransactionCase):
    """Two companies, a channel in each, and one user per live-commerce role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env["res.company"].create({"name": "Shop A"})
        cls.company_b = cls.env["res.company"].create({"name": "Shop B"})
        cls.channel_a = cls.env["live.channel"].create({
            "name": "Douyin A", "code": "douyin-a", "platform": "douyin_shop",
            "company_id": cls.company_a.id, "app_key": "key-a", "app_secret": "secret-a",
        })
        cls.channel_b = cls.env["live.channel"].create({
            "name": "WeChat B", "code": "wechat-b", "platform": "wechat_channels_shop",
            "company_id": cls.company_b.id, "app_key": "key-b", "app_secret": "secret-b",
            "token": "token-b", "encoding_aes_key": "a" * 43,
        })
        cls.users = {
            role: cls._make_user(f"test_{role}", group, cls.company_a)
            for role, group in GROUPS.items()
        }
        cls.user_b = cls._make_user("test_manager_b", GROUPS["manager"], cls.company_b)

    @classmethod
    def _make_user(cls, login, group, company):
        return new_test_user(
            cls.env, login=login, groups=group, company_id=company.id, company_ids=[(6, 0, company.ids)])

    @classmethod
    def _make_fan(cls, channel, open_id, name=None, **partner_vals):
        return cls.env["res.partner"].create({
            "name": name or open_id,
            "company_id": channel.company_id.id,
            "live_identity_ids": [(0, 0, {
                "channel_id": channel.id, "identity_type": "open_id", "value": open_id,
            })],
            **partner_vals,
        })

    @classmethod
    def _make_session(cls, channel, name="Evening show", **vals):
        return cls.env["live.session"].create({
            "name": name, "channel_id": channel.id, "date_scheduled_start": "2026-11-20 12:00:00", **vals})


class WebhookCase(HttpCase):
    """Real HTTP requests against the real controller, signed the platform's way."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("live_commerce_crm.webhook_max_body_bytes", "65536")

    @classmethod
    def _channel(cls, platform, code, **vals):
        return cls.env["live.channel"].create({
            "name": code, "code": code, "platform": platform, "app_key": "app-key-" + code,
            "app_secret": "app-secret-" + code, **vals})

    @staticmethod
    def _creds(channel):
        return Credentials(
            id=channel.id, code=channel.code, platform=channel.platform, company_id=channel.company_id.id,
            app_key=channel.app_key, app_secret=channel.app_secret, token=channel.token,
            encoding_aes_key=channel.encoding_aes_key, message_secret=channel.message_secret,
            shop_id=channel.shop_id or None)

    def _push(self, channel, payload, headers=None, query=None, raw=None, sign=True, **sign_kwargs):
        """POST `payload` (JSON-encoded unless `raw` bytes are given) as the platform would."""
        body = raw if raw is not None else json.dumps(payload).encode()
        all_headers, all_query = {"Content-Type": "application/json"}, {}
        if sign:
            signed_headers, all_query, body = get_adapter(channel.platform).sign(self._creds(channel), body, **sign_kwargs)
            all_headers.update(signed_headers)
        all_headers.update(headers or {})
        all_query.update(query or {})
        url = f"/live_commerce/webhook/{channel.code}" + ("?" + urlencode(all_query) if all_query else "")
        return self.url_open(url, data=body, headers=all_headers, allow_redirects=False)

    def _events(self, channel):
        return self.env["live.event"].search([("channel_id", "=", channel.id)], order="id")

    def _process(self):
        """Run the processor until the inbox is empty (what the cron does)."""
        Event = self.env["live.event"]
        total = 0
        while claimed := Event._process_batch(limit=500):
            total += claimed
        self.env.invalidate_all()
        return total


def at(unix_seconds):
    """Freeze the clock at a unix time, for the test and the HTTP server's thread alike
    (replay windows of pushes signed at a fixed time)."""
    return freeze_time(datetime.fromtimestamp(unix_seconds, timezone.utc))


def generic_event(event_id, event_type, fan_id=None, room_id="room-1", occurred_at=None, **data):
    event = {"id": event_id, "type": event_type, "occurred_at": occurred_at or int(time.time()),
             "room_id": room_id, "data": data}
    if fan_id:
        event["fan"] = {"platform": "douyin_shop", "id_type": "open_id", "id": fan_id, "nickname": f"Nick {fan_id}"}
    return event


class SandboxMixin:
    """The platform sandbox (scripts/platform_sandbox.py) serving in the test process,
    and channels whose API Base URL points at it, authorized: their tokens are the
    ones the sandbox issued for their apps. For test classes in registry test mode
    (ApiSandboxCase, or an HttpCase): refreshed tokens are saved on a cursor of their
    own (ChannelTokenStore), which in test mode works inside the test's transaction."""
    platform = None

    @classmethod
    def _start_sandbox(cls):
        from platform_sandbox import PlatformSandbox  # scripts/, on PYTHONPATH under `make test`
        cls.sandbox = PlatformSandbox(stall_seconds=5).start()
        cls.addClassCleanup(cls.sandbox.stop)

    @classmethod
    def _api_channel(cls, platform, code, **vals):
        app_key, app_secret = f"{code}-app", f"{code}-secret"
        extra = {"sign_secret": f"{code}-sign" if platform == "kuaishou_shop" else None,
                 "shop_cipher": f"GCP_{code}" if platform == "tiktok_shop" else None}
        token = cls.sandbox.add_app(platform, app_key, app_secret, **extra)
        return cls.env["live.channel"].create({
            "name": code, "code": code, "platform": platform, "app_key": app_key, "app_secret": app_secret,
            "api_base_url": cls.sandbox.url, "api_sign_secret": extra["sign_secret"],
            "api_shop_cipher": extra["shop_cipher"], "api_access_token": token["access_token"],
            "api_token_expires_at": utc(token["expires_at"]), "api_refresh_token": token.get("refresh_token"),
            "api_refresh_expires_at": utc(token.get("refresh_expires_at")), **vals})

    @classmethod
    def _request_handler(cls, session, request, /, **kwargs):
        # Odoo's tests raise any timeout below 10 s to 10 s; the sandbox's requests keep
        # the client's own, so a stalled answer is a timeout of the client's length.
        if urlparse(request.url).hostname == "127.0.0.1":
            return _super_send(session, request, **kwargs)
        return super()._request_handler(session, request, **kwargs)

    def setUp(self):
        super().setUp()
        # Each test starts from the tokens the class began with: the channels' rows are
        # rolled back after each test, the sandbox's must follow (a Kuaishou refresh
        # token dies when it is used).
        cls = type(self)
        if "_sandbox_tokens" not in cls.__dict__:
            cls._sandbox_tokens = copy.deepcopy(self.sandbox.tokens)
        with self.sandbox.lock:
            self.sandbox.tokens.clear()
            self.sandbox.tokens.update(copy.deepcopy(cls._sandbox_tokens))
            self.sandbox.failures.clear()
            self.sandbox.rate_limit = None
        self.sandbox.reset_calls()

    def _client(self, channel=None):
        self.env.flush_all()  # the client reads the channel's token on a cursor of its own
        return (channel or self.channel)._api_client()

    def _calls(self, endpoint=None, channel=None):
        """(endpoint, outcome) of the sandbox's calls for the channel's platform, in order."""
        platform = (channel or self.channel).platform
        return [(call["endpoint"], call["outcome"]) for call in self.sandbox.calls_to(platform, endpoint)]

    def _stored_token(self, channel=None):
        """The channel's token as committed (the client saves it on its own cursor)."""
        self.env.invalidate_all()
        channel = (channel or self.channel).sudo()
        return channel.api_access_token, channel.api_refresh_token


class ApiSandboxCase(SandboxMixin, TransactionCase):
    """The sandbox and, when the class names its `platform`, a channel of it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry.enter_test_mode(cls.cr)
        cls.addClassCleanup(cls.registry.leave_test_mode)
        cls._start_sandbox()
        if cls.platform:
            cls.channel = cls._api_channel(cls.platform, "api-" + cls.platform.replace("_", "-"))


class MemoryTokenStore(TokenStore):
    def __init__(self, token=None):
        self.token, self.saved = token, []

    def load(self):
        return self.token

    def save(self, token):
        self.token = token
        self.saved.append(token)


class RecordingSession(requests.Session):
    """Records the requests a client sends and answers each with `answer` (JSON)."""

    def __init__(self, answer):
        super().__init__()
        self.answer, self.sent = answer, []

    def send(self, request, **kwargs):
        self.sent.append(request)
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response._content = json.dumps(self.answer).encode()
        response.headers["Content-Type"] = "application/json"
        return response

    def query(self, index=-1):
        return {key: values[-1] for key, values in
                parse_qs(urlparse(self.sent[index].url).query, keep_blank_values=True).items()}


def utc(unix_seconds):
    """Unix seconds as the naive UTC datetime Odoo stores."""
    return unix_seconds and datetime.fromtimestamp(int(unix_seconds), timezone.utc).replace(tzinfo=None)


def run_queue_job(env, record):
    """Run a stored job as queue_job's runner does (RunJobController._runjob): in a
    transaction of its own (a savepoint here: the test's transaction holds all),
    postponed on RetryableJobError, failed with its function's on_fail hook on any
    other error. Returns the error, None when the job is done."""
    env.flush_all()
    job = Job.load(env, record.uuid)
    job.set_started()
    job.store()
    try:
        with env.cr.savepoint():
            job.perform()
            env.flush_all()
    except RetryableJobError as err:
        env.invalidate_all()
        job.postpone(result=str(err), seconds=err.seconds)
        job.set_pending(reset_retry=False)
        job.store()
        return err
    except Exception as exc:  # noqa: BLE001 - what the runner does with it is the point
        env.invalidate_all()
        vals = RunJobController._get_failure_values(job, traceback.format_exc(), exc)
        job.set_failed(**vals)
        job.store()
        job.on_fail(vals)
        return exc
    job.set_done()
    job.store()
    env.invalidate_all()
    return None


# Odoo gives Chromium 10 s to start, then skips the tour (which our suite counts as
# a failure). A first start on a busy 2-core machine has been seen to take longer:
# wait up to a minute; a Chromium that never starts still fails the suite.
common.CHECK_BROWSER_ITERATIONS = max(common.CHECK_BROWSER_ITERATIONS, 600)


class TourCase(HttpCase):
    """Browser tours, with what their first page waits for made beforehand."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The first page of the first tour builds the web client's bundles, which
        # Chromium waits 20 s for at most; with CRM and SMS installed, a busy 2-core
        # machine needs longer. Build them here, unhurried (the server reads them
        # through the test cursor).
        bundle = cls.env["ir.qweb"]._get_asset_bundle("web.assets_web")
        bundle.css()
        bundle.js()
        # The demo users read Chinese: their first page also waits for the web
        # client's translations, which Odoo reads from every installed module's
        # zh_CN.po on first use (process-wide cache). Read them here too.
        for module in cls.registry._init_modules:
            code_translations.get_web_translations(module, "zh_CN")
