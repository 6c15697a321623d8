"""The demo story (demo/*.xml), called by the demo data at installation only.

A live-stream shop in China: its own company in yuan, with the Chinese chart of
accounts and VAT included in prices, a warehouse with stock, and orders that come
the way production's do: generic order events of the middleware channel, stored in
the inbox (live.event._store) and applied by the processor (_process_batch), in
waves as they would arrive (paid, then shipped, completed, refunded), with the
comments, likes and gifts of the audience around them.
"""
import logging
import random
import time
from datetime import timedelta, timezone

from odoo import Command, _, api, fields, models

from .platforms.base import InboxEvent
from .platforms.settlements import SettlementRow

_logger = logging.getLogger(__name__)

XMLID = "live_commerce_crm.%s"
STOCK = {"demo_product_scarf": 300, "demo_product_thermos": 6, "demo_product_mask": 60, "demo_product_nuts": 40,
         "demo_product_earbuds": 300, "demo_product_tea": 300}
EMBROIDERED_CODE = "LC-SCARF-EMB"


class LiveEvent(models.Model):
    """The demo's setup and story hang on the inbox they go through: a model of the
    addon's own, so that no other model's name becomes a term of its translation."""
    _inherit = "live.event"

    @api.model
    def _live_demo_setup_accounting(self, company_id):
        """The demo company's chart of accounts: China's (l10n_cn) when it is installed
        beside the addon, as `make run` and `make test` do; else the generic one, the
        company staying in its currency."""
        company = self.env["res.company"].browse(company_id)
        currency = company.currency_id
        if self.env["ir.module.module"].search_count([("name", "=", "l10n_cn"), ("state", "=", "installed")]):
            template = "cn"
        else:
            template = "generic_coa"
            _logger.warning(
                "Demo company %s: l10n_cn is not installed, so it gets the generic chart of accounts (kept in %s, "
                "its sales tax included in prices). Install l10n_cn with the addon for the Chinese chart and 13%% "
                "VAT (make run and make test do).", company.name, currency.name)
        # try_loading() warns whenever the registry is not fully loaded, which is always
        # so for demo data; what a chart needs (account, stock_account, mrp) is loaded
        # before this addon.
        self.env["account.chart.template"]._load(template, company, install_demo=False)
        if company.currency_id != currency:  # the generic chart is in dollars
            company.currency_id = currency
        tax = company.account_sale_tax_id
        _logger.info("Demo company %s: chart of accounts %s, sales tax %s %s", company.name, company.chart_template,
                     tax.name, "included in prices" if tax.price_include else "excluded from prices")

    @api.model
    def _live_demo_prefer_lang(self, user_ids, lang):
        """The demo users read `lang` when the database has it active."""
        if self.env["res.lang"].search_count([("code", "=", lang)]):
            self.env["res.users"].browse(user_ids).write({"lang": lang})
        else:
            _logger.info("Demo users keep the database's language: %s is not loaded", lang)

    @api.model
    def _live_demo_stock(self, company_id):
        """The demo goods in stock in the company's warehouse, and a scarf embroidered
        to order: routes MTO and Manufacture, a bill of materials on the plain scarf.
        That product is made here, not in product_demo.xml, because the names of XML
        records are terms of the addon's translation (i18n/zh_CN.po), and this one
        reads as it is in both languages."""
        company = self.env["res.company"].browse(company_id)
        warehouse = self.env.ref(XMLID % "demo_warehouse")
        Quant = self.env["stock.quant"].with_context(allowed_company_ids=company.ids, inventory_mode=True)
        Quant.create([{"product_id": self.env.ref(XMLID % xmlid).id, "location_id": warehouse.lot_stock_id.id,
                       "inventory_quantity": quantity} for xmlid, quantity in STOCK.items()]).action_apply_inventory()
        mto = self.env.ref("stock.route_warehouse0_mto")
        mto.active = True  # archived by Odoo until a company replenishes on order
        scarf = self.env.ref(XMLID % "demo_product_scarf")
        embroidered = self.env["product.product"].with_context(allowed_company_ids=company.ids).create({
            "name": "定制刺绣围巾 Embroidered Cashmere Scarf", "default_code": EMBROIDERED_CODE, "list_price": 459.0,
            "type": "consu", "is_storable": True, "invoice_policy": "delivery", "company_id": company.id,
            "route_ids": [Command.set([mto.id, self.env.ref("mrp.route_warehouse0_manufacture").id])],
        })
        self.env["mrp.bom"].create({
            "product_tmpl_id": embroidered.product_tmpl_id.id, "product_qty": 1, "company_id": company.id,
            "bom_line_ids": [Command.create({"product_id": scarf.id, "product_qty": 1})],
        })

    @api.model
    def _live_demo_story(self):
        """Push the demo story through the middleware channel (generic format) and
        apply it wave after wave, as the processor would when it arrives."""
        relay = self.env.ref(XMLID % "demo_channel_middleware")
        past = self.env.ref(XMLID % "demo_session_past")
        live = self.env.ref(XMLID % "demo_session_live")
        embroidered = self.env["product.product"].search([("default_code", "=", EMBROIDERED_CODE)], limit=1)
        live.product_line_ids = [Command.create({"product_id": embroidered.id, "live_price": 399.0,
                                                 "sequence": 40})]
        # The platforms' commission is a selling expense (销售费用) in the Chinese chart.
        commission = self.env["account.chart.template"].with_company(relay.company_id).ref(
            "l10n_cn_account_5601", raise_if_not_found=False)
        if commission:
            self.env["live.channel"].search([("company_id", "=", relay.company_id.id), ("commission_rate", ">", 0)]) \
                .commission_account_id = commission
        story = _Story(self.env, relay)
        story.audience(past, minutes=180, seed=11)
        story.audience(live, minutes=50, seed=12, size=8)
        for session, numbers in EARLIER_AUDIENCES.items():
            story.audience(self.env.ref(XMLID % session), minutes=120, seed=len(numbers), people=numbers)
        story.orders(past, live)
        creds = self.env["live.channel"]._webhook_credentials(relay.code)
        for wave in story.waves:
            self._store(creds, [InboxEvent.make(e["id"], e["type"], e, e.get("room_id"), e["occurred_at"])
                                for e in wave])
            while self._process_batch():
                pass
            self.env.invalidate_all()
        left = self.search([("channel_id", "=", relay.id), ("state", "!=", "done")])
        if left:
            _logger.warning("Demo story: %s event(s) of %s were not applied: %s", len(left), relay.code,
                            "; ".join(f"{event.message_id}: {event.error}" for event in left[:5]))
        self._live_demo_order_history(relay.company_id)
        self._live_demo_settlements(relay)
        # What the nightly recompute would find: every demo fan's figures, segment,
        # lifecycle stage and value layer (the processor did the buyers already).
        self.env["live.fan.rfm"]._recompute(relay.company_id)
        # And the tag rules' nightly run: tags with the reasons for them.
        self.env["live.fan.tag.runner"]._apply(relay.company_id)
        orders = self.env["sale.order"].search([("live_channel_id", "=", relay.id)])
        _logger.info("Demo story: %s events applied, %s orders (%s)", story.count, len(orders),
                     ", ".join(f"{state} {len(group)}" for state, group in orders.grouped("platform_status").items()))

    def _live_demo_settlements(self, relay):
        """The platform's bill for three completed orders, as the settlement import
        stores and matches it: one as booked, one with a service fee Odoo did not
        know (booked to the channel's fee account), one whose commission differs
        (listed for a manager, not booked)."""
        refs = ["6919477890601602733", "6919482209716623481", "6919483378120045126"]
        orders = self.env["sale.order"].search([("live_channel_id", "=", relay.id), ("platform_order_ref", "in", refs),
                                                ("platform_status", "=", "completed")])
        rows = []
        for ref, fee, commission_gap in zip(refs, (0, 300, 100), (0, 0, 100)):
            order = orders.filtered(lambda o, ref=ref: o.platform_order_ref == ref)
            invoice = order.invoice_ids.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")[:1]
            if not invoice:
                continue
            income = round(invoice.amount_total * 100)
            commission = round(income * relay.commission_rate / 100) + commission_gap
            rows.append(SettlementRow(
                bill_ref=f"demo-bill-{ref}", order_ref=ref, settled_at=time.time() - 86400, income=income,
                commission=commission, fees={"service": fee} if fee else {},
                settle_amount=income - commission - fee))
        Line = self.env["live.settlement.line"].sudo().with_company(relay.company_id)
        Line._store_rows(relay, rows)._match()

    def _live_demo_order_history(self, company):
        """Orders the fans placed in the shop's own channels before it went live,
        confirmed in Odoo (a service: nothing to ship): with the live orders of the
        story, they put demo fans in every RFM segment and lifecycle stage (fixed
        thresholds, the demo shop having fewer than 200 buyers)."""
        product = self.env.ref(XMLID % "demo_product_styling")
        SaleOrder = self.env["sale.order"].with_company(company).with_context(mail_create_nolog=True,
                                                                             mail_notrack=True)
        now = fields.Datetime.now()
        for number, orders in ORDER_HISTORY.items():
            fan = self.env.ref(XMLID % f"demo_fan_{number}")
            for days_ago, amount in orders:
                order = SaleOrder.create({
                    "partner_id": fan.id, "company_id": company.id, "origin": _("Shop history"),
                    "order_line": [Command.create({"product_id": product.id, "product_uom_qty": 1,
                                                   "price_unit": amount})],
                })
                order.action_confirm()
                # Confirming dates an order today: it was placed then.
                order.date_order = now - timedelta(days=days_ago, hours=int(number) % 10)


# Who watched the earlier streams and never bought: passers-by ten days later,
# dormant after a month and a half.
EARLIER_AUDIENCES = {
    "demo_session_earlier": ("12", "13", "14", "15", "04"),
    "demo_session_month": ("31", "32", "33", "34", "05", "07"),
}
# Orders before the live shop: {fan: [(days ago, amount)]}. With the story's live
# orders: 00 Champions and VIP, 11 Champions, 12 Loyal, 02 Potential Loyalist,
# 28 New (its one live order), 04 Promising, 05 At Risk and 07 Needs Attention
# (both dormant), 08 Hibernating and 16 Lost (both churned).
ORDER_HISTORY = {
    "00": [(20, 1200), (50, 1500), (90, 900), (150, 1100), (200, 800)],
    "11": [(30, 200), (70, 150), (120, 180), (180, 160)],
    "12": [(12, 40), (40, 40), (80, 40), (100, 40), (130, 40)],
    "02": [(15, 680), (100, 300)],
    "04": [(11, 60), (50, 80)],
    "05": [(70, 900), (200, 400)],
    "07": [(65, 30), (90, 30), (120, 30), (150, 30), (200, 30)],
    "08": [(100, 120)],
    "16": [(400, 500)],
}

# Who buys and speaks in the demo: fans of demo/fan_demo.xml, known to the middleware by
# their Douyin open id, and newcomers the processor makes fans of.
BUYERS = ("00", "01", "03", "06", "09", "10", "11", "19", "21", "24", "28", "30")
NEWCOMERS = (("dy_oid_5e1f0a7c2b91", "新来的小鹿"), ("dy_oid_8d44c3b0e7a2", "路过的糖糖"))
COMMENTS = ["主播好", "上链接", "这个多少钱", "有优惠券吗", "围巾什么颜色", "已拍", "包邮吗", "好看", "求讲解3号",
            "还有货吗", "能便宜点吗", "质量怎么样", "第一次来", "关注了", "666", "太划算了", "什么时候发货",
            "保温杯还有吗", "坚果是今年的新货吗", "面膜适合敏感肌吗"]
ADDRESSES = [
    {"name": "张*", "phone": "138****5678", "province": "浙江省", "city": "杭州市", "district": "西湖区",
     "street": "文三路**号", "zip": "310000"},
    {"name": "李*", "phone": "139****2046", "province": "上海市", "city": "上海市", "district": "浦东新区",
     "street": "世纪大道***号"},
    {"name": "王*", "phone": "186****7311", "province": "广东省", "city": "深圳市", "district": "南山区",
     "street": "科技园南路**号"},
    {"name": "陈*", "phone": "137****9920", "province": "四川省", "city": "成都市", "district": "武侯区",
     "street": "天府大道***号"},
]
SCARF, CUP, MASK, NUTS, EARBUDS, TEA = "LC-SCARF-01", "LC-CUP-02", "LC-MASK-03", "LC-NUTS-04", "LC-EAR-05", "LC-TEA-06"


def _line(sku, quantity, price):
    return {"sku": sku, "quantity": quantity, "unit_price": price}


class _Story:
    """The events of the demo, in waves: 0 what happens during the streams, then
    later shipments, completions and after-sales."""

    def __init__(self, env, relay):
        self.env, self.relay = env, relay
        self.waves = [[], [], [], []]
        self.count = 0
        self.now = fields.Datetime.now()
        self.fans = {}
        for number in BUYERS:
            self._known(number)
        for open_id, nickname in NEWCOMERS:
            self.fans[open_id] = (open_id, nickname)

    def _known(self, number):
        if number in self.fans:
            return
        identity = self.env.ref(XMLID % f"demo_fan_{number}_oid")
        self.fans[number] = (identity.value, identity.nickname)
        # The middleware knows the Douyin shop's buyers by the same open id.
        self.env["live.fan.identity"].create({"partner_id": identity.partner_id.id, "channel_id": self.relay.id,
                                              "identity_type": "open_id", "value": identity.value,
                                              "nickname": identity.nickname, "first_seen": identity.first_seen})

    def _at(self, start, minutes):
        """Unix seconds, never in the future."""
        when = min(start + timedelta(minutes=minutes), self.now - timedelta(seconds=30))
        return int(when.replace(tzinfo=timezone.utc).timestamp())

    def event(self, wave, event_type, session, minutes, fan, event_id=None, **data):
        self.count += 1
        value, nickname = self.fans[fan]
        self.waves[wave].append({
            "id": event_id or f"demo-{self.count:04d}-{event_type}", "type": event_type,
            "occurred_at": self._at(session.date_start, minutes), "room_id": session.room_id,
            "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": value, "nickname": nickname},
            "data": data,
        })

    def audience(self, session, minutes, seed, size=None, people=None):
        """Fans enter, comment, like, send gifts, follow, share and leave."""
        rng = random.Random(seed)
        if people is None:
            people = list(self.fans)
            rng.shuffle(people)
        else:
            for number in people:
                self._known(number)
        for fan in people[:size]:
            enter = rng.uniform(0, minutes / 3)
            leave = rng.uniform(enter + 10, minutes)
            self.event(0, "fan.entered", session, enter, fan)
            for _ in range(rng.randint(1, 4)):
                self.event(0, "comment", session, rng.uniform(enter, leave), fan, content=rng.choice(COMMENTS))
            self.event(0, "like", session, rng.uniform(enter, leave), fan, count=rng.randint(5, 120))
            if rng.random() < 0.35:
                gift, value = rng.choice([("rose", 100), ("heart", 10), ("rocket", 50000)])
                count = rng.randint(1, 5)
                self.event(0, "gift", session, rng.uniform(enter, leave), fan, gift_id=gift, count=count,
                           value=value * count)
            if rng.random() < 0.3:
                self.event(0, "follow", session, rng.uniform(enter, leave), fan)
            if rng.random() < 0.2:
                self.event(0, "share", session, rng.uniform(enter, leave), fan)
            if session.state != "live":
                self.event(0, "fan.left", session, leave, fan, watch_seconds=int((leave - enter) * 60))

    def order(self, session, ref, fan, minutes, lines, wave=0, status="order.paid", address=0, **money):
        goods = sum(line["quantity"] * line["unit_price"] for line in lines)
        money.setdefault("total", goods + money.get("shipping_fee", 0) - money.get("discount", 0)
                         - money.get("platform_discount", 0))
        if status == "order.paid":
            money["paid_at"] = self._at(session.date_start, minutes)
        self.event(wave, status, session, minutes, fan, event_id=f"demo-{ref}-{status}", order_ref=ref,
                   lines=lines, currency="CNY", address=ADDRESSES[address], **money)

    def follow(self, wave, event_type, session, ref, fan, minutes, **data):
        self.event(wave, event_type, session, minutes, fan, event_id=f"demo-{ref}-{event_type}-{wave}",
                   order_ref=ref, **data)

    def orders(self, past, live):
        """The reviewed session: orders in every state; the live one: paid orders,
        one made to order."""
        ship = {"carrier": "顺丰速运 SF Express"}
        # Paid, shipped, completed: invoiced and paid into the settlement journal, less commission.
        self.order(past, "6919477890601602733", "00", 25, [_line(SCARF, 1, 31910)])
        self.follow(1, "order.shipped", past, "6919477890601602733", "00", 300, tracking_ref="SF1400098217734", **ship)
        self.follow(2, "order.completed", past, "6919477890601602733", "00", 1200)
        # Shipped in two parcels, the second not yet: the masks left, the cups wait.
        self.order(past, "6919478367549954787", "11", 32, [_line(CUP, 2, 10310), _line(MASK, 3, 15910)], address=1)
        self.follow(1, "order.shipped", past, "6919478367549954787", "11", 310, carrier="中通快递 ZTO Express",
                    tracking_ref="ZTO75381846201", lines=[{"sku": MASK, "quantity": 3}])
        # Completed, then refunded in part without a return (a damaged box): a credit note.
        self.order(past, "6919424008774577061", "21", 40, [_line(MASK, 3, 15910)], address=2)
        self.follow(1, "order.shipped", past, "6919424008774577061", "21", 305, tracking_ref="SF1400098217801", **ship)
        self.follow(2, "order.completed", past, "6919424008774577061", "21", 1210)
        self.follow(3, "refund.succeeded", past, "6919424008774577061", "21", 1260, refund_ref="AS70012001",
                    amount=3000, return_goods=False, reason="外包装破损 Damaged box")
        # Completed, then one scarf returned and refunded: a credit note and a return to receive.
        self.order(past, "6919440638974635071", "00", 55, [_line(NUTS, 1, 13430), _line(SCARF, 2, 31910)])
        self.follow(1, "order.shipped", past, "6919440638974635071", "00", 320, tracking_ref="SF1400098218012", **ship)
        self.follow(2, "order.completed", past, "6919440638974635071", "00", 1220)
        self.follow(3, "refund.succeeded", past, "6919440638974635071", "00", 1270, refund_ref="AS70012002",
                    amount=31910, return_goods=True, lines=[{"sku": SCARF, "quantity": 1}],
                    reason="颜色不喜欢 Did not like the colour")
        # Refunded before it shipped: the order is cancelled and its stock released.
        self.order(past, "6919478907062472030", "11", 61, [_line(SCARF, 2, 31910)], address=1)
        self.follow(1, "refund.succeeded", past, "6919478907062472030", "11", 90, refund_ref="AS70012003",
                    amount=63820, reason="拍错了 Ordered by mistake")
        # Never paid: the quotation is cancelled.
        self.order(past, "6919450185932525289", "21", 70, [_line(CUP, 3, 10310), _line(MASK, 1, 15910)],
                   status="order.created", address=2)
        self.follow(1, "order.cancelled", past, "6919450185932525289", "21", 100, reason="超时未支付 Not paid in time")
        # Shipped.
        self.order(past, "6919475568966452510", "10", 78, [_line(MASK, 1, 15910)], address=3)
        self.follow(1, "order.shipped", past, "6919475568966452510", "10", 330, tracking_ref="YT6620193874452",
                    carrier="圆通速递 YTO Express")
        # Completed, with the seller's and the platform's discounts.
        self.order(past, "6919481230948812345", "19", 85, [_line(SCARF, 1, 31910), _line(NUTS, 1, 13430)],
                   discount=2000, platform_discount=1500)
        self.follow(1, "order.shipped", past, "6919481230948812345", "19", 335, tracking_ref="SF1400098218377", **ship)
        self.follow(2, "order.completed", past, "6919481230948812345", "19", 1230)
        # Completed, with a shipping fee.
        self.order(past, "6919482209716623481", "28", 92, [_line(MASK, 2, 15910)], shipping_fee=800, address=3)
        self.follow(1, "order.shipped", past, "6919482209716623481", "28", 340, tracking_ref="SF1400098218455", **ship)
        self.follow(2, "order.completed", past, "6919482209716623481", "28", 1240)
        # The last thermos cups: completed...
        self.order(past, "6919483378120045126", "24", 101, [_line(CUP, 2, 10310)], address=2)
        self.follow(1, "order.shipped", past, "6919483378120045126", "24", 345, tracking_ref="SF1400098218521", **ship)
        self.follow(2, "order.completed", past, "6919483378120045126", "24", 1250)
        # ...and one more order than there were cups: confirmed, short of stock.
        self.order(past, "6919484406651289930", "10", 118, [_line(CUP, 4, 10310)], wave=1, address=3)
        # What the buyer paid is not what the lines add up to: flagged with the difference.
        self.order(past, "6919485512093376215", "30", 130, [_line(NUTS, 2, 13430)], total=27860)
        # Paid and shipped.
        self.order(past, "6919486620187734402", "09", 140, [_line(SCARF, 1, 31910)], address=1)
        self.follow(1, "order.shipped", past, "6919486620187734402", "09", 350, tracking_ref="SF1400098218690", **ship)

        # After-sales still open, for customer service (After-sales, the service
        # workbench): deadlines from now, one due within the day, one past, one later.
        def deadline(hours):
            return int((self.now + timedelta(hours=hours)).replace(tzinfo=timezone.utc).timestamp())
        self.follow(3, "refund.requested", past, "6919481230948812345", "19", 1300, refund_ref="AS70012004",
                    amount=31910, kind="return_refund", return_goods=True, stage="seller", status="待商家处理",
                    lines=[{"sku": SCARF, "quantity": 1}], deadline=deadline(20), reason="尺码不合适 Wrong size")
        self.follow(3, "refund.requested", past, "6919482209716623481", "28", 1310, refund_ref="AS70012005",
                    amount=1500, kind="refund", stage="seller", status="待商家处理", deadline=deadline(-2),
                    reason="少发赠品 Gift missing")
        self.follow(2, "refund.requested", past, "6919486620187734402", "09", 1320, refund_ref="AS70012006",
                    amount=0, kind="exchange", stage="seller_receipt", status="待商家收货", deadline=deadline(72),
                    return_carrier="顺丰速运 SF Express", return_tracking_ref="SF1400098219930",
                    lines=[{"sku": SCARF, "quantity": 1}], reason="换颜色 Another colour")

        # On air: paid, the stock reserved; the embroidered scarf starts a manufacturing order.
        self.order(live, "6919490011223344556", "03", 8, [_line(SCARF, 1, 31910)])
        self.order(live, "6919490122334455667", "06", 15, [_line(EARBUDS, 1, 23910), _line(TEA, 1, 20630)],
                   platform_discount=1000, address=2)
        self.order(live, "6919490233445566778", "09", 22, [_line(TEA, 2, 20630)], address=1)
        self.order(live, "6919490344556677889", "30", 31, [_line(EMBROIDERED_CODE, 1, 39900)], address=3)
        self.order(live, "6919490455667788990", "01", 40, [_line(EARBUDS, 2, 23910)])
        self.order(live, "6919490566778899001", NEWCOMERS[0][0], 44, [_line(SCARF, 1, 31910)], address=2)
