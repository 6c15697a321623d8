"""From platform order events to sale orders, deliveries, manufacturing orders,
invoices, payments and refunds.

An order event says where an order stands (created, paid, shipped, completed,
cancelled), or adds a shipment or an after-sale. Each event is applied as "at
least this far": the order only moves forward, a shipment is known by its tracking
number and an after-sale by its id, so applying an event twice, or events in any
order, ends in the same state. Events of platforms that push only ids become a job
that fetches the order from the platform's API (models/live_channel_api.py: never
inside a transaction that holds inbox rows or stock), which stores what it fetched
back into the inbox as a snapshot, applied here like a push that carries the whole
order.

Applied in batches inside the processor's transaction (READ COMMITTED): one lock
per order, so two processors never apply one order at once, and one lock per
product being reserved, so reservations of a flash sale never exceed the stock;
orders are created and confirmed set-based, and when the batch fails each order is
applied again on its own, so only the faulty ones are retried or set aside.
"""
import logging
from collections import defaultdict
from datetime import datetime, timezone

from odoo import Command, _, api, fields, models
from odoo.tools import float_compare, float_is_zero

from .fan_phone import mask_phone, normalize_phone
from .live_event_processor import QUIET
from .platforms.base import FetchOrder
from .platforms.orders import AFTERSALE_STAGE_OF_STATE, GOODS_ONLY_KINDS, REFUND_STATES, PlatformOrder
from .sale_order import STATUS_RANK

_logger = logging.getLogger(__name__)

LOCK_ORDER = 2      # advisory lock namespaces (hashtextextended seeds) of the processor
LOCK_PRODUCT = 3


class OrderError(Exception):
    """An order event that cannot be applied: `transient` ones are retried with
    backoff (the cause may go away by itself), the others wait for a person."""
    transient = False


class OrderNotSeenYet(OrderError):
    transient = True


class NotReserved(OrderError):
    transient = True


def _to_datetime(seconds):
    if not seconds:
        return None
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc).replace(tzinfo=None)


def _fen(amount, currency):
    """An amount in the currency's smallest unit (fen for CNY, yen for JPY) as
    Odoo's amount in that currency."""
    return currency.round(amount / 10 ** currency.decimal_places)


class LiveOrderImporter(models.AbstractModel):
    _name = "live.order.importer"
    _description = "Platform Order Import"

    @api.model
    def _import(self, works):
        """Apply the claimed order works (live.event.processor.Work)."""
        fetches = [w for w in works if isinstance(w.event.data, FetchOrder)]
        orders = [w for w in works if isinstance(w.event.data, PlatformOrder)]
        nothing = [w for w in works if w not in fetches and w not in orders]
        if nothing:  # a push about no order (a platform's notice): kept, done
            self.env["live.event"].browse(w.event_id for w in nothing)._mark_done()
        if fetches:
            self._request_fetches(fetches)
        if orders:
            self._apply_orders(orders)

    # ------------------------------------------------------------------
    # Platforms that push only ids: a job fetches the order
    # ------------------------------------------------------------------
    def _request_fetches(self, works):
        by_order = defaultdict(list)
        for work in works:
            by_order[(work.channel.id, work.event.data.order_ref)].append(work)
        self.env.cr.execute("""
            UPDATE live_event e SET state = 'waiting', order_ref = u.order_ref, error = NULL, next_attempt_at = NULL
              FROM unnest(%s::int[], %s::varchar[]) AS u(id, order_ref)
             WHERE e.id = u.id
        """, [[w.event_id for w in works], [w.event.data.order_ref for w in works]])
        Event = self.env["live.event"]
        Event.invalidate_model(["state", "order_ref", "error", "next_attempt_at"])
        for (_channel, order_ref), order_works in by_order.items():
            refund_refs = sorted({w.event.data.refund_ref for w in order_works if w.event.data.refund_ref})
            Event._enqueue_order_fetch(Event.browse(w.event_id for w in order_works), order_ref, refund_refs)

    # ------------------------------------------------------------------
    # Orders whose events carry the whole story
    # ------------------------------------------------------------------
    def _apply_orders(self, works):
        groups = defaultdict(list)
        for work in sorted(works, key=lambda w: (w.occurred, w.event_id)):
            groups[(work.channel.id, work.event.data.order_ref)].append(work)
        try:
            with self.env.cr.savepoint():
                self._apply_groups(groups)
        except Exception as exc:  # noqa: BLE001 - each order again on its own, below
            _logger.info("Batch of %s orders failed (%s); applying them one by one", len(groups), exc)
            self.env.invalidate_all()
            if len(groups) == 1:
                self._fail(works, exc)
                return
            for key, order_works in groups.items():
                try:
                    with self.env.cr.savepoint():
                        self._apply_groups({key: order_works})
                except Exception as exc_one:  # noqa: BLE001
                    self.env.invalidate_all()
                    self._fail(order_works, exc_one)

    def _lock(self, namespace, keys):
        if keys:
            self.env.cr.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, %s)) FROM unnest(%s::text[]) AS k ORDER BY k",
                [namespace, sorted(repr(key) for key in keys)])

    def _fail(self, works, exc):
        events = self.env["live.event"].browse(w.event_id for w in works)
        if isinstance(exc, OrderError):
            events._mark_error(str(exc), transient=exc.transient)
        else:
            events._mark_error(f"{type(exc).__name__}: {exc}", transient=events._is_transient(exc))

    def _apply_groups(self, groups):
        works = [work for order_works in groups.values() for work in order_works]
        processor = self.env["live.event.processor"]
        processor._resolve_fans([w for w in works if w.event.fan])
        processor._resolve_sessions([w for w in works if w.event.room_id])
        self._lock(LOCK_ORDER, list(groups))
        SaleOrder = self.env["sale.order"].with_context(**QUIET)
        channels = {w.channel.id: w.channel for works in groups.values() for w in works}
        existing = {(order.live_channel_id.id, order.platform_order_ref): order for order in SaleOrder.search([
            ("live_channel_id", "in", list(channels)), ("platform_order_ref", "in", [ref for _c, ref in groups])])}
        plans, new_keys, new_vals = {}, [], []
        for key, works in groups.items():
            plan = self._merge([w.event.data for w in works])
            plans[key] = plan
            if key not in existing:
                if not plan.lines:
                    raise OrderNotSeenYet(_(
                        "Order %s is not known yet: its creation or payment has not arrived. Retried later.",
                        plan.order_ref))
                new_keys.append(key)
                new_vals.append(self._order_vals(channels[key[0]], plan, works))
        orders = dict(existing)
        if new_vals:
            orders.update(zip(new_keys, SaleOrder.create(new_vals)))
        to_confirm = SaleOrder.browse(
            order.id for key, order in orders.items()
            if order.state in ("draft", "sent") and plans[key].status
            and STATUS_RANK[plans[key].status] >= STATUS_RANK["paid"] and plans[key].status != "cancelled")
        if to_confirm:
            self._confirm(to_confirm)
        for key, order in orders.items():
            company = order.company_id
            self.with_company(company)._apply_progress(order.with_company(company),
                                                       channels[key[0]].with_company(company), plans[key])
        by_event = {w.event_id: orders[key] for key, works in groups.items() for w in works}
        self.env.cr.execute("""
            UPDATE live_event e
               SET state = 'done', processed_at = now() AT TIME ZONE 'UTC', error = NULL, next_attempt_at = NULL,
                   order_ref = o.platform_order_ref, partner_id = o.partner_id, session_id = o.live_session_id
              FROM unnest(%s::int[], %s::int[]) AS u(id, order_id)
              JOIN sale_order o ON o.id = u.order_id
             WHERE e.id = u.id
        """, [list(by_event), [order.id for order in by_event.values()]])
        self.env["live.event"].invalidate_model()

    def _confirm(self, orders):
        """Confirm, then reserve under a lock per product: two processors confirming
        orders of one SKU at once would otherwise both reserve the same units (Odoo
        reserves from what it reads). Confirmation itself (deliveries, manufacturing
        orders) runs unlocked, in parallel; only the reservation waits its turn."""
        for company in orders.company_id:
            orders.filtered(lambda order: order.company_id == company).with_company(company).with_context(
                live_commerce_defer_reservation=True).action_confirm()
        moves = (orders.order_line.move_ids | orders.mrp_production_ids.move_raw_ids).filtered(
            lambda move: move.state in ("confirmed", "partially_available") and move._should_assign_at_confirm())
        if moves:
            self._lock(LOCK_PRODUCT, moves.product_id.filtered("is_storable").ids)
            for company in moves.company_id:
                moves.filtered(lambda move: move.company_id == company).with_company(company)._action_assign()

    # ------------------------------------------------------------------
    # What the events of one order say, together
    # ------------------------------------------------------------------
    @staticmethod
    def _merge(facts):
        """One PlatformOrder from what the order's events say (in arrival order):
        the latest whole order, the furthest status, every shipment and after-sale."""
        whole = [fact for fact in facts if fact.lines]
        base = whole[-1] if whole else facts[-1]
        plan = PlatformOrder(**{name: getattr(base, name) for name in PlatformOrder.__dataclass_fields__})
        statuses = [fact.status for fact in facts if fact.status]
        plan.status = max(statuses, key=STATUS_RANK.get) if statuses else None
        plan.paid_at = max((fact.paid_at for fact in facts if fact.paid_at), default=None)
        plan.buyer = next((fact.buyer for fact in reversed(facts) if fact.buyer), None)
        plan.cancel_reason = next((fact.cancel_reason for fact in reversed(facts) if fact.cancel_reason), None)
        shipments = {}
        for fact in facts:
            for shipment in fact.shipments:
                shipments[shipment.tracking_ref] = shipment
        plan.shipments = list(shipments.values())
        refunds = {}
        for fact in facts:
            for refund in fact.refunds:
                known = refunds.get(refund.refund_ref)
                if not known or (REFUND_STATES.index(refund.state), refund.updated_at or 0) \
                        >= (REFUND_STATES.index(known.state), known.updated_at or 0):
                    refunds[refund.refund_ref] = refund
        plan.refunds = list(refunds.values())
        return plan

    # ------------------------------------------------------------------
    # A new sale order
    # ------------------------------------------------------------------
    def _order_vals(self, channel, plan, works):
        company = channel.company_id
        currency = self._currency(plan.currency, company)
        products = self._products(channel, plan.lines)
        taxes = channel._order_taxes()
        buyer_id = next((w.partner_id for w in reversed(works) if w.partner_id), None) \
            or self._anonymous_buyer(channel).id
        session = self._session(channel, works, plan)
        line_vals = [Command.create({
            "product_id": products[line.sku].id, "product_uom_qty": line.quantity, "platform_sku": line.sku,
            "price_unit": _fen(line.unit_price, currency), "tax_id": [Command.set(taxes.ids)],
            **({"name": f"{products[line.sku].display_name}\n{line.name}"}
               if line.name and line.name not in products[line.sku].display_name else {}),
        }) for line in plan.lines]
        seller_discount = sum(line.discount for line in plan.lines) + plan.discount
        if seller_discount:
            line_vals.append(self._service_line("product_live_discount", -seller_discount, currency, taxes))
        if plan.shipping_fee:
            line_vals.append(self._service_line("product_live_shipping", plan.shipping_fee, currency, taxes))
        lines_total = sum(round(line.quantity * line.unit_price) for line in plan.lines) \
            - seller_discount + plan.shipping_fee
        paid = lines_total - plan.platform_discount if plan.paid is None else plan.paid
        difference = paid + plan.platform_discount - lines_total
        vals = {
            "partner_id": buyer_id,
            "company_id": company.id,
            "live_channel_id": channel.id,
            "platform_order_ref": plan.order_ref,
            "client_order_ref": plan.order_ref,
            "date_order": _to_datetime(plan.paid_at or plan.created_at) or fields.Datetime.now(),
            "warehouse_id": channel._order_warehouse().id,
            "pricelist_id": self._pricelist(channel, currency).id,
            "platform_discount_amount": _fen(plan.platform_discount, currency),
            "platform_paid_amount": _fen(paid, currency),
            "live_amount_difference": _fen(difference, currency),
            # Where it stands, written now rather than by a second write per order
            # (_apply_progress finds nothing left to write for a plain payment).
            "platform_status": plan.status if plan.status in ("created", "paid") else False,
            "platform_paid_at": (_to_datetime(plan.paid_at) or fields.Datetime.now())
            if plan.status == "paid" else False,
            # The host sells: she is the salesperson (and Odoo shows an order without
            # one to every salesperson).
            "user_id": (session and session.host_id.id) or channel.team_id.user_id.id or False,
            "order_line": line_vals,
        }
        if channel.team_id:
            vals["team_id"] = channel.team_id.id
        if session:
            vals.update(live_session_id=session.id, campaign_id=session.campaign_id.id,
                        source_id=(session.source_id or channel.source_id).id, medium_id=session.medium_id.id)
        else:
            vals["source_id"] = channel.source_id.id
        if plan.address:
            vals["partner_shipping_id"] = self._delivery_address(buyer_id, plan.address, company).id
        return vals

    def _service_line(self, xmlid, fen, currency, taxes):
        product = self.env.ref(f"live_commerce_crm.{xmlid}")
        return Command.create({"product_id": product.id, "product_uom_qty": 1, "price_unit": _fen(fen, currency),
                               "tax_id": [Command.set(taxes.ids)]})

    def _products(self, channel, lines):
        """{sku: product} for the lines: the channel's SKU mappings (platform SKU id,
        then merchant code), then a product whose internal reference is the code.
        Anything unknown or ambiguous fails the order with the SKUs named."""
        skus = {line.sku for line in lines} | {line.merchant_code for line in lines if line.merchant_code}
        mappings = self.env["live.channel.sku"].sudo().search(
            [("channel_id", "=", channel.id), "|", ("platform_sku", "in", list(skus)), ("merchant_code", "in", list(skus))])
        by_sku = {m.platform_sku: m.product_id for m in mappings if m.platform_sku}
        by_code = {m.merchant_code: m.product_id for m in mappings if m.merchant_code}
        codes = [line.merchant_code or line.sku for line in lines]
        by_reference = defaultdict(lambda: self.env["product.product"])
        for product in self.env["product.product"].sudo().search([
                ("default_code", "in", codes), ("sale_ok", "=", True),
                ("company_id", "in", (False, channel.company_id.id))]):
            by_reference[product.default_code] |= product
        found, unknown = {}, []
        for line in lines:
            product = by_sku.get(line.sku) or by_code.get(line.merchant_code) or by_code.get(line.sku)
            if not product:
                candidates = by_reference.get(line.merchant_code or line.sku) or by_reference.get(line.sku)
                product = candidates if candidates and len(candidates) == 1 else None
            if product:
                found[line.sku] = product
            else:
                unknown.append(line.sku if not line.merchant_code else f"{line.sku} ({line.merchant_code})")
        if unknown:
            raise OrderError(_(
                "Unknown SKU %(skus)s on channel %(channel)s: map it to a product (channel › SKU Mappings) or give "
                "the product that internal reference, then re-run the event.",
                skus=", ".join(sorted(set(unknown))), channel=channel.name))
        return found

    def _item_products(self, order, channel, items):
        """{sku: product} for the (sku, quantity) of a shipment or after-sale: the
        product of the order's line sold under that SKU, else as for order lines.
        They name the platform's SKU id alone, which a product found by its
        merchant code has no mapping of."""
        sold = {line.platform_sku: line.product_id for line in order.order_line if line.platform_sku}
        others = [_Item(sku, qty) for sku, qty in items if sku not in sold]
        return {**(self._products(channel, others) if others else {}), **sold}

    def _currency(self, code, company):
        if not code or code == company.currency_id.name:
            return company.currency_id
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if not currency:
            raise OrderError(_("Unknown currency %s.", code))
        if not currency.active:
            currency.sudo().active = True
        return currency

    def _pricelist(self, channel, currency):
        if channel.pricelist_id.currency_id == currency:
            return channel.pricelist_id
        Pricelist = self.env["product.pricelist"].sudo()
        return Pricelist.search([("currency_id", "=", currency.id),
                                 ("company_id", "in", (False, channel.company_id.id))], limit=1) \
            or Pricelist.create({"name": _("Live orders in %s", currency.name), "currency_id": currency.id,
                                 "company_id": channel.company_id.id})

    def _anonymous_buyer(self, channel):
        Partner = self.env["res.partner"].sudo().with_context(**QUIET)
        name = _("%s buyer", channel.name)
        return Partner.search([("name", "=", name), ("company_id", "=", channel.company_id.id)], limit=1) \
            or Partner.create({"name": name, "company_id": channel.company_id.id})

    def _session(self, channel, works, plan):
        """The order's live session: the room the platform names, else the session
        live on the channel when the order was paid."""
        session_id = next((w.session_id for w in reversed(works) if w.session_id), None)
        if session_id:
            return self.env["live.session"].browse(session_id)
        when = _to_datetime(plan.paid_at or plan.created_at)
        if not when:
            return None
        return self.env["live.session"].search([
            ("channel_id", "=", (channel.session_channel_id or channel).id), ("date_start", "<=", when),
            "|", ("date_end", ">=", when), ("date_end", "=", False)], order="date_start desc", limit=1)

    def _delivery_address(self, buyer_id, address, company):
        """The shipping address as a delivery contact of the buyer, as received:
        masked or encrypted values are kept as they are; a phone in clear is masked."""
        Partner = self.env["res.partner"].sudo().with_context(**QUIET)
        state = address.province and self.env["res.country.state"].search(
            [("country_id", "=", company.country_id.id), ("name", "=", address.province)], limit=1)
        vals = {
            "type": "delivery", "parent_id": buyer_id, "name": address.name or _("Delivery address"),
            # A number in clear (TikTok, WeChat) is the fan's phone key (set by the
            # processor), never kept in clear: the contact shows it masked.
            "phone": (mask_phone(normalize_phone(address.phone)) or address.phone or False) if address.phone else False,
            "street": address.street or False,
            "street2": address.district or False,
            "city": " ".join(filter(None, [None if state else address.province, address.city])) or False,
            "state_id": state.id if state else False, "zip": address.zip or False,
            "country_id": company.country_id.id or False,
        }
        existing = Partner.search([(name, "=", value) for name, value in vals.items()], limit=1)
        return existing or Partner.create(vals)

    # ------------------------------------------------------------------
    # An order moves on
    # ------------------------------------------------------------------
    def _apply_progress(self, order, channel, plan):
        status = plan.status
        current = order.platform_status
        if status == "cancelled" and current not in ("shipped", "completed"):
            self._cancel(order)
        for shipment in plan.shipments:
            self._ship(order, channel, shipment)
        for refund in plan.refunds:
            self._refund(order, channel, refund)
        if status == "completed":
            self._complete(order, channel)
        vals = {}
        if status and (not current or STATUS_RANK[status] > STATUS_RANK[current]) \
                and not (status == "cancelled" and current in ("shipped", "completed")):
            vals["platform_status"] = status
        if not order.platform_paid_at and {status, current} & {"paid", "shipped", "completed"}:
            vals["platform_paid_at"] = _to_datetime(plan.paid_at) or fields.Datetime.now()
        if vals:
            order.write(vals)

    def _cancel(self, order):
        """Cancelled on the platform (before shipping): the quotation, or what the
        confirmed order reserved and would have made."""
        if order.state == "cancel":
            return
        delivered = any(line.qty_delivered for line in order.order_line)
        if delivered or order.invoice_ids.filtered(lambda move: move.state == "posted"):
            raise OrderError(_("Order %s was cancelled on the platform after it shipped or was invoiced: "
                               "handle it as an after-sale.", order.platform_order_ref))
        order.with_context(disable_cancel_warning=True)._action_cancel()
        order.mrp_production_ids.filtered(lambda mo: mo.state not in ("done", "cancel")).action_cancel()

    def _outgoing(self, order, done):
        return order.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and (p.state == "done") == done and p.state != "cancel")

    def _ship(self, order, channel, shipment):
        """Validate the delivery for what the platform (or its 3PL) shipped, with
        the carrier and tracking number. Only what is reserved ships; a delivery
        someone validated in Odoo already is matched, not shipped twice."""
        done = self._outgoing(order, done=True)
        if shipment.tracking_ref in done.mapped("carrier_tracking_ref"):
            return
        pending = self._outgoing(order, done=False)
        carrier = self._carrier(shipment.carrier, order.company_id)
        if not pending:
            # Delivered in Odoo already: record the parcel on it.
            unstamped = done.filtered(lambda p: not p.carrier_tracking_ref)[:1]
            if unstamped:
                unstamped.write({"carrier_tracking_ref": shipment.tracking_ref, "carrier_id": carrier.id})
            return
        if shipment.lines:
            products = self._item_products(order, channel, shipment.lines)
            wanted = defaultdict(float)
            for sku, qty in shipment.lines:
                wanted[products[sku].id] += qty
        else:
            wanted = None  # everything not shipped yet
        self._validate(order, pending, wanted, carrier, shipment.tracking_ref)

    def _validate(self, order, pickings, wanted, carrier, tracking_ref):
        missing = []
        to_validate = self.env["stock.picking"]
        for picking in pickings:
            shipping = False
            for move in picking.move_ids.filtered(lambda m: m.state not in ("done", "cancel")):
                rounding = move.product_uom.rounding
                want = move.product_uom_qty if wanted is None else min(wanted.get(move.product_id.id, 0),
                                                                        move.product_uom_qty)
                if float_is_zero(want, precision_rounding=rounding):
                    move.quantity = 0
                    move.picked = False
                    continue
                if float_compare(move.quantity, want, precision_rounding=rounding) < 0 \
                        or move.state not in ("assigned", "partially_available"):
                    missing.append(f"{move.product_id.display_name}: {want:g} "
                                   f"({move.quantity if move.state != 'waiting' else 0:g} ready)")
                    continue
                move.quantity = want
                move.picked = True
                shipping = True
                if wanted is not None:
                    wanted[move.product_id.id] -= want
            if shipping:
                to_validate |= picking
        if missing:
            raise NotReserved(_(
                "Order %(order)s shipped on the platform, but Odoo has not reserved or produced: %(items)s. "
                "Retried later.", order=order.platform_order_ref, items="; ".join(missing)))
        if to_validate:
            to_validate.write({"carrier_id": carrier.id, "carrier_tracking_ref": tracking_ref})
            to_validate.with_context(skip_backorder=True, picking_ids_not_to_backorder=[], skip_sms=True,
                                     skip_sanity_check=True, live_commerce_no_upload=True).button_validate()

    def _carrier(self, name, company):
        """The carrier as `stock_delivery` knows it, made on first sight of a name."""
        Carrier = self.env["delivery.carrier"].sudo()
        name = name or _("Platform logistics")
        carrier = Carrier.search([("name", "=ilike", name), ("company_id", "in", (False, company.id))], limit=1)
        return carrier or Carrier.create({
            "name": name, "delivery_type": "fixed", "fixed_price": 0.0,
            "product_id": self.env.ref("live_commerce_crm.product_live_shipping").id,
        })

    def _complete(self, order, channel):
        """Completed on the platform: whatever is left ships, the invoice is posted
        and paid into the channel's settlement journal, less the platform's
        commission, booked to the channel's commission account."""
        if order.state != "sale":
            return
        pending = self._outgoing(order, done=False)
        if pending:
            self._validate(order, pending, None, self._carrier(None, order.company_id), False)
        for invoice in self._invoice(order).filtered(
                lambda move: move.payment_state not in ("paid", "in_payment", "reversed")):
            self._pay(invoice, channel)

    def _invoice(self, order):
        """The order's customer invoice, posted; made once, for what was delivered.
        Later after-sales are credit notes: invoicing again would bill a refund or a
        return awaiting receipt."""
        invoices = order.invoice_ids.filtered(lambda move: move.move_type == "out_invoice" and move.state == "posted")
        if not invoices and order.invoice_status == "to invoice":
            invoices = order.with_context(**QUIET)._create_invoices(final=True)
            invoices.action_post()
        return invoices

    def _pay(self, invoice, channel):
        currency = invoice.currency_id
        residual = invoice.amount_residual
        if currency.is_zero(residual):
            return
        commission = currency.round(invoice.amount_total * channel.commission_rate / 100.0)
        commission = min(commission, residual)
        vals = {"journal_id": channel._settlement_journal().id, "amount": residual - commission,
                "payment_date": fields.Date.context_today(self)}
        if not currency.is_zero(commission):
            vals.update(payment_difference_handling="reconcile", writeoff_account_id=channel._commission_account().id,
                        writeoff_label=_("Platform commission"))
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids).create(vals)._create_payments()

    # ------------------------------------------------------------------
    # After-sales
    # ------------------------------------------------------------------
    def _refund(self, order, channel, refund):
        record = order.live_refund_ids.filtered(lambda r: r.refund_ref == refund.refund_ref)
        state = refund.state
        if state == "succeeded" and refund.aftersale_kind in GOODS_ONLY_KINDS:
            state = "closed"  # an exchange or a resend done: goods went out, no money came back
        vals = {"state": state, "amount": _fen(refund.amount, order.currency_id),
                "return_goods": refund.return_goods, "reason": refund.reason or False,
                "line_summary": ", ".join(f"{sku} x {qty:g}" for sku, qty in refund.lines) or _("Whole order")}
        forward = not record or REFUND_STATES.index(state) >= REFUND_STATES.index(record.state)
        progress = self._refund_progress(refund, state if forward else record.state)
        if not record:
            record = self.env["live.order.refund"].sudo().create(dict(vals, **progress, order_id=order.id,
                                                                      refund_ref=refund.refund_ref))
        else:
            # Where it stands follows the platform's latest word, even once the money
            # is booked; the money fields only move forward, and never after applying.
            newer = _to_datetime(refund.updated_at) >= record.platform_updated_at \
                if refund.updated_at and record.platform_updated_at else forward
            if not record.applied and forward:
                record.sudo().write(dict(vals, **progress) if newer else vals)
            elif newer:
                record.sudo().write(progress)
        if record.state != "succeeded" or record.applied:
            return
        items = self._refund_items(order, channel, refund)
        if all(not line.qty_delivered for line, _qty in items):
            self._refund_before_shipping(order, items)
            record.write({"applied": True, "before_shipping": True})
            return
        credit_note = self._credit_note(order, channel, refund, items)
        result = {"applied": True, "credit_note_id": credit_note.id}
        if refund.return_goods:
            result["return_picking_id"] = self._return(order, items).id
        record.write(result)

    def _refund_progress(self, refund, state):
        """What the platform says of the request beside the money: its type, status,
        deadline and the buyer's parcel back. A status the platform's mapping does not
        know takes its stage from the money's `state`."""
        vals = {"kind": refund.aftersale_kind, "stage": refund.stage or AFTERSALE_STAGE_OF_STATE[state],
                "platform_status": refund.platform_status or False,
                "requested_at": _to_datetime(refund.requested_at), "deadline": _to_datetime(refund.deadline),
                "platform_updated_at": _to_datetime(refund.updated_at)}
        # A later document without the parcel does not erase a known one.
        if refund.return_tracking_ref:
            vals.update(return_tracking_ref=refund.return_tracking_ref, return_carrier=refund.return_carrier or False)
        # Times a document leaves out stay as known; a deadline left out is over.
        return {name: value for name, value in vals.items()
                if value is not None or name not in ("requested_at", "platform_updated_at")}

    def _refund_items(self, order, channel, refund):
        """[(sale order line, quantity)] the after-sale is about; all product lines
        for a whole-order refund."""
        services = self._service_products()
        product_lines = order.order_line.filtered(
            lambda line: not line.display_type and line.product_uom_qty > 0 and line.product_id not in services)
        if not refund.lines:
            return [(line, line.product_uom_qty) for line in product_lines]
        products = self._item_products(order, channel, refund.lines)
        items = []
        for sku, qty in refund.lines:
            line = product_lines.filtered(lambda l, p=products[sku]: l.product_id == p)[:1]
            if not line:
                raise OrderError(_("After-sale %(ref)s refunds SKU %(sku)s, which order %(order)s does not sell.",
                                   ref=refund.refund_ref, sku=sku, order=order.platform_order_ref))
            items.append((line, qty))
        return items

    def _service_products(self):
        return self.env.ref("live_commerce_crm.product_live_shipping") \
            | self.env.ref("live_commerce_crm.product_live_discount") \
            | self.env.ref("live_commerce_crm.product_live_refund")

    def _refund_before_shipping(self, order, items):
        """Nothing of it shipped: the refunded quantities are cancelled, which
        releases their stock (the whole order when everything is refunded)."""
        if order.state != "sale":
            if order.state != "cancel":
                order.with_context(disable_cancel_warning=True)._action_cancel()
            return
        remaining = {line: line.product_uom_qty for line in order.order_line}
        for line, qty in items:
            remaining[line] = max(0.0, remaining[line] - qty)
        if all(float_is_zero(qty, precision_rounding=line.product_uom.rounding)
               for line, qty in remaining.items() if line.product_id not in self._service_products()):
            order.with_context(disable_cancel_warning=True)._action_cancel()
            order.mrp_production_ids.filtered(lambda mo: mo.state not in ("done", "cancel")).action_cancel()
            return
        for line, qty in items:
            # The platform's price stays: Odoo reprices a line whose quantity changes
            # when its price is the one it was created with.
            line.write({"product_uom_qty": remaining[line], "price_unit": line.price_unit, "discount": line.discount})

    def _credit_note(self, order, channel, refund, items):
        """A credit note for exactly what the platform refunded: the refunded lines
        at their price, and a line for any difference (a partial refund, shipping),
        reconciled with the invoice, or paid back from the settlement journal when
        the invoice was paid already."""
        invoices = self._invoice(order)
        currency = order.currency_id
        amount = _fen(refund.amount, currency)
        # Returned goods come off the order's invoiced quantities, as their return
        # comes off the delivered ones; a refund only leaves both as they are.
        lines = [Command.create({
            "product_id": line.product_id.id, "quantity": qty, "price_unit": line.price_unit,
            "tax_ids": [Command.set(line.tax_id.ids)],
            **({"sale_line_ids": [Command.set(line.ids)]} if refund.return_goods else {}),
        }) for line, qty in items]
        goods = sum(currency.round(line.price_unit * qty) for line, qty in items)
        difference = currency.round(amount - goods) if refund.lines else 0.0
        if not refund.lines:
            # A whole-order refund: the amount as one line, whatever the goods.
            product = self.env.ref("live_commerce_crm.product_live_refund")
            lines = [Command.create({"product_id": product.id, "quantity": 1, "price_unit": amount,
                                     "name": _("Refund %s", refund.refund_ref),
                                     "tax_ids": [Command.set(channel._order_taxes().ids)]})]
        elif not currency.is_zero(difference):
            product = self.env.ref("live_commerce_crm.product_live_refund")
            lines.append(Command.create({"product_id": product.id, "quantity": 1, "price_unit": difference,
                                         "name": _("Refund %s: difference", refund.refund_ref),
                                         "tax_ids": [Command.set(channel._order_taxes().ids)]}))
        credit_note = self.env["account.move"].sudo().with_context(**QUIET).create({
            "move_type": "out_refund", "partner_id": order.partner_invoice_id.id, "company_id": order.company_id.id,
            "currency_id": currency.id, "invoice_origin": order.name,
            "ref": _("Refund %(refund)s of %(order)s", refund=refund.refund_ref, order=order.platform_order_ref),
            "invoice_line_ids": lines,
        })
        credit_note.action_post()
        open_invoice = invoices.filtered(lambda move: move.amount_residual > 0)[:1]
        if open_invoice:
            (open_invoice.line_ids | credit_note.line_ids).filtered(
                lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled).reconcile()
        if credit_note.amount_residual > 0:
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=credit_note.ids).create({
                    "journal_id": channel._settlement_journal().id,
                    "payment_date": fields.Date.context_today(self)})._create_payments()
        return credit_note

    def _return(self, order, items):
        """A return to receive for the goods the buyer sends back."""
        wanted = defaultdict(float)
        for line, qty in items:
            wanted[line.product_id] += qty
        pickings = self._outgoing(order, done=True).sorted("id", reverse=True)
        if not pickings:
            raise OrderError(_("Order %s has no validated delivery to return.", order.platform_order_ref))
        returns = self.env["stock.picking"]
        for picking in pickings:
            if not any(wanted.values()):
                break
            wizard = self.env["stock.return.picking"].sudo().with_context(
                active_id=picking.id, active_model="stock.picking").create({"picking_id": picking.id})
            for return_line in wizard.product_return_moves:
                qty = min(wanted.get(return_line.product_id, 0.0), return_line.move_id.quantity)
                return_line.quantity = qty
                if qty:
                    wanted[return_line.product_id] -= qty
            if any(wizard.product_return_moves.mapped("quantity")):
                returns |= wizard._create_return()
        return returns[:1]


class _Item:
    """A (sku, quantity) of a shipment or after-sale, looked up like an order line."""
    __slots__ = ("sku", "quantity", "merchant_code")

    def __init__(self, sku, quantity):
        self.sku, self.quantity, self.merchant_code = sku, quantity, None
