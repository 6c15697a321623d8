import json

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command

# What the fans' readers (app users who are neither customer service nor managers:
# hosts, field controllers) may change on a fan: its tags, and only by linking or
# unlinking existing ones.
FAN_TAGGING_FIELDS = frozenset({"category_id"})
TAGGING_COMMANDS = frozenset({Command.LINK, Command.UNLINK, Command.SET, Command.CLEAR})

# What "Forget this fan" erases on the fan and their contacts (delivery addresses
# included); the name is replaced. Fields of addons that may be absent are skipped.
ERASED_PARTNER_FIELDS = (
    "email", "phone", "mobile", "street", "street2", "zip", "city", "state_id", "website", "comment",
    "function", "title", "ref", "vat", "image_1920", "fan_phone_hash", "fan_phone_masked",
)
# mail's tracked partner fields: their old values are erased from the chatter too.
ERASED_TRACKED_FIELDS = ("name", "email", "phone", "mobile", "vat", "contact_address_inline", "street", "city")

MANAGER_GROUP = "live_commerce_crm.group_live_manager"
MIN_MATCHED_VALUE_LENGTH = 6


class ResPartner(models.Model):
    _inherit = "res.partner"

    live_consent_ids = fields.One2many("live.fan.consent", "partner_id", string="Marketing Consents per Channel")
    fan_forgotten_at = fields.Datetime(
        string="Forgotten On", readonly=True, copy=False,
        help="The fan's personal data was erased (Forget this fan); orders and accounting were kept.")

    # ------------------------------------------------------------------
    # Least privilege: readers of fans may only tag them
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if self._live_tagging_only() and partners._live_fans():
            raise AccessError(_("Only customer service and managers add fans or their contacts."))
        return partners

    def write(self, vals):
        if self._live_tagging_only():
            fans = self._live_fans()
            if fans:
                if not (vals.keys() <= FAN_TAGGING_FIELDS and self._live_tagging_commands_only(vals)):
                    raise AccessError(_(
                        "Only customer service and managers change fans' details; you may tag fans."))
                if fans == self:
                    # Hosts and field controllers read contacts only (ir.model.access):
                    # once they may read the fans, their tags go through as superuser,
                    # as res.users does with the fields users may change on themselves.
                    self.check_access("read")
                    return super(ResPartner, self.sudo()).write(vals)
        return super().write(vals)

    def unlink(self):
        if self._live_tagging_only() and self._live_fans():
            raise AccessError(_("Only customer service and managers change fans' details; you may tag fans."))
        return super().unlink()

    def _live_tagging_only(self):
        """True for app users who read fans but do not look after them. Users outside
        the app keep whatever Odoo gives them; the processors run as superuser."""
        user = self.env.user
        return (not self.env.su and user.has_group("live_commerce_crm.group_live_user")
                and not user.has_group("live_commerce_crm.group_live_service"))

    def _live_fans(self):
        """The fans among these contacts, and the fans' own contacts (delivery addresses)."""
        partners = self.sudo()
        return self.browse(partners.filtered(
            lambda partner: partner.is_live_fan or partner.commercial_partner_id.is_live_fan).ids)

    @staticmethod
    def _live_tagging_commands_only(vals):
        commands = vals.get("category_id") or []
        # Existing tags only: creating or editing tags is for those who manage contacts.
        return all(isinstance(command, (list, tuple)) and command[0] in TAGGING_COMMANDS for command in commands)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_live_tag_fans(self):
        return self._live_wizard_action("live_commerce_crm.action_live_fan_tag_wizard")

    def action_live_forget_fan(self):
        self._live_check_privacy_manager()
        return self._live_wizard_action("live_commerce_crm.action_live_fan_forget_wizard")

    def action_live_export_fan(self):
        self._live_check_privacy_manager()
        return self._live_wizard_action("live_commerce_crm.action_live_fan_export_wizard")

    def _live_wizard_action(self, xml_id):
        action = self.env["ir.actions.act_window"]._for_xml_id(xml_id)
        action["context"] = {"active_model": "res.partner", "active_ids": self.ids, "active_id": self[:1].id}
        return action

    # ------------------------------------------------------------------
    # Privacy (PIPL): export and forget, managers only, each use logged
    # ------------------------------------------------------------------
    def _live_check_privacy_manager(self):
        if not (self.env.su or self.env.user.has_group(MANAGER_GROUP)):
            raise AccessError(_("Only live commerce managers export or erase a fan's personal data."))

    def _live_check_fans(self, operation):
        self.check_access(operation)
        for partner in self:
            if not partner.is_live_fan or partner.parent_id:
                raise UserError(_("%s is not a fan: only fans are exported or forgotten here.",
                                  partner.display_name))

    def _live_export_data(self):
        """Everything the addon and the sales app keep about the fan, as one
        JSON-ready dict: profile, contacts, identities, consents, interactions
        (sessions attended, comments) and orders."""
        self.ensure_one()
        self._live_check_privacy_manager()
        self._live_check_fans("read")
        fan = self.sudo()
        contacts = fan.with_context(active_test=False).child_ids

        def address(partner):
            return {
                "name": partner.name, "type": partner.type, "email": partner.email or None,
                "phone": partner.phone or None, "mobile": partner.mobile or None,
                "street": partner.street or None, "street2": partner.street2 or None, "city": partner.city or None,
                "zip": partner.zip or None, "state": partner.state_id.name or None,
                "country": partner.country_id.name or None,
            }

        orders = self.env["sale.order"].sudo().search([("partner_id", "child_of", fan.id)], order="date_order, id")
        return {
            "exported_at": fields.Datetime.to_string(fields.Datetime.now()),
            "exported_by": self.env.user.name,
            "profile": {
                **address(fan),
                "id": fan.id, "company": fan.company_id.name or None, "language": fan.lang or None,
                "fan_since": fields.Datetime.to_string(fan.fan_since) or None,
                "lifecycle_stage": fan.fan_lifecycle_stage or None,
                "tags": fan.category_id.mapped("name"),
                "salesperson": fan.user_id.name or None,
                "marketing_consent": fan.fan_marketing_consent,
                "marketing_consent_date": fields.Datetime.to_string(fan.fan_consent_date) or None,
            },
            "contacts": [address(contact) for contact in contacts],
            "identities": [{
                "channel": identity.channel_id.name or None, "platform": identity.platform,
                "type": identity.identity_type, "value": identity.value, "nickname": identity.nickname or None,
                "avatar_url": identity.avatar_url or None,
                "first_seen": fields.Datetime.to_string(identity.first_seen) or None,
            } for identity in fan.live_identity_ids],
            "marketing_consents": [{
                "channel": consent.channel_id.name, "state": consent.state,
                "date": fields.Datetime.to_string(consent.date), "source": consent.source,
                "source_details": consent.source_note or None,
            } for consent in fan.live_consent_ids],
            "sessions": [{
                "session": line.session_id.name, "channel": line.session_id.channel_id.name,
                "first_seen": fields.Datetime.to_string(line.first_seen_at) or None,
                "last_seen": fields.Datetime.to_string(line.last_seen_at) or None,
                "watch_seconds": line.watch_seconds, "comments": line.comment_count, "likes": line.like_count,
                "gifts": line.gift_count, "gift_value": line.gift_value, "follows": line.follow_count,
                "shares": line.share_count,
            } for line in fan.live_audience_ids],
            "comments": [{
                "time": fields.Datetime.to_string(comment.occurred_at) or None,
                "session": comment.session_id.name or None, "channel": comment.channel_id.name,
                "content": comment.content,
            } for comment in fan.live_comment_ids.sorted(lambda c: (c.occurred_at or fields.Datetime.now(), c.id))],
            "orders": [{
                "reference": order.name, "date": fields.Datetime.to_string(order.date_order), "state": order.state,
                "channel": order.live_channel_id.name or None, "platform_order": order.platform_order_ref or None,
                "session": order.live_session_id.name or None,
                "delivery_address": address(order.partner_shipping_id),
                "currency": order.currency_id.name, "amount_total": order.amount_total,
                "lines": [{
                    "product": line.product_id.display_name or None, "description": line.name,
                    "quantity": line.product_uom_qty, "unit_price": line.price_unit,
                    "subtotal": line.price_subtotal,
                } for line in order.order_line],
                "invoices": [{"reference": move.name, "state": move.state, "amount_total": move.amount_total}
                             for move in order.invoice_ids],
            } for order in orders],
        }

    def _live_export_file(self):
        """(file name, bytes) of the fan's data, logged."""
        data = self._live_export_data()
        content = json.dumps(data, indent=2, ensure_ascii=False, default=str).encode()
        filename = f"fan-{self.id}-data.json"
        self._live_log_privacy("export", _("%(orders)s orders, %(comments)s comments, file %(file)s",
                                           orders=len(data["orders"]), comments=len(data["comments"]),
                                           file=filename))
        return filename, content

    def _live_forget(self):
        """Erase the person and keep the books: identities (values, nicknames,
        avatars), comments, names, addresses, phones and e-mails of the fan and their
        contacts, consents, the raw payloads of their pushes and the old values in
        their chatter. Sale orders, deliveries and invoices stay, linked to the
        anonymized contacts; totals and session audiences stay as counts."""
        self._live_check_privacy_manager()
        self._live_check_fans("write")
        # Pending tracking of this transaction is written now, so that its old values
        # are erased below rather than recorded at commit.
        self.env.flush_all()
        self.env.cr.flush()
        for fan in self.sudo():
            partners = fan | fan.with_context(active_test=False).child_ids
            identities = fan.live_identity_ids
            self._live_purge_payloads(partners, identities)
            identities.write({"nickname": False, "avatar_url": False, "avatar_error": False})
            for identity in identities:  # unique per channel or platform: one placeholder each
                identity.value = f"forgotten-{identity.id}"
            self.env["live.comment"].sudo().search([("partner_id", "in", partners.ids)]).write({"content": False})
            fan.live_consent_ids.unlink()
            erased = {name: False for name in ERASED_PARTNER_FIELDS if name in self._fields}
            quiet = partners.with_context(tracking_disable=True, mail_notrack=True)
            quiet.filtered(lambda p: p != fan).write(erased)
            for contact in quiet - fan:
                contact.name = _("Forgotten contact %s", contact.id)
            quiet.filtered(lambda p: p == fan).write({
                **erased, "name": _("Forgotten fan %s", fan.id), "fan_forgotten_at": fields.Datetime.now(),
                "fan_marketing_consent": False})
            self.env["mail.tracking.value"].sudo().search([
                ("mail_message_id.model", "=", "res.partner"), ("mail_message_id.res_id", "in", partners.ids),
                ("field_id.name", "in", ERASED_TRACKED_FIELDS)]).unlink()
            fan._live_log_privacy("forget", _(
                "%(identities)s identities, %(contacts)s contacts", identities=len(identities),
                contacts=len(partners) - 1))
        return True

    def _live_purge_payloads(self, partners, identities):
        """The raw pushes about the person: those linked to them, and those that name
        one of their identities (a push that failed before its fan was known). Events
        still to apply are ignored: without their payload there is nothing to apply."""
        # The value as JSON writes it, quotes included, so "123" does not match "91234";
        # too short a value would still match strangers' pushes: those wait for the
        # retention period.
        patterns = ["%" + json.dumps(value, ensure_ascii=False).replace("\\", "\\\\").replace("%", "\\%")
                    .replace("_", "\\_") + "%"
                    for value in identities.mapped("value") if len(value) >= MIN_MATCHED_VALUE_LENGTH]
        channels = self.env["live.channel"].sudo().with_context(active_test=False).search(
            [("company_id", "in", identities.company_id.ids)])
        self.env["live.event"].flush_model()
        self.env.cr.execute("""
            UPDATE live_event
               SET payload = NULL, payload_purged = TRUE,
                   state = CASE WHEN state IN ('done', 'ignored') THEN state ELSE 'ignored' END,
                   error = CASE WHEN state IN ('done', 'ignored') THEN error ELSE %s END
             WHERE payload IS NOT NULL
               AND (partner_id = ANY(%s)
                    OR (channel_id = ANY(%s) AND payload::text LIKE ANY(%s::text[])))
        """, [_("The fan's personal data was erased (Forget this fan)."), partners.ids, channels.ids, patterns])
        self.env["live.event"].invalidate_model(["payload", "payload_purged", "state", "error"])

    def _live_log_privacy(self, action, note):
        self.ensure_one()
        self.env["live.fan.privacy.log"].sudo().create({
            "partner_id": self.id, "action": action, "user_id": self.env.user.id, "note": note,
            "company_id": (self.company_id or self.env.company).id,
        })
        body = (_("Personal data erased by %(user)s (Forget this fan): %(note)s.", user=self.env.user.name, note=note)
                if action == "forget" else
                _("Personal data exported by %(user)s: %(note)s.", user=self.env.user.name, note=note))
        self.sudo().with_context(tracking_disable=True).message_post(
            body=Markup("<p>%s</p>") % body, subtype_xmlid="mail.mt_note")
