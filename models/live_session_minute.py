from odoo import fields, models


class LiveSessionMinute(models.Model):
    """What happened in a session, one row per minute, kept by the event processor.

    Upserted once per batch (one INSERT ... ON CONFLICT per batch, in the batch's
    transaction, see live.event.processor._upsert_minutes): the session's figures,
    the board and the review read these rows, never the events or comments.
    """
    _name = "live.session.minute"
    _description = "Session Minute Figures"
    _order = "session_id, minute"
    _rec_name = "minute"

    session_id = fields.Many2one("live.session", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    minute = fields.Datetime(string="Minute", required=True, readonly=True)
    enter_count = fields.Integer(string="Entries (visits)", readonly=True)
    leave_count = fields.Integer(string="Leaves", readonly=True)
    new_viewer_count = fields.Integer(
        string="New Viewers (people)", readonly=True, help="Fans seen for the first time in this session.")
    new_interacting_count = fields.Integer(
        string="New Interacting Viewers (people)", readonly=True,
        help="Fans who commented, liked, gifted, followed or shared for the first time in this session.")
    watch_seconds = fields.Integer(string="Watch Time (s)", readonly=True,
                                   help="Watch time reported by the platform when fans left.")
    comment_count = fields.Integer(string="Comments", readonly=True)
    like_count = fields.Integer(string="Likes", readonly=True)
    gift_count = fields.Integer(string="Gifts", readonly=True)
    gift_value = fields.Monetary(string="Gift Value", readonly=True)
    follow_count = fields.Integer(string="New Followers", readonly=True)
    share_count = fields.Integer(string="Shares", readonly=True)

    _sql_constraints = [
        ("session_minute_unique", "unique(session_id, minute)", "One row per session and minute."),
    ]
