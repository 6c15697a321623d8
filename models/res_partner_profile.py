"""The fan's 360° profile: what the form shows beyond the stored figures, and the
timeline of its sessions and orders."""
from odoo import _, api, fields, models
from odoo.tools.misc import format_amount, format_datetime

# The timeline shows this many of the last sessions and of the last orders; the
# buttons under it open them all.
TIMELINE_LIMIT = 20


class ResPartner(models.Model):
    _inherit = "res.partner"

    # Every segment is a column of the fans' kanban, empty ones too.
    fan_rfm_segment = fields.Selection(group_expand=True)
    fan_first_interaction_at = fields.Datetime(
        string="First Interaction", compute="_compute_fan_first_interaction_at",
        help="When the fan was first seen in a live session.")
    fan_favourite_category_ids = fields.One2many(
        "live.fan.category", "partner_id", string="Favourite Categories", readonly=True,
        help="The product categories the fan paid the most for, recomputed with its order figures.")
    fan_timeline_html = fields.Html(
        string="Timeline", compute="_compute_fan_timeline_html", sanitize=False,
        help="The fan's last sessions (what it did in each) and last orders, newest first.")
    # For the fans' search: by the channel of an identity, by the host of a session attended.
    fan_channel_ids = fields.Many2many("live.channel", string="Live Channels", compute="_compute_fan_channel_ids",
                                       search="_search_fan_channel_ids")
    fan_host_ids = fields.Many2many("res.users", string="Hosts", compute="_compute_fan_host_ids",
                                    search="_search_fan_host_ids",
                                    help="The hosts of the sessions the fan attended.")

    @api.depends("live_identity_ids.channel_id")
    def _compute_fan_channel_ids(self):
        for partner in self:
            partner.fan_channel_ids = partner.live_identity_ids.channel_id

    def _search_fan_channel_ids(self, operator, value):
        return [("live_identity_ids.channel_id", operator, value)]

    @api.depends("live_audience_ids.session_id.host_id")
    def _compute_fan_host_ids(self):
        for partner in self:
            partner.fan_host_ids = partner.live_audience_ids.session_id.host_id

    def _search_fan_host_ids(self, operator, value):
        return [("live_audience_ids.session_id.host_id", operator, value)]

    def _compute_fan_first_interaction_at(self):
        firsts = dict(self.env["live.session.fan"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["first_seen_at:min"]))
        for partner in self:
            partner.fan_first_interaction_at = firsts.get(partner, False)

    def _compute_fan_timeline_html(self):
        for partner in self:
            if not partner.id or not partner.is_live_fan:
                partner.fan_timeline_html = False
                continue
            sessions, session_total = partner._fan_timeline_sessions()
            orders, order_total = partner._fan_timeline_orders()
            entries = sorted(sessions + orders, key=lambda entry: entry["sort"], reverse=True)
            more_sessions, more_orders = session_total - len(sessions), order_total - len(orders)
            older = _("Older: %(sessions)s session(s) and %(orders)s order(s); the buttons below list them all.",
                      sessions=more_sessions, orders=more_orders) if more_sessions or more_orders else ""
            partner.fan_timeline_html = self.env["ir.qweb"]._render("live_commerce_crm.fan_timeline", {
                "entries": entries, "older": older})

    def _fan_timeline_sessions(self):
        """The last sessions the fan attended, each with what it did there."""
        Audience = self.env["live.session.fan"]
        domain = [("partner_id", "=", self.id)]
        lines = Audience.search(domain, order="last_seen_at desc, id desc", limit=TIMELINE_LIMIT)
        entries = []
        for line in lines:
            session = line.session_id
            when = session.date_start or line.first_seen_at or session.date_scheduled_start
            minutes, seconds = divmod(line.watch_seconds or 0, 60)
            entries.append({
                "kind": "session", "sort": line.last_seen_at or when or fields.Datetime.from_string("1970-01-01"),
                "name": session.name, "channel": session.channel_id.name,
                "date": format_datetime(self.env, when) if when else "",
                "watch": f"{minutes // 60}:{minutes % 60:02d}:{seconds:02d}",
                "comments": line.comment_count, "likes": line.like_count, "gifts": line.gift_count,
                "gift_value": format_amount(self.env, line.gift_value, line.currency_id) if line.gift_value else "",
                "follows": line.follow_count,
            })
        total = len(lines) if len(lines) < TIMELINE_LIMIT else Audience.search_count(domain)
        return entries, total

    def _fan_timeline_orders(self):
        """The last sale orders of the fan and of its contacts, live or not; none for
        users who may not read orders."""
        Order = self.env["sale.order"]
        if not Order.has_access("read"):
            return [], 0
        domain = self._fan_orders_domain()
        orders = Order.search(domain, order="date_order desc, id desc", limit=TIMELINE_LIMIT)
        states = dict(Order._fields["state"]._description_selection(self.env))
        entries = [{
            "kind": "order", "sort": order.date_order, "name": order.name,
            "channel": order.live_channel_id.name or "",
            "date": format_datetime(self.env, order.date_order),
            "amount": format_amount(self.env, order.amount_total, order.currency_id),
            "state": states.get(order.state, order.state),
        } for order in orders]
        total = len(orders) if len(orders) < TIMELINE_LIMIT else Order.search_count(domain)
        return entries, total

    def _fan_orders_domain(self):
        return [("partner_id", "child_of", self.ids)]

    def action_view_fan_sessions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "name": _("Sessions of %s", self.display_name),
            "res_model": "live.session.fan", "view_mode": "list,form",
            "views": [(self.env.ref("live_commerce_crm.live_session_fan_view_list").id, "list"), (False, "form")],
            "domain": [("partner_id", "=", self.id)],
        }

    def action_view_fan_orders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "name": _("Orders of %s", self.display_name),
            "res_model": "sale.order", "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": self._fan_orders_domain(),
            "context": {"default_partner_id": self.id},
        }
