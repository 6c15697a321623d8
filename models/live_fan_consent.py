from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import format_datetime

CONSENT_STATES = [
    ("opted_in", "Opted In"),
    ("opted_out", "Opted Out"),
]

CONSENT_SOURCES = [
    ("platform", "Platform"),
    ("live_room", "Live Room"),
    ("customer_service", "Customer Service"),
    ("form", "Sign-up Form"),
    ("import", "Import"),
    ("other", "Other"),
]


class LiveFanConsent(models.Model):
    """A fan's marketing consent on one channel: opted in or out, when and how we
    learnt it (PIPL: consent is given per purpose and can be withdrawn). One row per
    fan and channel holds the current answer; every change is written on the fan's
    chatter, so the history stays with the person."""
    _name = "live.fan.consent"
    _description = "Fan Marketing Consent"
    _order = "partner_id, channel_id"
    _rec_name = "channel_id"
    _check_company_auto = True

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                 check_company=True)
    channel_id = fields.Many2one("live.channel", required=True, ondelete="cascade", check_company=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    state = fields.Selection(CONSENT_STATES, string="Consent", required=True, default="opted_in")
    date = fields.Datetime(required=True, default=fields.Datetime.now,
                           help="When the fan opted in or out (now, unless the source says when).")
    source = fields.Selection(CONSENT_SOURCES, required=True, default="customer_service",
                              help="How the fan's answer reached us.")
    source_note = fields.Char(string="Source Details", help="e.g. the call, the form or the file it came from.")

    _sql_constraints = [
        ("partner_channel_unique", "unique(partner_id, channel_id)",
         "A fan has one marketing consent per channel: change its state instead."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        consents = super().create(vals_list)
        consents._log_on_fan()
        return consents

    def write(self, vals):
        if "state" in vals and "date" not in vals:
            # An answer is dated when it is recorded, unless its date is given.
            vals = dict(vals, date=fields.Datetime.now())
        result = super().write(vals)
        if {"state", "source", "source_note", "date"} & set(vals):
            self._log_on_fan()
        return result

    def _log_on_fan(self):
        states = dict(self._fields["state"]._description_selection(self.env))
        sources = dict(self._fields["source"]._description_selection(self.env))
        for consent in self:
            details = ", " + consent.source_note if consent.source_note else ""
            body = _("Marketing consent on %(channel)s: %(state)s on %(date)s (source: %(origin)s%(note)s).",
                     channel=consent.channel_id.name, state=states[consent.state],
                     date=format_datetime(self.env, consent.date), origin=sources[consent.source],
                     note=details)
            # As superuser: the note is the consent's history, whoever may edit consents.
            consent.partner_id.sudo().message_post(body=Markup("<p>%s</p>") % body, subtype_xmlid="mail.mt_note")
