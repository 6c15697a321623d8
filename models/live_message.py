import re
from collections import defaultdict
from datetime import timedelta

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL

from .platforms.orders import CLIENTS, NOT_SUPPORTED, ApiError

CHANNELS = [
    ("email", "E-mail"),
    ("sms", "SMS"),
    ("platform", "Platform Message"),
]
KINDS = [
    ("marketing", "Marketing"),
    ("service", "Service"),
]
STATES = [
    ("sent", "Sent"),
    ("skipped", "Skipped"),
    ("blocked", "Blocked"),
]
DEFAULT_TZ = "Asia/Shanghai"
# A number an SMS gateway can use: digits, maybe a leading +, spaces or dashes; a
# masked number (138****5678) is not one.
DIALABLE = re.compile(r"\+?[0-9][0-9 \-]{5,}")


class LiveMessage(models.Model):
    """One outbound attempt to reach a fan: sent on a channel, skipped because the
    channel cannot reach the fan, or blocked by consent, quiet hours or the frequency
    cap, with the reason. `_send_batch` is the one door for every automated message
    (flows, campaigns): it applies the rules set-based, for thousands of fans a call.

    Consent, as a PIPL-aware shop applies it (README, "Outbound messages"):
    - marketing needs the fan's consent: the fan's Marketing Consent, or an opt-in on
      one of the company's channels (live.fan.consent);
    - a message that carries a coupon is marketing whatever its kind: a coupon is an
      advertisement (Advertising Law art. 43: no advertisement by electronic message
      without consent);
    - service messages (about an order the fan placed: PIPL art. 13(2), performing a
      contract) need no marketing consent;
    - an opt-out is honoured for every kind: opted out on a shop (live.fan.consent),
      its platform messages are blocked; e-mail address or phone number on Odoo's
      blacklists, e-mail or SMS is blocked. Nothing sent here is essential to an
      order (the platforms send those), so nothing overrides a withdrawal.
    """
    _name = "live.message"
    _description = "Outbound Fan Message"
    _order = "date desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True,
                                 default=lambda self: self.env.company)
    channel = fields.Selection(CHANNELS, readonly=True,
                               help="Empty when the message was blocked before any channel was tried "
                                    "(consent, quiet hours).")
    kind = fields.Selection(KINDS, required=True, default="marketing", readonly=True,
                            help="Marketing needs the fan's consent and counts towards the frequency cap.")
    template_id = fields.Many2one("mail.template", string="Template", ondelete="set null", readonly=True)
    state = fields.Selection(STATES, string="Outcome", required=True, readonly=True)
    reason = fields.Char(readonly=True, help="Why the message was skipped or blocked.")
    origin = fields.Char(readonly=True, help="What sent it, e.g. a flow's enrollment.")
    coupon_id = fields.Many2one("loyalty.card", string="Coupon", ondelete="set null", readonly=True)
    live_channel_id = fields.Many2one("live.channel", string="Shop", ondelete="set null", readonly=True,
                                      help="The shop a platform message went through.")
    mail_id = fields.Many2one("mail.mail", string="E-mail", ondelete="set null", readonly=True)
    sms_id = fields.Many2one("sms.sms", string="SMS", ondelete="set null", readonly=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True, readonly=True)

    def init(self):
        # The frequency cap counts a batch's fans' recent sent marketing messages.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS live_message_cap_index ON live_message (partner_id, company_id, date)
             WHERE state = 'sent' AND kind = 'marketing'
        """)

    # -- the interface --------------------------------------------------------
    @api.model
    def _send_batch(self, partners, template, kind="marketing", channels=("email", "sms", "platform"),
                    values=None, origin=None, note=True):
        """Send `template` (a mail.template on res.partner) to `partners` for the
        current company, and return the live.message rows recording each outcome.

        values: {partner_id: {"coupon": loyalty.card or False}}; the coupon is shown
        by the templates (object._live_message_coupon()) and recorded on the row.
        For each fan: consent, then quiet hours, then `channels` in order: the first
        channel that reaches the fan sends it, unless its frequency cap is reached
        (then the message is blocked, not moved to another channel, which would get
        around the cap); each channel tried before that is recorded as skipped (it
        cannot reach the fan) or blocked (the fan opted out of it). E-mails and SMS
        are queued (mail.mail, sms.sms), never sent in the call. One note per fan on
        its chatter lists the outcomes (with note=False the caller writes it, e.g. in
        its own note, from the rows' `_outcome_lines`)."""
        unknown = set(channels) - {key for key, _label in CHANNELS}
        if unknown:
            raise ValueError(f"Unknown outbound channels: {sorted(unknown)}")
        if kind not in dict(KINDS):
            raise ValueError(f"Unknown message kind: {kind!r}")
        if template.model != "res.partner":
            raise ValueError(f"The template {template.name!r} is not for fans (res.partner)")
        company = self.env.company
        now = fields.Datetime.now()
        partners = partners.sudo().browse(list(dict.fromkeys(partners.ids)))  # each fan once
        if not partners:
            return self.browse()
        template = template.sudo()
        coupons = {pid: vals["coupon"] for pid, vals in (values or {}).items() if vals and vals.get("coupon")}

        facts = self._outbound_facts(partners, company)
        quiet_until = self._quiet_until(company, now)
        quiet_reason = quiet_until and _("quiet hours until %(time)s",
                                         time=self._company_local_time(company, quiet_until).strftime("%H:%M"))
        cap_count, cap_days = company.live_message_cap_count, company.live_message_cap_days
        sent_counts = self._recent_marketing_counts(partners, company, now - timedelta(days=cap_days)) \
            if cap_count else {}
        cap_reason = _("frequency cap: 1 marketing message per %(days)s days", days=cap_days) if cap_count == 1 \
            else _("frequency cap: %(count)s marketing messages per %(days)s days", count=cap_count, days=cap_days)

        plans = {}  # partner id -> (kind, [outcome dict])
        sending = defaultdict(list)  # channel -> [partner]
        for partner in partners:
            fan_kind = "marketing" if kind == "marketing" or partner.id in coupons else "service"
            outcomes = []
            plans[partner.id] = (fan_kind, outcomes)
            if fan_kind == "marketing" and not (partner.fan_marketing_consent or partner.id in facts["opted_in"]):
                outcomes.append({"channel": False, "state": "blocked", "reason": _("no marketing consent")})
                continue
            if quiet_until:
                outcomes.append({"channel": False, "state": "blocked", "reason": quiet_reason})
                continue
            for channel in channels:
                outcome = self._channel_outcome(channel, partner, template, facts)
                if outcome is None and fan_kind == "marketing" \
                        and sent_counts.get((partner.id, channel), 0) >= cap_count > 0:
                    outcome = {"channel": channel, "state": "blocked", "reason": cap_reason, "stop": True}
                if outcome is None:
                    outcomes.append({"channel": channel, "state": "sent",
                                     "live_channel_id": facts["sendable_route"].get(partner.id, {}).get("channel_id")
                                     if channel == "platform" else False})
                    sending[channel].append(partner)
                    break
                outcomes.append(outcome)
                if outcome.pop("stop", False):
                    break

        sending = {channel: partners.browse([partner.id for partner in fans]) for channel, fans in sending.items()}
        links = {}  # (partner id, channel) -> {field: id} of what was queued
        coupon_context = {"live_message_coupons": {pid: coupon.id for pid, coupon in coupons.items()}}
        if sending.get("email"):
            mails = template.with_context(**coupon_context).send_mail_batch(sending["email"].ids)
            for mail in mails:
                links[(mail.res_id, "email")] = {"mail_id": mail.id}
            self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger()
        if sending.get("sms"):
            links.update(self._queue_sms(sending["sms"], template.with_context(**coupon_context)))
        if sending.get("platform"):
            self._send_platform(sending["platform"], template.with_context(**coupon_context), facts, coupons,
                                plans)

        vals_list = []
        for partner in partners:
            fan_kind, outcomes = plans[partner.id]
            for outcome in outcomes:
                vals_list.append({
                    "partner_id": partner.id, "company_id": company.id, "kind": fan_kind,
                    "template_id": template.id, "origin": origin, "date": now,
                    "coupon_id": coupons[partner.id].id if partner.id in coupons else False,
                    **links.get((partner.id, outcome["channel"]), {}), **outcome,
                })
        messages = self.sudo().create(vals_list)
        messages = self.browse(messages.ids)
        if note:
            messages._log_on_fans(partners, template, kind, origin)
        return messages

    def _outcome_lines(self):
        """{fan id: an HTML list of these rows' outcomes, a line per channel}."""
        channel_labels = dict(self._fields["channel"]._description_selection(self.env))
        state_labels = dict(self._fields["state"]._description_selection(self.env))
        all_channels = _("All channels")
        lines = {}
        for message in self:
            state = state_labels[message.state]
            lines.setdefault(message.partner_id.id, []).append(Markup("<li>%s: %s</li>") % (
                channel_labels.get(message.channel) or all_channels,
                f"{state} ({message.reason})" if message.reason else state))
        return {fan_id: Markup("<ul>%s</ul>") % Markup("").join(items) for fan_id, items in lines.items()}

    @api.model
    def _quiet_until(self, company, now=None):
        """When the company's quiet hours end, as a naive UTC datetime, if `now`
        (naive UTC, default now) is inside them; else False. Flows postpone their
        steps to it."""
        start, end = company.live_quiet_hour_start, company.live_quiet_hour_end
        if start == end:
            return False
        tz = pytz.timezone(self._company_tz(company))
        local = pytz.utc.localize(now or fields.Datetime.now()).astimezone(tz)
        midnight = local.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        hour = (local.replace(tzinfo=None) - midnight) / timedelta(hours=1)
        if start < end:
            if not start <= hour < end:
                return False
            day = midnight
        elif hour >= start:  # quiet over midnight: evening part, ends tomorrow
            day = midnight + timedelta(days=1)
        elif hour < end:  # morning part, ends today
            day = midnight
        else:
            return False
        # Round to the minute: 7.9999 in the settings means 08:00.
        ends = day + timedelta(minutes=round(end * 60))
        return tz.localize(ends).astimezone(pytz.utc).replace(tzinfo=None)

    # -- rules ----------------------------------------------------------------
    @api.model
    def _company_tz(self, company):
        tz = company.partner_id.tz
        if not tz:
            admin = self.env.ref("base.user_admin", raise_if_not_found=False)
            tz = admin and admin.sudo().tz
        return tz if tz in pytz.all_timezones_set else DEFAULT_TZ

    @api.model
    def _company_local_time(self, company, utc_naive):
        return pytz.utc.localize(utc_naive).astimezone(pytz.timezone(self._company_tz(company)))

    @api.model
    def _outbound_facts(self, partners, company):
        """What decides each fan's outcomes, read for the whole batch in a few
        queries: marketing opt-ins, shops opted out of, blacklisted e-mail addresses
        and numbers, and the shops the fan is known on (platform messages)."""
        facts = {"opted_in": set(), "opted_out": defaultdict(set), "routes": defaultdict(list),
                 "sendable_route": {}, "blacklisted_emails": set(), "blacklisted_numbers": set()}
        consents = self.env["live.fan.consent"].sudo().search_fetch(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id)],
            ["partner_id", "channel_id", "state"])
        for consent in consents:
            if consent.state == "opted_in":
                facts["opted_in"].add(consent.partner_id.id)
            else:
                facts["opted_out"][consent.partner_id.id].add(consent.channel_id.id)
        identities = self.env["live.fan.identity"].sudo().search_fetch(
            [("partner_id", "in", partners.ids), ("channel_id.company_id", "=", company.id),
             ("channel_id.active", "=", True)],
            ["partner_id", "channel_id", "value"], order="partner_id, channel_id, id")
        identities.channel_id.fetch(["name", "platform", "sequence"])
        for identity in identities:
            routes = facts["routes"][identity.partner_id.id]
            if identity.channel_id.id not in {route["channel_id"] for route in routes}:
                routes.append({"channel_id": identity.channel_id.id, "channel": identity.channel_id,
                               "buyer_ref": identity.value})
        emails = {email for email in partners.mapped("email_normalized") if email}
        if emails:
            facts["blacklisted_emails"] = set(self.env["mail.blacklist"].sudo().search_fetch(
                [("email", "in", list(emails))], ["email"]).mapped("email"))
        numbers = {number for partner in partners for number in (partner.phone_sanitized, self._sms_number(partner))
                   if number}
        if numbers:
            facts["blacklisted_numbers"] = set(self.env["phone.blacklist"].sudo().search_fetch(
                [("number", "in", list(numbers))], ["number"]).mapped("number"))
        return facts

    @api.model
    def _recent_marketing_counts(self, partners, company, since):
        """{(partner id, channel): marketing messages sent since `since`}."""
        self.env["live.message"].flush_model()
        rows = self.env.execute_query(SQL("""
            SELECT partner_id, channel, count(*) FROM live_message
             WHERE partner_id = ANY(%s) AND company_id = %s AND state = 'sent' AND kind = 'marketing'
               AND date >= %s
             GROUP BY partner_id, channel
        """, partners.ids, company.id, since))
        return {(partner_id, channel): count for partner_id, channel, count in rows}

    def _channel_outcome(self, channel, partner, template, facts):
        """None when `channel` can reach `partner`; else its skipped or blocked outcome."""
        if channel == "email":
            if not partner.email_normalized:
                return {"channel": channel, "state": "skipped", "reason": _("no e-mail address")}
            if partner.email_normalized in facts["blacklisted_emails"]:
                return {"channel": channel, "state": "blocked", "reason": _("opted out on e-mail")}
            return None
        if channel == "sms":
            if not template.live_sms_body:
                return {"channel": channel, "state": "skipped", "reason": _("the template has no SMS text")}
            if not self._sms_number(partner):
                return {"channel": channel, "state": "skipped", "reason": _("no phone number")}
            if {partner.phone_sanitized, self._sms_number(partner)} & facts["blacklisted_numbers"]:
                return {"channel": channel, "state": "blocked", "reason": _("opted out on SMS")}
            return None
        # platform: through a shop the fan is known on and did not opt out of
        routes = facts["routes"].get(partner.id)
        if not routes:
            return {"channel": channel, "state": "skipped", "reason": _("no account on the company's shops")}
        opted_out = facts["opted_out"].get(partner.id, set())
        open_routes = [route for route in routes if route["channel_id"] not in opted_out]
        if not open_routes:
            return {"channel": channel, "state": "blocked",
                    "reason": _("opted out on %(shops)s", shops=", ".join(route["channel"].name for route in routes)),
                    "live_channel_id": routes[0]["channel_id"]}
        for route in open_routes:
            if self._platform_support(route["channel"].platform) is None:
                facts["sendable_route"][partner.id] = route
                return None
        platforms = dict(self.env["live.channel"]._fields["platform"]._description_selection(self.env))
        names = list(dict.fromkeys(platforms.get(route["channel"].platform, route["channel"].platform)
                                   for route in open_routes))
        return {"channel": channel, "state": "skipped",
                "reason": _("the %(platforms)s API has no buyer messages", platforms=", ".join(names)),
                "live_channel_id": open_routes[0]["channel_id"]}

    @api.model
    def _platform_support(self, platform):
        """None when the platform's API client can message buyers, else NOT_SUPPORTED
        (models/platforms/*.py: buyer_message_support)."""
        client_class = CLIENTS.get(platform)
        return client_class.buyer_message_support() if client_class else NOT_SUPPORTED

    @api.model
    def _sms_number(self, partner):
        """The number to text: the sanitized one, else a dialable mobile or phone,
        without its spaces and dashes (phone_sanitized keeps them when the
        phonenumbers library is missing). A platform fan whose phone is only a key
        and a masked form has none."""
        for number in (partner.phone_sanitized, partner.mobile, partner.phone):
            if number and DIALABLE.fullmatch(number.strip()):
                return re.sub(r"[ \-]", "", number)
        return False

    # -- sending --------------------------------------------------------------
    @api.model
    def _queue_sms(self, partners, template):
        bodies = template._render_field("live_sms_body", partners.ids, compute_lang=True)
        sms = self.env["sms.sms"].sudo().create([
            {"partner_id": partner.id, "number": self._sms_number(partner), "body": bodies[partner.id],
             "state": "outgoing"}
            for partner in partners])
        self.env.ref("sms.ir_cron_sms_scheduler_action").sudo()._trigger()
        return {(record.partner_id.id, "sms"): {"sms_id": record.id} for record in sms}

    @api.model
    def _send_platform(self, partners, template, facts, coupons, plans):
        """Through the platforms whose client can message buyers (none yet, see
        models/platforms: buyer_message_support): one client per shop, one call per
        fan. A refusal is a skip with the platform's reason, the fan is not lost."""
        texts = template._render_field("live_sms_body", partners.ids, compute_lang=True) \
            if template.live_sms_body else {}
        clients = {}
        for partner in partners:
            route = facts["sendable_route"][partner.id]
            channel = route["channel"]
            if channel.id not in clients:
                clients[channel.id] = channel._api_client()
            coupon = coupons.get(partner.id)
            try:
                clients[channel.id].send_buyer_message(route["buyer_ref"], texts.get(partner.id) or template.subject,
                                                       coupon_code=coupon.code if coupon else None)
            except ApiError as exc:
                outcome = plans[partner.id][1][-1]
                outcome.update(state="skipped", reason=_("%(platform)s refused: %(error)s",
                                                         platform=channel.name, error=exc.message))

    def _log_on_fans(self, partners, template, kind, origin):
        """One note per fan listing each channel's outcome (these rows), all in one batch."""
        title = _("Marketing message %(template)s", template=template.name) if kind == "marketing" \
            else _("Service message %(template)s", template=template.name)
        header = Markup("<p>%s</p>") % (f"{title} ({origin})" if origin else title)
        lines = self._outcome_lines()
        partners.sudo()._message_log_batch(bodies={
            partner.id: header + lines.get(partner.id, Markup("<ul></ul>")) for partner in partners})
