from odoo import fields, models

PRIVACY_ACTIONS = [
    ("export", "Data Export"),
    ("forget", "Forgotten"),
]


class LiveFanPrivacyLog(models.Model):
    """Who exported or erased a fan's personal data, and when (PIPL). Written as
    superuser by the actions themselves, read by managers, never edited: it holds
    no personal data, only the fan's record, which keeps its id once anonymized."""
    _name = "live.fan.privacy.log"
    _description = "Fan Privacy Log"
    _order = "date desc, id desc"
    _rec_name = "action"

    partner_id = fields.Many2one("res.partner", string="Fan", ondelete="set null", index=True, readonly=True)
    action = fields.Selection(PRIVACY_ACTIONS, required=True, readonly=True)
    user_id = fields.Many2one("res.users", string="Done By", required=True, ondelete="restrict", readonly=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    note = fields.Char(readonly=True, help="What the action covered (counts, the file's name).")
