import base64
from datetime import timedelta
import io

import xlsxwriter

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.sale_order import PAID_DOMAIN


class LiveSessionExportWizard(models.TransientModel):
    """An XLSX workbook of sessions (chosen, or those of a period): sheets Figures,
    Orders, Products and Fans. The figures are the sessions' own (live.session
    figures, read from the processor's aggregates); orders and products are the paid
    orders (sale.order's definition), fans the sessions' audience lines."""
    _name = "live.session.export.wizard"
    _description = "Export Session Figures"

    scope = fields.Selection([("sessions", "Selected Sessions"), ("period", "Period")], required=True,
                             default="sessions")
    session_ids = fields.Many2many("live.session", string="Sessions")
    date_from = fields.Date(string="From")
    date_to = fields.Date(string="To")
    channel_ids = fields.Many2many("live.channel", string="Channels", help="Empty: every channel.")
    data = fields.Binary(string="File", readonly=True, attachment=False)
    filename = fields.Char(readonly=True)

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if self.env.context.get("active_model") == "live.session" and self.env.context.get("active_ids"):
            values["session_ids"] = [(6, 0, self.env.context["active_ids"])]
        return values

    def _sessions(self):
        if self.scope == "sessions":
            return self.session_ids
        if not (self.date_from and self.date_to):
            raise UserError(_("Give the period's first and last day."))
        domain = [("date_scheduled_start", ">=", fields.Datetime.to_datetime(self.date_from)),
                  ("date_scheduled_start", "<", fields.Datetime.to_datetime(self.date_to) + timedelta(days=1))]
        if self.channel_ids:
            domain.append(("channel_id", "in", self.channel_ids.ids))
        return self.env["live.session"].search(domain, order="date_scheduled_start")

    def action_export(self):
        self.ensure_one()
        sessions = self._sessions()
        if not sessions:
            raise UserError(_("No session to export."))
        content = self._workbook(sessions)
        name = sessions.name if len(sessions) == 1 else f"{self.date_from or ''}-{self.date_to or ''}"
        self.write({"data": base64.b64encode(content), "filename": _("Sessions %s.xlsx", name)})
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
                "target": "new", "name": _("Export Session Figures")}

    def _workbook(self, sessions):
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(buffer, {"in_memory": True, "default_date_format": "yyyy-mm-dd hh:mm"})
        bold = book.add_format({"bold": True})
        percent = book.add_format({"num_format": "0.0%"})
        money = book.add_format({"num_format": "#,##0.00"})

        def sheet(name, header, rows, formats=()):
            ws = book.add_worksheet(name)
            ws.write_row(0, 0, header, bold)
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row):
                    fmt = formats[c] if c < len(formats) else None
                    if hasattr(value, "year") and hasattr(value, "hour"):
                        ws.write_datetime(r, c, value)
                    elif fmt is not None:
                        ws.write(r, c, value, fmt)
                    else:
                        ws.write(r, c, value)
            ws.set_column(0, len(header) - 1, 16)
            return ws

        # Figures: one row per session, each label with its denominator (metrics.md).
        columns = [
            (_("Session"), lambda s: s.name, None), (_("Channel"), lambda s: s.channel_id.name, None),
            (_("Host"), lambda s: s.host_id.name or "", None),
            (_("Start"), lambda s: s.date_start or s.date_scheduled_start, None),
            (_("PV (visits)"), lambda s: s.pv, None), (_("UV (unique viewers)"), lambda s: s.uv, None),
            (_("PCU (peak concurrent viewers)"), lambda s: s.pcu, None),
            (_("ACU (average concurrent viewers)"), lambda s: s.acu, None),
            (_("GMV"), lambda s: s.gmv, money), (_("Refunds"), lambda s: s.refund_amount, money),
            (_("Net GMV"), lambda s: s.net_gmv, money), (_("Paid Orders"), lambda s: s.order_count, None),
            (_("Buyers (people)"), lambda s: s.buyer_count, None),
            (_("New Buyers (people)"), lambda s: s.new_buyer_count, None),
            (_("Returning Buyers (people)"), lambda s: s.returning_buyer_count, None),
            (_("Conversion (buyers / UV)"), lambda s: s.conversion_people, percent),
            (_("Conversion (paid orders / PV)"), lambda s: s.conversion_visits, percent),
            (_("GPM (GMV × 1000 / PV)"), lambda s: s.gpm, money),
            (_("UV Value (GMV / UV)"), lambda s: s.uv_value, money),
            (_("AOV (GMV / paid orders)"), lambda s: s.aov, money),
            (_("Average Watch Time (s, total / UV)"), lambda s: s.avg_watch_seconds, None),
            (_("Interaction Rate (interacting viewers / UV)"), lambda s: s.interaction_rate, percent),
            (_("New-Fan Rate (new followers / UV)"), lambda s: s.new_fan_rate, percent),
            (_("Ad Spend"), lambda s: s.ad_spend, money), (_("ROI (GMV / ad spend)"), lambda s: s.roi, None),
            (_("Ad-attributed GMV"), lambda s: s.ad_gmv, money),
            (_("Ad ROI (ad-attributed GMV / ad spend)"), lambda s: s.ad_roi, None),
            (_("Refund Rate (refunds / GMV)"), lambda s: s.refund_rate, percent),
            (_("Refund Rate (refunded orders / paid orders)"), lambda s: s.refund_order_rate, percent),
        ]
        sheet(_("Figures"), [label for label, _get, _fmt in columns],
              [[get(session) for _label, get, _fmt in columns] for session in sessions],
              [fmt for _label, _get, fmt in columns])

        orders = self.env["sale.order"].sudo().search(
            [("live_session_id", "in", sessions.ids), *PAID_DOMAIN], order="live_session_id, id")
        sheet(_("Orders"), [_("Session"), _("Order"), _("Platform Order"), _("Customer"), _("Paid on Platform"),
                            _("GMV"), _("Refunded")],
              [[o.live_session_id.name, o.name, o.platform_order_ref or "", o.partner_id.display_name,
                o.platform_paid_at or o.date_order, o.live_gmv, o.live_refunded_amount] for o in orders],
              [None, None, None, None, None, money, money])

        products = self.env["sale.order.line"].sudo()._read_group(
            [("order_id", "in", orders.ids), ("display_type", "=", False)], ["product_id"],
            ["product_uom_qty:sum", "price_total:sum"], order="price_total:sum desc")
        sheet(_("Products"), [_("Product"), _("Quantity"), _("Amount")],
              [[product.display_name, quantity, amount] for product, quantity, amount in products],
              [None, None, money])

        audience = self.env["live.session.fan"].sudo().search([("session_id", "in", sessions.ids)],
                                                              order="session_id, id")
        bought = {(session.id, partner.id): (count, gmv) for session, partner, count, gmv in
                  self.env["sale.order"].sudo()._read_group(
                      [("id", "in", orders.ids)], ["live_session_id", "partner_id"], ["__count", "live_gmv:sum"])}
        sheet(_("Fans"), [_("Session"), _("Fan"), _("Watch Time So Far (s)"), _("Comments"), _("Likes"),
                          _("Gift Value"), _("Follows"), _("Shares"), _("Paid Orders"), _("GMV")],
              [[line.session_id.name, line.partner_id.display_name, line.watch_time_now, line.comment_count,
                line.like_count, line.gift_value, line.follow_count, line.share_count,
                *bought.get((line.session_id.id, line.partner_id.id), (0, 0.0))] for line in audience],
              [None] * 9 + [money])
        book.close()
        return buffer.getvalue()
