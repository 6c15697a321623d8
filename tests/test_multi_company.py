from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from ..models.platforms.base import InboxEvent
from ..models.platforms.settlements import SettlementRow
from .common import GROUPS, LiveCommerceCase, generic_event

# Every model of the addon, and the core ones it puts live-commerce data on.
ISOLATED_MODELS = [
    "live.channel", "live.session", "live.session.product", "live.fan.identity", "live.event", "live.comment",
    "live.session.fan", "live.fan.stats", "live.channel.sku", "live.order.refund", "res.partner", "sale.order",
    "live.fan.rfm", "live.fan.lifecycle.log", "live.fan.consent", "live.fan.privacy.log", "live.fan.import.preset",
    "live.fan.category", "live.fan.merge.suggestion", "live.fan.tag.rule", "live.fan.tag.keyword", "live.fan.tag.reason",
    "live.message", "live.flow", "live.flow.step", "live.flow.enrollment", "live.session.presentation",
    "live.session.minute", "live.session.board", "live.carrier.code",
    "live.settlement.line",
]
# Models whose rows a salesperson reads only when they are theirs (and managers all
# of their companies'): isolated between companies in their own tests.
PER_SALESPERSON_MODELS = ["live.lead.sla"]  # tests/test_intent_sla.py


@tagged("post_install", "-at_install")
class TestMultiCompany(LiveCommerceCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.session_a = cls._make_session(cls.channel_a, "A show")
        cls.session_b = cls._make_session(cls.channel_b, "B show")
        cls.fan_a = cls._make_fan(cls.channel_a, "oid-a", "Fan of A")
        cls.fan_b = cls._make_fan(cls.channel_b, "oid-b", "Fan of B")
        cls.data = {"a": cls._company_data(cls.company_a, "a"), "b": cls._company_data(cls.company_b, "b")}

    @classmethod
    def _company_data(cls, company, suffix):
        """One record of every model in `company`, made the way production makes
        them: the processor applies pushes stored in the inbox."""
        relay = cls.env["live.channel"].create({
            "name": f"Relay {suffix}", "code": f"relay-{suffix}", "platform": "generic", "company_id": company.id})
        creds = cls.env["live.channel"]._webhook_credentials(relay.code)
        events = [generic_event(f"{suffix}-{kind}", kind, f"fan-{suffix}", room_id=f"room-{suffix}", **data)
                  for kind, data in (("fan.entered", {}), ("comment", {"content": f"hello from {suffix}"}),
                                     ("like", {"count": 3}))]
        # A company's own tag rule, applied by the processor after the batch.
        tag_rule = cls.env["live.fan.tag.rule"].create({
            "name": f"Greeters {suffix}", "kind": "comment_keywords", "company_id": company.id, "threshold": 1,
            "tag_id": cls.env["res.partner.category"].create({"name": f"Greeter {suffix}"}).id,
            "keyword_ids": [(0, 0, {"keyword": "hello", "weight": 1})]})
        Event = cls.env["live.event"]
        Event._store(creds, [InboxEvent.make(e["id"], e["type"], e, e["room_id"], e["occurred_at"]) for e in events])
        while Event._process_batch():
            pass
        cls.env.invalidate_all()  # the processor writes in SQL
        session = cls.env["live.session"].search([("channel_id", "=", relay.id)])
        product = cls.env["product.product"].create({"name": f"Scarf {suffix}", "company_id": company.id})
        session.product_line_ids = [(0, 0, {"product_id": product.id, "live_price": 10})]
        presentation = session.product_line_ids._start_presentation()  # the processor made the session live
        identity = cls.env["live.fan.identity"].search([("channel_id", "=", relay.id)])
        order = cls.env["sale.order"].create({
            "partner_id": identity.partner_id.id, "company_id": company.id, "user_id": False,
            "live_channel_id": relay.id, "live_session_id": session.id, "platform_order_ref": f"order-{suffix}"})
        # A paid order with a line: the fan's favourite category, recomputed as after a batch.
        cls.env["sale.order"].create({
            "partner_id": identity.partner_id.id, "company_id": company.id, "user_id": False,
            "live_channel_id": relay.id, "platform_order_ref": f"paid-{suffix}", "platform_paid_at": "2026-11-20 12:00:00",
            "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": 1, "price_unit": 10})]})
        cls.env["live.fan.rfm"]._recompute(company, identity.partner_id.ids)
        sku = cls.env["live.channel.sku"].create({"channel_id": relay.id, "platform_sku": f"sku-{suffix}",
                                                  "product_id": product.id})
        refund = cls.env["live.order.refund"].create({"order_id": order.id, "refund_ref": f"refund-{suffix}"})
        carrier_code = cls.env["live.carrier.code"].create({
            "platform": "douyin_shop", "code": f"code-{suffix}", "name": f"Carrier {suffix}", "company_id": company.id})
        # The processor recomputed the fan's figures after its batch; its stage did
        # not move yet (a passer-by), so its history gets a transition by hand.
        transition = cls.env["live.fan.lifecycle.log"].create({
            "partner_id": identity.partner_id.id, "company_id": company.id, "date": "2026-11-20",
            "stage_from": "passerby", "stage_to": "first_order"})
        consent = cls.env["live.fan.consent"].create({
            "partner_id": identity.partner_id.id, "channel_id": relay.id, "source": "live_room"})
        identity.partner_id.with_company(company)._live_export_file()
        log = cls.env["live.fan.privacy.log"].search([("partner_id", "=", identity.partner_id.id)])
        preset = cls.env["live.fan.import.preset"].create({
            "name": f"List of {suffix}", "company_id": company.id, "mapping": {"ID": "identity"}})
        pair = sorted((identity.partner_id | (cls.fan_a if suffix == "a" else cls.fan_b)).ids)
        suggestion = cls.env["live.fan.merge.suggestion"].create({
            "partner_a_id": pair[0], "partner_b_id": pair[1], "company_id": company.id, "reason": "nickname"})
        message = cls.env["live.message"].with_company(company)._send_batch(
            identity.partner_id, cls.env.ref("live_commerce_crm.mail_template_live_welcome"), kind="service")
        flow = cls.env["live.flow"].create({
            "name": f"Flow {suffix}", "company_id": company.id,
            "step_ids": [(0, 0, {"name": "Tag", "tag_ids": [(4, tag_rule.tag_id.id)]})]})
        flow._enroll(identity.partner_id)
        records = {
            "live.message": message,
            "live.flow": flow, "live.flow.step": flow.step_ids, "live.flow.enrollment": flow.enrollment_ids,
            "live.channel": relay, "live.session": session, "live.session.product": session.product_line_ids,
            "live.session.presentation": presentation,
            "live.session.minute": session.minute_ids,
            "live.session.board": cls.env["live.session.board"].search([("session_id", "=", session.id)]),
            "live.channel.sku": sku, "live.order.refund": refund, "live.carrier.code": carrier_code,
            "live.fan.identity": identity, "live.event": Event.search([("channel_id", "=", relay.id)]),
            "live.comment": session.comment_ids, "live.session.fan": session.audience_ids,
            "live.fan.stats": identity.partner_id.live_fan_stats_ids, "res.partner": identity.partner_id,
            "live.fan.rfm": identity.partner_id.live_fan_rfm_ids, "live.fan.lifecycle.log": transition,
            "sale.order": order, "live.fan.consent": consent, "live.fan.privacy.log": log,
            "live.fan.import.preset": preset,
            "live.fan.category": identity.partner_id.fan_favourite_category_ids,
            "live.fan.merge.suggestion": suggestion,
            "live.fan.tag.rule": tag_rule, "live.fan.tag.keyword": tag_rule.keyword_ids,
            "live.fan.tag.reason": identity.partner_id.live_tag_reason_ids,
            "live.settlement.line": cls.env["live.settlement.line"]._store_rows(
                relay, [SettlementRow(bill_ref=f"bill-{suffix}", order_ref=f"order-{suffix}")]),
        }
        for model, found in records.items():
            assert found and found.company_id == company, f"no {model} record in {company.name}"
        return records

    def test_every_model_is_isolated_between_companies(self):
        addon_models = {name for name, model in self.env.registry.items()
                        if name.startswith("live.") and not model._abstract and not model._transient}
        self.assertLessEqual(addon_models, set(ISOLATED_MODELS + PER_SALESPERSON_MODELS), "a new model: add it here")
        self.assertEqual(sorted(self.data["a"]), sorted(ISOLATED_MODELS))
        for user, own, other in [*((self.users[role], "a", "b") for role in GROUPS), (self.user_b, "b", "a")]:
            for model in ISOLATED_MODELS:
                with self.subTest(user=user.login, model=model):
                    mine, theirs = self.data[own][model], self.data[other][model]
                    if not self.env[model].with_user(user).has_access("read"):  # the privacy log: managers only
                        with self.assertRaises(AccessError):
                            self.env[model].with_user(user).search([])
                        continue
                    found = self.env[model].with_user(user).search([("id", "in", (mine | theirs).ids)])
                    self.assertEqual(sorted(found.ids), sorted(mine.ids), f"{user.login} reads {model}")
                    with self.assertRaises(AccessError):
                        theirs.with_user(user).read(["display_name"])

    def test_company_a_cannot_see_company_b_sessions(self):
        Session = self.env["live.session"].with_user(self.users["manager"])
        found = Session.search([("name", "in", ["A show", "B show"])])
        self.assertEqual(found, self.session_a.with_user(self.users["manager"]))
        with self.assertRaises(AccessError):
            self.session_b.with_user(self.users["manager"]).read(["name"])

    def test_company_a_cannot_see_company_b_fans(self):
        Partner = self.env["res.partner"].with_user(self.users["manager"])
        fans = Partner.search([("is_live_fan", "=", True), ("name", "like", "Fan of")])
        self.assertEqual(fans.ids, self.fan_a.ids)
        with self.assertRaises(AccessError):
            self.fan_b.with_user(self.users["manager"]).read(["name"])
        identities = self.env["live.fan.identity"].with_user(self.users["manager"]).search(
            [("value", "in", ["oid-a", "oid-b"])])
        self.assertEqual(identities.mapped("value"), ["oid-a"])

    def test_company_b_sees_its_own_data_only(self):
        user_b = self.user_b
        self.assertEqual(
            self.env["live.channel"].with_user(user_b).search([("code", "in", ["douyin-a", "wechat-b"])]).ids,
            self.channel_b.ids)
        with self.assertRaises(AccessError):
            self.fan_a.with_user(user_b).read(["name"])

    def test_session_cannot_use_another_company_host_channel(self):
        with self.assertRaises(UserError):
            self.env["live.session"].create({
                "name": "Mixed", "channel_id": self.channel_b.id,
                "product_line_ids": [(0, 0, {"product_id": self.env["product.product"].create({
                    "name": "A-only product", "company_id": self.company_a.id}).id})],
            })

    def test_order_cannot_point_to_another_company_channel(self):
        with self.assertRaises(UserError):
            self.env["sale.order"].create({
                "partner_id": self.fan_a.id, "company_id": self.company_a.id,
                "live_channel_id": self.channel_b.id,
            })

    def test_identity_cannot_belong_to_another_company_fan(self):
        with self.assertRaises(UserError):
            self.env["live.fan.identity"].create({
                "partner_id": self.fan_a.id, "channel_id": self.channel_b.id, "value": "oid-mixed"})
