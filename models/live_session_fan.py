from odoo import fields, models


class LiveSessionFan(models.Model):
    """What one fan did in one session, kept up to date by the event processor.

    Written set-based (one upsert per batch, see live.event.processor), read by the
    session's audience tab, the fan's history and the review board.
    """
    _name = "live.session.fan"
    _description = "Session Audience"
    _order = "last_seen_at desc, id desc"
    _rec_name = "partner_id"

    # unique(session_id, partner_id) serves lookups by session.
    session_id = fields.Many2one("live.session", required=True, ondelete="cascade", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    first_seen_at = fields.Datetime(string="First Seen", readonly=True)
    last_seen_at = fields.Datetime(string="Last Seen", readonly=True)
    enter_count = fields.Integer(string="Entries", readonly=True)
    watch_seconds = fields.Integer(string="Watch Time (s)", readonly=True)
    comment_count = fields.Integer(string="Comments", readonly=True)
    like_count = fields.Integer(string="Likes", readonly=True)
    gift_count = fields.Integer(string="Gifts", readonly=True)
    gift_value = fields.Monetary(string="Gift Value", readonly=True)
    follow_count = fields.Integer(string="Follows", readonly=True)
    share_count = fields.Integer(string="Shares", readonly=True)

    _sql_constraints = [
        ("session_partner_unique", "unique(session_id, partner_id)", "One audience line per fan and session."),
    ]
