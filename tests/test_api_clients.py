"""What the four order API clients share, each against the platform sandbox speaking
its platform's API: tokens refreshed ahead of expiry and once after the platform's
token error (saved on the channel), the platform's errors mapped to ApiError kinds,
timeouts and unreachable hosts as transient. The platform-specific mapping of orders
and after-sales, and each signature's known-answer vectors, are in
test_api_<platform>.py.
"""
import time

import requests

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from ..models.platforms import get_adapter
from ..models.platforms.douyin_shop import DouyinShopClient
from ..models.platforms.kuaishou_shop import KuaishouShopClient
from ..models.platforms.orders import ApiError
from ..models.platforms.tiktok_shop import TiktokShopClient
from ..models.platforms.wechat_channels_shop import WechatChannelsShopClient
from .common import ApiSandboxCase, utc

PLATFORMS = ("douyin_shop", "kuaishou_shop", "wechat_channels_shop", "tiktok_shop")
ORDER_REF = {"douyin_shop": "6919412345678901234", "kuaishou_shop": "2410301234567890123",
             "wechat_channels_shop": "3729145627718289152", "tiktok_shop": "576684019603311365"}
REFUND_REF = {"douyin_shop": "7260541234567890123", "kuaishou_shop": "2410309876543210987",
              "wechat_channels_shop": "4200000123456789012", "tiktok_shop": "4035318504387641111"}
TOKEN_ERRORS = {"token_expired", "token_invalid"}


@tagged("post_install", "-at_install")
class TestApiClients(ApiSandboxCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channels = {platform: cls._api_channel(platform, "api-" + platform.replace("_", "-"))
                        for platform in PLATFORMS}
        for platform in PLATFORMS:
            cls.sandbox.add_order(platform, ORDER_REF[platform], buyer="buyer-1",
                                  lines=[{"sku": "1001", "quantity": 2, "unit_price": 1990}])
            cls.sandbox.add_refund(platform, REFUND_REF[platform], ORDER_REF[platform], 1990, lines=[["1001", 1]])

    def _each(self):
        for platform in PLATFORMS:
            with self.subTest(platform=platform):
                self.sandbox.reset_calls()
                yield platform, self.channels[platform]

    def _fetch(self, channel):
        return self._client(channel).fetch_order(ORDER_REF[channel.platform])

    def _error(self, channel, fetch=None):
        with self.assertRaises(ApiError) as caught:
            (fetch or self._fetch)(channel)
        return caught.exception

    def test_channel_gives_its_platforms_client(self):
        expected = {"douyin_shop": DouyinShopClient, "kuaishou_shop": KuaishouShopClient,
                    "wechat_channels_shop": WechatChannelsShopClient, "tiktok_shop": TiktokShopClient}
        for platform, channel in self._each():
            client = self._client(channel)
            self.assertIsInstance(client, expected[platform])
            self.assertEqual((client.settings.base_url, client.settings.app_key), (self.sandbox.url, channel.app_key))
        for platform in ("generic", "douyin_live"):
            channel = self.env["live.channel"].create({"name": platform, "code": f"api-none-{platform}",
                                                       "platform": platform})
            self.assertIsNone(channel._api_client())

    def test_generic_push_names_its_order_room_data_none(self):
        generic, room = get_adapter("generic"), get_adapter("douyin_live")
        self.assertEqual(generic.order_reference("refund.succeeded", {"id": "e1", "data": {
            "order_ref": 3729145627718289152, "refund_ref": "r-1"}}), ("3729145627718289152", "r-1"))
        self.assertEqual(generic.order_reference("order.paid", {"id": "e2", "data": {"order_ref": "o-2"}}),
                         ("o-2", None))
        self.assertEqual(room.order_reference("comment", {"msg_id": "c1"}), (None, None))

    def test_sandbox_fed_over_http_by_another_process(self):
        url = self.sandbox.url + "/_sandbox"
        token = requests.post(url + "/apps", json={"platform": "tiktok_shop", "app_key": "sim-app",
                                                   "app_secret": "sim-secret", "access_token": "sim-token"}).json()
        self.assertEqual(token["access_token"], "sim-token", "a channel's own token, registered")
        self.assertTrue(token["refresh_token"])
        answer = requests.post(url + "/orders", json={
            "platform": "tiktok_shop", "order_ref": "576684019603399999", "currency": "USD", "buyer": "sim-buyer",
            "lines": [{"sku": "2001", "quantity": 2, "unit_price": 1250}]})
        self.assertEqual(answer.json(), {"ok": True})
        requests.post(url + "/failures", json={"ref": "576684019603399999", "kind": "transient"})
        channel = self.env["live.channel"].create({
            "name": "sim", "code": "api-sim", "platform": "tiktok_shop", "app_key": "sim-app",
            "app_secret": "sim-secret", "api_base_url": self.sandbox.url, "api_access_token": "sim-token",
            "api_token_expires_at": utc(token["expires_at"]), "api_refresh_token": token["refresh_token"]})
        self.assertEqual(self._error(channel, lambda c: self._client(c).fetch_order("576684019603399999")).kind,
                         "transient")
        order = self._client(channel).fetch_order("576684019603399999")
        self.assertEqual([(line.sku, line.quantity, line.unit_price) for line in order.lines], [("2001", 2, 1250)])
        calls = requests.get(url + "/calls").json()["calls"]
        self.assertEqual([(call["ref"], call["outcome"]) for call in calls],
                         [("576684019603399999", "transient"), ("576684019603399999", "ok")])
        self.assertEqual(requests.post(url + "/orders", json={"platform": "nowhere"}).status_code, 400)

    def test_token_refreshed_before_it_expires(self):
        for platform, channel in self._each():
            old_access, old_refresh = self._stored_token(channel)
            # Both sides agree the token has a minute left: inside every client's margin.
            self.sandbox.tokens[old_access]["expires_at"] = time.time() + 60
            channel.api_token_expires_at = utc(time.time() + 60)
            self.assertEqual(self._fetch(channel).order_ref, ORDER_REF[platform])
            self.assertEqual(self._calls(channel=channel), [("token", "ok"), ("order", "ok")])
            access, refresh = self._stored_token(channel)
            self.assertNotEqual(access, old_access, "the new token is saved on the channel")
            self.assertEqual(self.sandbox.current_access_token(platform, channel.app_key)["token"], access)
            self.assertGreater(channel.sudo().api_token_expires_at, utc(time.time() + 3600))
            if platform != "wechat_channels_shop":
                self.assertTrue(refresh)

    def test_token_error_is_followed_by_exactly_one_refresh(self):
        for platform, channel in self._each():
            old_access, _refresh = self._stored_token(channel)
            self.sandbox.expire_access_tokens(platform)  # the channel still believes it valid
            self.assertEqual(self._fetch(channel).order_ref, ORDER_REF[platform])
            calls = self._calls(channel=channel)
            self.assertEqual(len(calls), 3, calls)
            self.assertIn(calls[0][1], TOKEN_ERRORS)
            self.assertEqual(calls[1:], [("token", "ok"), ("order", "ok")])
            self.assertNotEqual(self._stored_token(channel)[0], old_access)

    def test_token_refused_again_after_the_refresh_is_permanent(self):
        for platform, channel in self._each():
            self.sandbox.fail(ORDER_REF[platform], "token", times=2)
            error = self._error(channel)
            self.assertEqual(error.kind, "permanent")
            self.assertIn("authorize", error.message)
            self.assertEqual(len(self._calls("token", channel)), 1, "one refresh, no loop")

    def test_platform_errors_map_to_kinds(self):
        for platform, channel in self._each():
            for kind in ("rate_limit", "transient", "not_found", "permanent"):
                self.sandbox.fail(ORDER_REF[platform], kind)
                self.assertEqual(self._error(channel).kind, kind, kind)
                self.sandbox.fail(REFUND_REF[platform], kind)
                error = self._error(channel, lambda c: self._client(c).fetch_refund(REFUND_REF[c.platform]))
                self.assertEqual(error.kind, kind, f"{kind} (after-sale)")
            self.assertEqual(self._fetch(channel).order_ref, ORDER_REF[platform], "each failure was once")

    def test_unknown_ids_are_not_found(self):
        for platform, channel in self._each():
            self.assertEqual(self._error(channel, lambda c: self._client(c).fetch_order("1234567")).kind, "not_found")
            self.assertEqual(self._error(channel, lambda c: self._client(c).fetch_refund("7654321")).kind, "not_found")

    def test_rate_limit_of_the_platform(self):
        self.sandbox.rate_limit = 1  # calls per second and platform
        for platform, channel in self._each():
            self._fetch(channel)
            error = self._error(channel)
            self.assertEqual(error.kind, "rate_limit")
            if platform == "tiktok_shop":
                self.assertEqual(error.retry_after, 1, "HTTP 429 with its Retry-After")

    def test_stalled_answer_is_a_transient_timeout(self):
        self.env["ir.config_parameter"].set_param("live_commerce_crm.api_timeout_seconds", "0.5")
        for platform, channel in self._each():
            self.sandbox.fail(ORDER_REF[platform], "stall")
            started = time.monotonic()
            error = self._error(channel)
            self.assertEqual(error.kind, "transient")
            self.assertLess(time.monotonic() - started, 3, "the client's own timeout, not the sandbox's 5 s")
            self.assertIn("0.5 s", error.message)

    def test_unreachable_platform_is_transient(self):
        closed_port_url = "http://127.0.0.1:9"  # discard: nothing listens there
        for platform, channel in self._each():
            channel.api_base_url = closed_port_url
            self.assertEqual(self._error(channel).kind, "transient")

    def test_wrong_secret_is_permanent(self):
        # WeChat signs nothing: its secret only matters when it asks for a token.
        self.sandbox.expire_access_tokens("wechat_channels_shop")
        for platform, channel in self._each():
            channel.write({"app_secret": "rotated-secret", "api_sign_secret": "rotated-sign-secret"})
            error = self._error(channel)
            self.assertEqual(error.kind, "permanent", error.message)
            if platform == "wechat_channels_shop":
                self.assertEqual(self._calls("token", channel), [("token", "bad_credentials")])
            else:
                self.assertEqual(self._calls("order", channel), [("order", "signature")])

    def test_channel_without_token(self):
        for platform, channel in self._each():
            channel.write({"api_access_token": False, "api_refresh_token": False, "api_token_expires_at": False})
            if platform == "wechat_channels_shop":
                # The app's own token: App Key and App Secret are enough.
                self.assertEqual(self._fetch(channel).order_ref, ORDER_REF[platform])
                self.assertTrue(self._stored_token(channel)[0])
            else:
                error = self._error(channel)
                self.assertEqual(error.kind, "permanent")
                self.assertIn("authorize", error.message)
                self.assertFalse(self.sandbox.calls_to(platform))


@tagged("post_install", "-at_install")
class TestRefreshedTokenIsCommitted(TransactionCase):
    """Outside test mode: the refreshed token is committed on its own cursor and
    outlives the transaction of the job that refreshed it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from platform_sandbox import PlatformSandbox
        cls.sandbox = PlatformSandbox().start()
        cls.addClassCleanup(cls.sandbox.stop)

    def _committed(self, function):
        with self.registry.cursor() as cr:
            return function(api.Environment(cr, SUPERUSER_ID, {}))

    def test_refreshed_token_survives_the_callers_rollback(self):
        token = self.sandbox.add_app("kuaishou_shop", "commit-app", "commit-secret", sign_secret="commit-sign")
        self.sandbox.add_order("kuaishou_shop", "2410301234567890999", lines=[{"sku": "1", "quantity": 1,
                                                                              "unit_price": 100}])
        code = f"api-commit-{int(time.time() * 1000)}"
        channel_id = self._committed(lambda env: env["live.channel"].create({
            "name": code, "code": code, "platform": "kuaishou_shop", "app_key": "commit-app",
            "app_secret": "commit-secret", "api_sign_secret": "commit-sign", "api_base_url": self.sandbox.url,
            "api_access_token": token["access_token"], "api_token_expires_at": utc(time.time() + 60),
            "api_refresh_token": token["refresh_token"]}).id)

        def drop(env):
            channel = env["live.channel"].browse(channel_id)
            source = channel.source_id
            channel.unlink()
            source.unlink()
        self.addCleanup(self._committed, drop)

        with self.registry.cursor() as cr:  # the job: fetches (refreshing first), then fails
            order = api.Environment(cr, SUPERUSER_ID, {})["live.channel"].browse(channel_id)._api_client() \
                .fetch_order("2410301234567890999")
            cr.rollback()
        self.assertEqual(order.order_ref, "2410301234567890999")
        stored = self._committed(lambda env: env["live.channel"].browse(channel_id).read(
            ["api_access_token", "api_refresh_token"])[0])
        issued = self.sandbox.current_access_token("kuaishou_shop", "commit-app")["token"]
        self.assertEqual(stored["api_access_token"], issued)
        self.assertNotEqual(stored["api_refresh_token"], token["refresh_token"], "Kuaishou's new refresh token")
