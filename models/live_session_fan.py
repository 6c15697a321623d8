from odoo import fields, models


class LiveSessionFan(models.Model):
    """What one fan did in one session, kept up to date by the event processor.

    Written set-based (one upsert per batch, see live.event.processor), read by the
    session's audience tab, the fan's history and the review board.
    """
    _name = "live.session.fan"
    _description = "Session Audience"
    _order = "last_seen_at desc, id desc"
    _inherit = ["live.interaction.counters"]
    _rec_name = "partner_id"

    # unique(session_id, partner_id) serves lookups by session.
    session_id = fields.Many2one("live.session", required=True, ondelete="cascade", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True, readonly=True)
    first_seen_at = fields.Datetime(string="First Seen", readonly=True)
    last_seen_at = fields.Datetime(string="Last Seen", readonly=True)
    enter_count = fields.Integer(string="Entries", readonly=True)

    _sql_constraints = [
        ("session_partner_unique", "unique(session_id, partner_id)", "One audience line per fan and session."),
    ]
