from odoo import api, models

from ..models.sale_order import PAID_DOMAIN

TOP = 10
LAST_SESSIONS = 5


class LiveSessionReviewReport(models.AbstractModel):
    """What the review (PDF) prints beside the session's figures: its top products
    and fans and the host's last sessions, each read grouped, as superuser like the
    session's GMV (a host reviews her session without reading every order)."""
    _name = "report.live_commerce_crm.report_live_session_review"
    _description = "Live Session Review"

    @api.model
    def _get_report_values(self, docids, data=None):
        sessions = self.env["live.session"].browse(docids)
        return {
            "doc_ids": docids, "doc_model": "live.session", "docs": sessions,
            "review": {session.id: self._review(session) for session in sessions},
        }

    @api.model
    def _review(self, session):
        Order = self.env["sale.order"].sudo()
        paid = [("live_session_id", "=", session.id), *PAID_DOMAIN]
        products = self.env["sale.order.line"].sudo()._read_group(
            [("order_id", "any", paid), ("display_type", "=", False)], ["product_id"],
            ["product_uom_qty:sum", "price_total:sum"], order="price_total:sum desc", limit=TOP)
        fans = Order._read_group(paid, ["partner_id"], ["__count", "live_gmv:sum"], order="live_gmv:sum desc",
                                 limit=TOP)
        comments = dict(self.env["live.session.fan"].sudo()._read_group(
            [("session_id", "=", session.id), ("partner_id", "in", [partner.id for partner, *_rest in fans])],
            ["partner_id"], ["comment_count:sum"]))
        earlier = self.env["live.session"]
        if session.host_id:
            when = session.date_start or session.date_scheduled_start
            earlier = self.env["live.session"].search([
                ("host_id", "=", session.host_id.id), ("id", "!=", session.id),
                ("date_scheduled_start", "<=", when)], order="date_scheduled_start desc", limit=LAST_SESSIONS)
        return {
            "products": [{"product": product, "quantity": quantity, "amount": amount}
                         for product, quantity, amount in products],
            "fans": [{"partner": partner, "orders": count, "gmv": gmv, "comments": comments.get(partner, 0)}
                     for partner, count, gmv in fans],
            "earlier": earlier,
        }
