from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools import format_date

# The stream keeps at most this many comments; a refetch brings at most as many.
WORKBENCH_COMMENT_LIMIT = 300
WORKBENCH_HOT_FANS = 10
BUS_NOTIFICATION = "live_commerce_crm/session_updated"
OPERATOR_GROUPS = ("live_commerce_crm.group_live_host", "live_commerce_crm.group_live_field_controller")
SERVICE_GROUP = "live_commerce_crm.group_live_service"
MANAGER_GROUP = "live_commerce_crm.group_live_manager"


def workbench_channel(session_id):
    """The channel a workbench asks for; ir.websocket subscribes it to the
    session's record channel if its user may read the session. Notifications
    carry the session id only: each screen re-reads through RPC, under its
    user's rights."""
    return f"live_commerce_crm.session_{int(session_id)}"


class LiveSession(models.Model):
    """The host and field-controller workbench (static/src/workbench): one RPC
    reads everything it shows, the bus says when to read again."""
    _inherit = "live.session"

    @api.model
    def _workbench_tile_fields(self):
        """The workbench's live tiles, in order: (field of live.session, what the
        figure is counted over or divided by). Every tile is a field, so the form,
        the board and the workbench show one definition (models/live_session_figures.py)."""
        return [
            ("online_count", _("people, now")),
            ("pv", _("visits")),
            ("uv", _("people")),
            ("pcu", _("people, concurrent")),
            ("acu", _("people, concurrent")),
            ("gmv", _("paid orders")),
            ("net_gmv", _("GMV - refunds")),
            ("order_count", _("paid orders")),
            ("buyer_count", _("people")),
            ("conversion_people", _("buyers / UV")),
            ("conversion_visits", _("paid orders / PV")),
            ("gpm", _("GMV × 1000 / PV")),
            ("uv_value", _("GMV / UV")),
            ("aov", _("GMV / paid orders")),
            ("avg_watch_seconds", _("watch seconds / UV")),
            ("interaction_rate", _("interacting viewers / UV")),
            ("new_fan_rate", _("new followers / UV")),
            ("new_buyer_count", _("first paid order from us")),
            ("returning_buyer_count", _("paid before")),
            ("roi", _("GMV / ad spend")),
            ("ad_roi", _("ad-attributed GMV / ad spend")),
            ("refund_rate", _("refunds / GMV")),
        ]

    # Ratios the workbench shows as percentages, as the Figures tab does.
    _WORKBENCH_PERCENT_TILES = frozenset({
        "conversion_people", "conversion_visits", "interaction_rate", "new_fan_rate", "refund_rate"})

    # ------------------------------------------------------------------ reads

    @api.model
    def workbench_sessions(self):
        """The live sessions the user may open, the user's own first."""
        sessions = self.search([("state", "=", "live")])
        uid = self.env.uid
        sessions = sessions.sorted(lambda s: (uid not in (s.host_id.id, s.field_controller_id.id), -s.id))
        return [{"id": s.id, "name": s.display_name, "channel": s.channel_id.display_name,
                 "host": s.host_id.display_name or ""} for s in sessions]

    @api.model
    def workbench_data(self, session_id, after_comment_id=0):
        """Everything the workbench shows of one session, read under the user's
        rights: tiles, freshness, the comments after `after_comment_id` (newest
        first, at most WORKBENCH_COMMENT_LIMIT), hot fans and featured products."""
        session = self.browse(int(session_id)).exists()
        if not session:
            raise UserError(_("This live session no longer exists."))
        session.check_access("read")
        after_comment_id = int(after_comment_id or 0)
        data = {
            "session": {
                "id": session.id, "name": session.display_name, "state": session.state,
                "channel": session.channel_id.display_name, "host": session.host_id.display_name or "",
                "currency_id": session.currency_id.id,
            },
            "tiles": session._workbench_tiles(),
            "freshness": session._workbench_freshness(),
            "comments": session._workbench_comments(after_comment_id),
            "hot_fans": session._workbench_hot_fans(),
            "products": session._workbench_products(),
            "can_operate": self._workbench_can_operate(),
        }
        if not after_comment_id:
            # What does not change during a stream: read once, when the screen opens.
            data.update(session._workbench_choices())
        return data

    def _workbench_tiles(self):
        self.ensure_one()
        tiles = []
        for name, denominator in self._workbench_tile_fields():
            field = self._fields[name]
            tiles.append({
                "key": name, "label": field._description_string(self.env), "value": self[name],
                "denominator": denominator,
                "type": "percentage" if name in self._WORKBENCH_PERCENT_TILES else field.type,
            })
        return tiles

    def _workbench_freshness(self):
        """When the figures last moved: the platform's last stats report and the
        last fan event the processor applied for this session."""
        self.ensure_one()
        self.env["live.session.fan"].flush_model(["session_id", "last_seen_at"])
        self.env.cr.execute("SELECT max(last_seen_at) FROM live_session_fan WHERE session_id = %s", [self.id])
        last_event = self.env.cr.fetchone()[0]
        return {
            "stats_at": fields.Datetime.to_string(self.stat_updated_at) if self.stat_updated_at else False,
            "event_at": fields.Datetime.to_string(last_event) if last_event else False,
            "read_at": fields.Datetime.to_string(fields.Datetime.now()),
        }

    def _workbench_comments(self, after_comment_id):
        self.ensure_one()
        comments = self.env["live.comment"].search(
            [("session_id", "=", self.id), ("id", ">", after_comment_id)],
            order="id desc", limit=WORKBENCH_COMMENT_LIMIT)
        badges = self._workbench_badges(comments.partner_id)
        return [{
            "id": comment.id, "content": comment.content or "",
            "at": fields.Datetime.to_string(comment.occurred_at) if comment.occurred_at else False,
            "partner_id": comment.partner_id.id, "partner_name": comment.partner_id.display_name or "",
            "badges": badges.get(comment.partner_id.id, []),
        } for comment in comments]

    def _workbench_badges(self, partners):
        """{partner id: [{key, label}]}: VIP, repeat buyer, new (first seen during
        this stream) and the RFM segment."""
        self.ensure_one()
        segments = dict(partners._fields["fan_rfm_segment"]._description_selection(self.env))
        badges = {}
        for partner in partners:
            items = []
            if partner.fan_lifecycle_stage == "vip":
                items.append({"key": "vip", "label": _("VIP")})
            elif partner.fan_lifecycle_stage == "repeat":
                items.append({"key": "repeat", "label": _("Repeat Buyer")})
            if partner.fan_since and self.date_start and partner.fan_since >= self.date_start:
                items.append({"key": "new", "label": _("New Fan")})
            if partner.fan_rfm_segment:
                items.append({"key": "segment", "label": segments.get(partner.fan_rfm_segment, "")})
            badges[partner.id] = items
        return badges

    def _workbench_hot_fans(self):
        """The fans who interacted most in the session (comments, likes, gifts,
        shares, follows), read under the user's rules."""
        self.ensure_one()
        self.env["live.session.fan"].flush_model(
            ["session_id", "comment_count", "like_count", "gift_count", "share_count", "follow_count"])
        self.env.cr.execute("""
            SELECT id FROM live_session_fan
             WHERE session_id = %s
             ORDER BY coalesce(comment_count, 0) + coalesce(like_count, 0) + coalesce(gift_count, 0)
                      + coalesce(share_count, 0) + coalesce(follow_count, 0) DESC, id
             LIMIT %s
        """, [self.id, WORKBENCH_HOT_FANS])
        ids = [row[0] for row in self.env.cr.fetchall()]
        lines = self.env["live.session.fan"].search([("id", "in", ids)])
        order = {line_id: index for index, line_id in enumerate(ids)}
        lines = lines.sorted(lambda line: order[line.id])
        badges = self._workbench_badges(lines.partner_id)
        return [{
            "partner_id": line.partner_id.id, "name": line.partner_id.display_name or "",
            "interactions": line.comment_count + line.like_count + line.gift_count + line.share_count
            + line.follow_count,
            "comment_count": line.comment_count, "like_count": line.like_count, "gift_count": line.gift_count,
            "badges": badges.get(line.partner_id.id, []),
        } for line in lines]

    def _workbench_products(self):
        """Featured products with the stock left (free quantity in the channel's
        warehouse), quantity sold, GMV and what their presentations brought."""
        self.ensure_one()
        lines = self.product_line_ids
        warehouse = self.channel_id.sudo().warehouse_id
        # Stock and order lines are figures here, not records the user opens.
        products = lines.product_id.sudo().with_context(warehouse_id=warehouse.id) if warehouse \
            else lines.product_id.sudo()
        free = {product.id: product.free_qty for product in products}
        OrderLine = self.env["sale.order.line"].sudo()
        gmv = dict(OrderLine._read_group(
            [("order_id.live_session_id", "=", self.id), ("product_id", "in", lines.product_id.ids),
             *[("order_id." + term[0], term[1], term[2]) if isinstance(term, tuple) else term
               for term in self.env["sale.order"]._live_paid_domain()]],
            ["product_id"], ["price_total:sum"]))
        gmv = {product.id: amount for product, amount in gmv.items()}
        return [{
            "id": line.id, "product_id": line.product_id.id, "name": line.product_id.display_name,
            "live_price": line.live_price, "quantity_sold": line.quantity_sold,
            "free_qty": free.get(line.product_id.id, 0.0), "gmv": gmv.get(line.product_id.id, 0.0),
            "is_presenting": line.is_presenting, "presentation_order_count": line.presentation_order_count,
            "presentation_gmv": line.presentation_gmv,
        } for line in lines]

    def _workbench_choices(self):
        """The tags a fan can be given, the coupon programs and the comment
        keywords to highlight."""
        self.ensure_one()
        company_ids = [False, self.company_id.id]
        tags = self.env["res.partner.category"].search([], limit=200)
        programs = self.env["loyalty.program"].sudo().search(
            [("program_type", "=", "coupons"), ("active", "=", True), ("company_id", "in", company_ids)])
        keywords = self.env["live.fan.tag.keyword"].sudo().search(
            [("rule_id.kind", "=", "comment_keywords"), ("rule_id.active", "=", True),
             ("rule_id.company_id", "in", company_ids)])
        return {
            "tags": [{"id": tag.id, "name": tag.display_name} for tag in tags],
            "programs": [{"id": program.id, "name": program.name} for program in programs],
            "keywords": sorted({keyword.keyword for keyword in keywords if keyword.keyword}, key=len, reverse=True),
        }

    @api.model
    def _workbench_can_operate(self):
        """Hosts, field controllers (and managers, who are both) act on the stream."""
        return any(self.env.user.has_group(group) for group in OPERATOR_GROUPS)

    # ------------------------------------------------------------------ one-click actions

    @api.model
    def workbench_tag_fan(self, session_id, partner_id, tag_id):
        """Tag a fan. Goes through the fans' privacy rules as the user: hosts and
        field controllers may link existing tags, nothing else."""
        session = self._workbench_session(session_id)
        tag = self.env["res.partner.category"].browse(int(tag_id)).exists()
        if not tag:
            raise UserError(_("This tag no longer exists."))
        partner = self._workbench_fan(session, partner_id)
        partner.write({"category_id": [Command.link(tag.id)]})
        return {"partner": partner.display_name, "tag": tag.display_name,
                "tags": partner.category_id.mapped("display_name")}

    @api.model
    def workbench_assign_fan(self, session_id, partner_id):
        """Hand a fan to customer service: a follow-up activity on the fan for a
        service user (the fan's salesperson when they are one, else the service
        user with the fewest open follow-ups). An activity rather than a new
        salesperson: the fan's owner stays who it was (hosts may not change it,
        README "Fans' privacy"), the request lands in the service user's own
        activities and in the service workbench's queue, and is done when handled."""
        session = self._workbench_session(session_id, operate=True)
        partner = self._workbench_fan(session, partner_id).sudo()
        activity_type = self.env.ref("live_commerce_crm.mail_activity_type_live_followup")
        open_activity = self.env["mail.activity"].sudo().search([
            ("res_model", "=", "res.partner"), ("res_id", "=", partner.id),
            ("activity_type_id", "=", activity_type.id)], limit=1)
        if open_activity:
            return {"partner": partner.display_name, "user": open_activity.user_id.display_name, "existing": True}
        user = self._workbench_service_user(session, partner, activity_type)
        if not user:
            raise UserError(_("No customer service user works for %s.", session.company_id.name))
        partner.with_context(mail_activity_quick_update=True).activity_schedule(
            activity_type_id=activity_type.id, user_id=user.id,
            summary=_("Follow up from live session %s", session.name),
            note=_("Asked by %(user)s during %(session)s.", user=self.env.user.name, session=session.name))
        return {"partner": partner.display_name, "user": user.display_name, "existing": False}

    @api.model
    def workbench_send_coupon(self, session_id, partner_id, program_id):
        """Give a fan one coupon of a coupon program (Odoo loyalty, the values of
        its own generation wizard, as flows do), noted on the fan's chatter. The
        code is shown to the host to read out or paste in the room: nothing is sent
        to the fan here, so no marketing consent is involved."""
        session = self._workbench_session(session_id, operate=True)
        partner = self._workbench_fan(session, partner_id)
        program = self.env["loyalty.program"].sudo().browse(int(program_id)).exists()
        if not program or program.program_type != "coupons" or program.company_id not in (
                self.env["res.company"], session.company_id):
            raise UserError(_("Choose a coupon program of %s.", session.company_id.name))
        wizard = self.env["loyalty.generate.wizard"].sudo().new({
            "program_id": program.id, "mode": "selected", "description": session.name})
        Card = self.env["loyalty.card"].sudo()
        card = Card.create(dict(wizard._get_coupon_values(partner.sudo()), code=Card._live_new_codes(1)[0]))
        expiry = _(", valid until %s", format_date(self.env, card.expiration_date)) if card.expiration_date else ""
        partner.sudo().message_post(body=Markup("%s") % _(
            "Coupon %(code)s of %(program)s given during live session %(session)s by %(user)s%(expiry)s.",
            code=card.code, program=program.name, session=session.name, user=self.env.user.name, expiry=expiry))
        return {"partner": partner.display_name, "code": card.code, "program": program.name}

    @api.model
    def workbench_present(self, session_id, session_product_id):
        """Mark a featured product as the one presented now (讲解)."""
        self._workbench_featured_line(session_id, session_product_id)._start_presentation()
        return True

    @api.model
    def workbench_stop_presenting(self, session_id, session_product_id):
        """End the presentation of a featured product (nothing presented now)."""
        return self._workbench_featured_line(session_id, session_product_id).action_stop_presenting()

    def _workbench_featured_line(self, session_id, session_product_id):
        session = self._workbench_session(session_id, operate=True)
        line = self.env["live.session.product"].browse(int(session_product_id)).exists()
        if line.session_id != session:
            raise UserError(_("This product is not featured in %s.", session.name))
        return line

    def _workbench_session(self, session_id, operate=False):
        session = self.browse(int(session_id)).exists()
        if not session:
            raise UserError(_("This live session no longer exists."))
        session.check_access("read")
        if operate and not self._workbench_can_operate():
            raise AccessError(_("Only hosts, field controllers and managers act on a live session."))
        return session

    def _workbench_fan(self, session, partner_id):
        partner = self.env["res.partner"].browse(int(partner_id)).exists()
        if not partner:
            raise UserError(_("This fan no longer exists."))
        partner.check_access("read")
        return partner

    def _workbench_service_user(self, session, partner, activity_type):
        service_group = self.env.ref(SERVICE_GROUP)
        if partner.user_id and service_group in partner.user_id.groups_id \
                and session.company_id in partner.user_id.company_ids:
            return partner.user_id
        users = self.env["res.users"].sudo().search([
            ("groups_id", "in", service_group.id), ("share", "=", False),
            ("company_ids", "in", session.company_id.id)])
        if not users:
            return users
        # Service users proper first: managers hold the group too, as a fallback.
        manager_group = self.env.ref(MANAGER_GROUP)
        users = users.filtered(lambda user: manager_group not in user.groups_id) or users
        load = dict(self.env["mail.activity"].sudo()._read_group(
            [("user_id", "in", users.ids), ("activity_type_id", "=", activity_type.id)], ["user_id"], ["__count"]))
        return min(users, key=lambda user: (load.get(user, 0), user.id))

    # ------------------------------------------------------------------ live updates

    def _workbench_notify(self):
        """One bus notification per session: open workbenches re-read it."""
        self.env["live.session"]._workbench_notify_ids(self.ids)

    @api.model
    def _workbench_notify_ids(self, session_ids):
        Bus = self.env["bus.bus"].sudo()
        for session in self.sudo().browse(sorted(set(session_ids))):
            Bus._sendone(session, BUS_NOTIFICATION, {"session_id": session.id})

    # ------------------------------------------------------------------ actions

    def action_open_workbench(self):
        self.ensure_one()
        return {
            "type": "ir.actions.client", "tag": "live_commerce_crm.workbench", "name": _("Workbench"),
            "params": {"session_id": self.id},
        }

    def action_end(self):
        result = super().action_end()
        periods = self.env["live.session.presentation"].sudo().search(
            [("session_id", "in", self.ids), ("date_end", "=", False)])
        periods.write({"date_end": fields.Datetime.now()})
        return result
