"""Live orders in the books: completed orders invoiced and paid into the channel's
settlement journal less the platform's commission; refunds as credit notes, returns
and cancelled quantities; taxes included in platform prices."""
from odoo import Command
from odoo.tests import tagged

from .order_common import OrderCase


@tagged("post_install", "-at_install")
class TestOrderAccounting(OrderCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.commission_rate = 5.0

    def _complete(self, order_ref, **data):
        self.push(self.paid(order_ref, **data))
        self.push(self.event("order.shipped", order_ref, carrier="SF Express", tracking_ref=f"SF-{order_ref}"))
        self.push(self.event("order.completed", order_ref))
        return self.order(order_ref)

    def _invoices(self, order, move_type="out_invoice"):
        return order.invoice_ids.filtered(lambda move: move.move_type == move_type and move.state == "posted")

    def test_completed_order_is_invoiced_and_paid_into_the_settlement_journal_less_commission(self):
        order = self._complete("P-1")
        self.assertEqual(order.platform_status, "completed")
        invoice = self._invoices(order)
        self.assertEqual(invoice.amount_total, 727.0, "the invoice carries the order's total")
        self.assertEqual(invoice.payment_state, "paid")
        journal = self.channel.settlement_journal_id
        self.assertEqual(journal.type, "bank", "a settlement journal of its own, made on first use")
        payment_lines = invoice._get_reconciled_payments()
        self.assertEqual(payment_lines.journal_id, journal)
        self.assertEqual(payment_lines.amount, 727.0 - 36.35)
        commission = payment_lines.move_id.line_ids.filtered(
            lambda line: line.account_id == self.channel.commission_account_id)
        self.assertEqual(commission.debit, 36.35, "5% commission booked to the commission account")
        self.assertEqual(self.channel.commission_account_id.account_type, "expense")

    def test_completed_without_a_shipment_event_ships_what_is_left(self):
        self.push(self.paid("P-2"))
        self.push(self.event("order.completed", "P-2"))
        order = self.order("P-2")
        self.assertTrue(self.outgoing(order, "done"))
        self.assertEqual(self._invoices(order).payment_state, "paid")

    def test_refund_only_after_delivery_is_a_credit_note_paid_back(self):
        order = self._complete("Q-1")
        self.push(self.event("refund.succeeded", "Q-1", refund_ref="RF-1", amount=20000,
                             lines=[{"sku": "T-SCARF", "quantity": 1}]))
        refund = order.live_refund_ids
        self.assertEqual((refund.refund_ref, refund.state, refund.amount, refund.applied), ("RF-1", "succeeded", 200.0, True))
        credit_note = refund.credit_note_id
        self.assertEqual((credit_note.move_type, credit_note.state), ("out_refund", "posted"))
        self.assertEqual(credit_note.amount_total, 200.0, "exactly what the platform refunded")
        self.assertEqual(credit_note.payment_state, "paid", "paid back from the settlement journal")
        self.assertFalse(refund.return_picking_id, "refund only: the goods stay with the buyer")
        self.assertEqual(order.live_refunded_amount, 200.0)
        # The same after-sale again changes nothing.
        self.push(self.event("refund.succeeded", "Q-1", refund_ref="RF-1", amount=20000,
                             lines=[{"sku": "T-SCARF", "quantity": 1}]))
        self.assertEqual(len(order.live_refund_ids), 1)
        self.assertEqual(len(self.env["account.move"].search([("move_type", "=", "out_refund"),
                                                               ("invoice_origin", "=", order.name)])), 1)

    def test_return_and_refund_gives_a_return_to_receive_and_a_credit_note(self):
        order = self._complete("Q-2")
        self.push(self.event("refund.requested", "Q-2", refund_ref="RT-1", return_goods=True,
                             lines=[{"sku": "T-CUP", "quantity": 1}]))
        refund = order.live_refund_ids
        self.assertEqual((refund.state, refund.applied), ("requested", False))
        self.assertFalse(refund.credit_note_id, "nothing in the books until the platform refunds")
        self.push(self.event("refund.succeeded", "Q-2", refund_ref="RT-1", amount=9900, return_goods=True,
                             lines=[{"sku": "T-CUP", "quantity": 1}]))
        self.assertEqual(refund.credit_note_id.amount_total, 99.0)
        returned = refund.return_picking_id
        self.assertEqual(returned.picking_type_code, "incoming")
        self.assertEqual([(m.product_id, m.product_uom_qty) for m in returned.move_ids], [(self.cup, 1.0)])
        returned.button_validate()
        self.assertEqual(order.order_line.filtered(lambda l: l.product_id == self.cup).qty_delivered, 0)

    def test_refund_before_shipping_cancels_the_unshipped_and_releases_its_stock(self):
        self.push(self.paid("S-1"))
        order = self.order("S-1")
        self.push(self.event("refund.succeeded", "S-1", refund_ref="RB-1", amount=31900,
                             lines=[{"sku": "T-SCARF", "quantity": 1}]))
        scarf_line = order.order_line.filtered(lambda l: l.product_id == self.scarf)
        self.assertEqual(scarf_line.product_uom_qty, 1, "partial: only its line")
        self.assertEqual(scarf_line.price_unit, 319.0, "at the platform's price, not repriced from the pricelist")
        self.assertEqual(self.outgoing(order).move_ids.filtered(lambda m: m.product_id == self.scarf).product_uom_qty, 1)
        self.assertTrue(order.live_refund_ids.before_shipping)
        self.assertFalse(order.live_refund_ids.credit_note_id)
        self.push(self.event("refund.succeeded", "S-1", refund_ref="RB-2", amount=40800))
        self.assertEqual(order.state, "cancel", "everything refunded before shipping: cancelled")
        quants = self.env["stock.quant"].search([("product_id", "in", (self.scarf | self.cup).ids),
                                                 ("location_id", "=", self.warehouse.lot_stock_id.id)])
        self.assertEqual(sum(quants.mapped("reserved_quantity")), 0, "stock released")

    def test_refund_of_a_made_to_order_product_before_shipping_cancels_its_manufacturing(self):
        self.made_to_order()
        self.push(self.paid("S-2", lines=[{"sku": "T-MUG", "quantity": 2, "unit_price": 5900}]))
        order = self.order("S-2")
        self.push(self.event("refund.succeeded", "S-2", refund_ref="RM-1", amount=11800))
        self.assertEqual(order.state, "cancel")
        self.assertEqual(order.mrp_production_ids.state, "cancel")

    def test_taxes_included_in_platform_prices_keep_the_total_what_the_buyer_paid(self):
        vat = self.env["account.tax"].create({"name": "VAT 13% incl.", "amount": 13, "type_tax_use": "sale",
                                              "price_include_override": "tax_included",
                                              "company_id": self.company.id})
        self.channel.tax_ids = [Command.set(vat.ids)]
        order = self._complete("T-1")
        self.assertEqual(order.amount_total, 727.0)
        self.assertAlmostEqual(order.amount_tax, 727.0 - 727.0 / 1.13, delta=0.05)
        invoice = self._invoices(order)
        self.assertEqual(invoice.amount_total, 727.0)
        self.assertEqual(invoice.payment_state, "paid")
