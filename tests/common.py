from odoo.tests import TransactionCase, new_test_user

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
