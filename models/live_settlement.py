"""The platforms' settlement bills, matched with what Odoo booked when the order
completed (models/live_order_importer.py `_pay`: the invoice paid into the channel's
settlement journal, less the commission at the channel's rate).

A bill row confirms those entries when what the merchant receives, plus the fees
Odoo did not know, is the payment booked, and its commission is the commission
booked: nothing is booked again. The fees Odoo did not know (talent commission,
service, promotion and other fees) are booked once, to the channel's fee accounts,
against the account the payment sits on: the platform kept that money. Any other
difference, or a bill of an order Odoo has not completed, is listed with its amounts
and left to a person (Book Correction books a commission difference on request).
"""
from collections import defaultdict

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from .live_channel import _utc
from .live_order_importer import _fen
from .platforms.settlements import FEE_KINDS

FEE_FIELDS = {"affiliate": "affiliate_fee", "service": "service_fee", "promotion": "promotion_fee",
              "other": "other_fee"}


class LiveSettlementLine(models.Model):
    _name = "live.settlement.line"
    _description = "Platform Settlement Bill Line"
    _order = "settled_at desc, id desc"
    _rec_name = "bill_ref"
    _check_company_auto = True

    channel_id = fields.Many2one("live.channel", required=True, index=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    bill_ref = fields.Char(string="Bill Row", required=True, readonly=True,
                           help="The platform's key of the bill row: a row imported again is this record.")
    order_ref = fields.Char(string="Platform Order", required=True, index=True, readonly=True)
    order_id = fields.Many2one("sale.order", string="Order", index=True, ondelete="set null", readonly=True,
                               check_company=True)
    invoice_id = fields.Many2one("account.move", string="Invoice", readonly=True, check_company=True)
    settled_at = fields.Datetime(string="Settled On", readonly=True)
    income = fields.Monetary(readonly=True, help="What the order earns the shop before the platform's cuts.")
    settle_amount = fields.Monetary(string="Merchant Receives", readonly=True)
    commission = fields.Monetary(string="Platform Commission", readonly=True)
    affiliate_fee = fields.Monetary(string="Talent Commission", readonly=True)
    service_fee = fields.Monetary(string="Service Fee", readonly=True)
    promotion_fee = fields.Monetary(string="Promotion Fee", readonly=True)
    other_fee = fields.Monetary(string="Other Fees", readonly=True)
    refund_amount = fields.Monetary(string="Refunded", readonly=True)
    refund_after_settlement = fields.Boolean(readonly=True,
                                             help="The row takes back, for a refund, money settled earlier.")
    booked_payment = fields.Monetary(string="Payment Booked", readonly=True,
                                     help="The order's payment into the settlement journal, as booked at completion.")
    booked_commission = fields.Monetary(string="Commission Booked", readonly=True)
    difference_amount = fields.Monetary(string="Difference", readonly=True,
                                        help="What the bill says the merchant receives, less what Odoo booked.")
    explanation = fields.Text(readonly=True)
    state = fields.Selection([
        ("no_order", "No Order Yet"),
        ("difference", "Difference"),
        ("matched", "Matched"),
        ("booked", "Fees Booked"),
        ("corrected", "Correction Booked"),
    ], required=True, default="no_order", index=True, readonly=True)
    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True, check_company=True,
                              help="The entry this row booked: its fees, or a correction.")

    _sql_constraints = [
        ("bill_ref_unique", "unique(channel_id, bill_ref)", "This bill row is already imported for the channel."),
    ]

    @api.depends("bill_ref", "order_ref")
    def _compute_display_name(self):
        for line in self:
            line.display_name = f"{line.order_ref} / {line.bill_ref}"

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_match_again(self):
        self.filtered(lambda line: line.state in ("no_order", "difference"))._match()

    def action_book_correction(self):
        """Book, on request, the commission of a difference row as the bill says: the
        difference between the bill's commission and the booked one, and the row's fees."""
        for line in self:
            if line.state != "difference" or line.refund_after_settlement or not line.invoice_id:
                raise UserError(_("Only a difference of a completed order's bill can be booked as a correction."))
            group = line._group()
            facts = group._booked(line.order_id, line.channel_id)
            if not facts["payments"]:
                raise UserError(_("Order %s is not paid into the settlement journal: complete it first.",
                                  line.order_ref))
            commission_gap = line.currency_id.round(sum(group.mapped("commission")) - facts["commission"])
            money_gap = line.currency_id.round(sum(group.mapped("settle_amount")) + group._fees_total()
                                               - facts["payment"])
            if line.currency_id.compare_amounts(money_gap, -commission_gap) != 0:
                raise UserError(_(
                    "Bill row %(row)s differs in more than the commission (the income differs by %(gap)s): "
                    "book it by hand.", row=line.bill_ref, gap=money_gap + commission_gap))
            extra = {"commission": commission_gap} if commission_gap else {}
            group.filtered(lambda l: not l.move_id)._book(facts, extra=extra, state="corrected")

    # ------------------------------------------------------------------
    # Import and matching
    # ------------------------------------------------------------------
    @api.model
    def _store_rows(self, channel, rows):
        """The new lines of `rows` (platforms.settlements.SettlementRow); a row stored
        before is left as it is."""
        if not rows:
            return self.browse()
        known = set(self.search([("channel_id", "=", channel.id),
                                 ("bill_ref", "in", [row.bill_ref for row in rows])]).mapped("bill_ref"))
        currencies = {}
        vals_list, seen = [], set()
        for row in rows:
            if row.bill_ref in known or row.bill_ref in seen:
                continue
            seen.add(row.bill_ref)
            currency = currencies.get(row.currency) or self._currency(row.currency, channel)
            currencies[row.currency] = currency

            def amount(fen, currency=currency):
                return _fen(fen, currency)
            refund = row.refund or (-row.settle_amount if row.refund_after_settlement else 0)
            vals = {"channel_id": channel.id, "currency_id": currency.id, "bill_ref": row.bill_ref,
                    "order_ref": row.order_ref, "income": amount(row.income),
                    "settle_amount": amount(row.settle_amount), "commission": amount(row.commission),
                    "refund_amount": amount(refund), "refund_after_settlement": row.refund_after_settlement,
                    "settled_at": _utc(row.settled_at)}
            for kind in FEE_KINDS:
                vals[FEE_FIELDS[kind]] = amount(row.fees.get(kind, 0))
            vals_list.append(vals)
        return self.create(vals_list)

    def _currency(self, code, channel):
        if not code or code == channel.company_id.currency_id.name:
            return channel.company_id.currency_id
        return self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1) \
            or channel.company_id.currency_id

    def _group(self):
        """Every row of the orders of these rows (a bill may settle an order in several rows)."""
        return self.search([("channel_id", "in", self.channel_id.ids), ("order_ref", "in", self.mapped("order_ref"))])

    def _fees_total(self):
        return sum(sum(line[FEE_FIELDS[kind]] for kind in FEE_KINDS) for line in self)

    def _match(self):
        if not self:
            return
        rows = self._group()
        orders = {(order.live_channel_id.id, order.platform_order_ref): order
                  for order in self.env["sale.order"].sudo().search([
                      ("live_channel_id", "in", rows.channel_id.ids),
                      ("platform_order_ref", "in", rows.mapped("order_ref"))])}
        groups = defaultdict(lambda: self.browse())
        for row in rows:
            groups[(row.channel_id.id, row.order_ref)] |= row
        for key, group in groups.items():
            order = orders.get(key)
            channel = group.channel_id.with_company(group.company_id)
            sales = group.filtered(lambda line: not line.refund_after_settlement)
            refunds = group - sales
            if not order:
                group.filtered(lambda line: line.state == "no_order").write({
                    "state": "no_order", "explanation": _(
                        "Odoo has no order %s of this channel: the bill waits for it (imported again daily).",
                        key[1])})
                continue
            if sales and not all(line.state in ("matched", "booked", "corrected") for line in sales):
                sales._match_sales(order, channel)
            if refunds and not all(line.state in ("matched", "corrected") for line in refunds):
                refunds._match_refunds(order)

    def _booked(self, order, channel):
        """What completion booked for `order`: its invoice, the payments into the
        channel's settlement journal and the commission written off with them."""
        invoices = order.invoice_ids.filtered(lambda move: move.move_type == "out_invoice" and move.state == "posted")
        payments = invoices._get_reconciled_payments().filtered(
            lambda payment: payment.journal_id == channel.settlement_journal_id) if channel.settlement_journal_id \
            else self.env["account.payment"]
        commission = sum(line.balance for line in payments.move_id.line_ids
                         if line.account_id == channel.commission_account_id) if channel.commission_account_id else 0.0
        return {"invoice": invoices[:1], "payments": payments, "payment": sum(payments.mapped("amount")),
                "commission": commission}

    def _match_sales(self, order, channel):
        facts = self._booked(order, channel)
        currency = self[:1].currency_id
        common = {"order_id": order.id, "invoice_id": facts["invoice"].id,
                  "booked_payment": facts["payment"], "booked_commission": facts["commission"]}
        receives = sum(self.mapped("settle_amount"))
        if not facts["payments"]:
            self.write(dict(common, state="difference", difference_amount=receives, explanation=_(
                "Order %(order)s is not completed and paid in Odoo (%(status)s): the bill says the merchant "
                "receives %(receives)s, Odoo booked nothing to confirm.",
                order=order.platform_order_ref, status=order.platform_status or order.state,
                receives=format_amount(self.env, receives, currency))))
            return
        commission = sum(self.mapped("commission"))
        fees = self._fees_total()
        money_gap = currency.round(receives + fees - facts["payment"])
        commission_gap = currency.round(commission - facts["commission"])
        if currency.is_zero(money_gap) and currency.is_zero(commission_gap):
            self.write(dict(common, difference_amount=0.0, explanation=False))
            pending = self.filtered(lambda line: line.state in ("no_order", "difference"))
            with_fees = pending.filtered(lambda line: not currency.is_zero(line._fees_total()))
            (pending - with_fees).write({"state": "matched"})
            with_fees._book(facts)
            return
        reasons = []
        if not currency.is_zero(commission_gap):
            reasons.append(_("the platform's commission is %(bill)s, Odoo booked %(booked)s",
                             bill=format_amount(self.env, commission, currency), booked=format_amount(self.env, facts["commission"], currency)))
        if not currency.is_zero(money_gap):
            reasons.append(_("the merchant receives %(receives)s and the fees are %(fees)s, Odoo booked a payment "
                             "of %(payment)s", receives=format_amount(self.env, receives, currency), fees=format_amount(self.env, fees, currency),
                             payment=format_amount(self.env, facts["payment"], currency)))
        self.filtered(lambda line: line.state in ("no_order", "difference")).write(dict(
            common, state="difference", difference_amount=money_gap,
            explanation=_("Not booked: %s.", "; ".join(reasons))))

    def _match_refunds(self, order):
        """Refunds after settlement confirm the order's credit notes when they add up."""
        currency = self[:1].currency_id
        # A refund of money only has a credit note the order's lines do not point at.
        credit_notes = (order.invoice_ids | order.live_refund_ids.credit_note_id).filtered(
            lambda move: move.move_type == "out_refund" and move.state == "posted")
        refunded, credited = sum(self.mapped("refund_amount")), sum(credit_notes.mapped("amount_total"))
        pending = self.filtered(lambda line: line.state in ("no_order", "difference"))
        if currency.compare_amounts(refunded, credited) == 0:
            pending.write({"state": "matched", "order_id": order.id, "difference_amount": 0.0, "explanation": _(
                "Refund after settlement: confirms the credit notes %s.", ", ".join(credit_notes.mapped("name")))})
        else:
            pending.write({"state": "difference", "order_id": order.id, "difference_amount": credited - refunded,
                        "explanation": _(
                            "Refund after settlement of %(refunded)s; the order's credit notes come to %(credited)s.",
                            refunded=format_amount(self.env, refunded, currency), credited=format_amount(self.env, credited, currency))})

    def _book(self, facts, extra=None, state="booked"):
        """One entry per row for its fees (and `extra` {"commission": amount} on the
        first row), debit the fee accounts, credit the account the order's payment
        sits on. Rows are locked first, so a row is booked once even by two jobs."""
        self.env.cr.execute("SELECT id FROM live_settlement_line WHERE id = ANY(%s) FOR UPDATE", [self.ids])
        self.invalidate_recordset(["move_id"])
        payment = facts["payments"][:1]
        money_account = payment.outstanding_account_id or payment.journal_id.default_account_id
        for index, line in enumerate(self.filtered(lambda l: not l.move_id)):
            channel = line.channel_id.with_company(line.company_id)
            amounts = [(channel._fee_account(kind), line[FEE_FIELDS[kind]], label)
                       for kind, label in zip(FEE_KINDS, (_("Talent commission"), _("Service fee"),
                                                          _("Promotion fee"), _("Other fees")))]
            if extra and index == 0:
                amounts.append((channel._commission_account(), extra["commission"], _("Platform commission")))
            amounts = [(account, amount, label) for account, amount, label in amounts
                       if not line.currency_id.is_zero(amount)]
            if not amounts:
                line.state = state
                continue
            total = sum(amount for _account, amount, _label in amounts)
            partner = line.order_id.partner_invoice_id.commercial_partner_id
            move = self.env["account.move"].sudo().create({
                "move_type": "entry", "journal_id": payment.journal_id.id, "company_id": line.company_id.id,
                "date": (line.settled_at or fields.Datetime.now()).date(),
                "ref": _("Settlement %(row)s of %(order)s", row=line.bill_ref, order=line.order_ref),
                "line_ids": [Command.create(_move_line(account, amount, label, partner))
                             for account, amount, label in amounts]
                + [Command.create(_move_line(money_account, -total, _("Kept by the platform"), partner))],
            })
            move.action_post()
            line.write({"move_id": move.id, "state": state})


def _move_line(account, amount, label, partner):
    return {"account_id": account.id, "name": label, "partner_id": partner.id,
            "debit": amount if amount > 0 else 0.0, "credit": -amount if amount < 0 else 0.0}
