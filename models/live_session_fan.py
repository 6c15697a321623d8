from odoo import api, fields, models


def watch_seconds_sql(fan, session, end_at):
    """SQL of live.session.fan.watch_time_now for the audience row `fan` of the
    session row `session`, as seen at the SQL timestamp `end_at` (the session's end,
    or now): the one rule the session's figures and the board share with it.
    Returns (present, seconds) expressions."""
    present = (f"({fan}.last_entered_at IS NOT NULL AND {fan}.last_entered_at < {end_at}"
               f" AND ({fan}.last_left_at IS NULL OR {fan}.last_left_at < {fan}.last_entered_at))")
    so_far = (f"({fan}.watch_seconds + CASE WHEN {present}"
              f" THEN floor(extract(epoch FROM {end_at} - {fan}.last_entered_at)) ELSE 0 END)")
    seconds = (f"(CASE WHEN {session}.date_start IS NULL THEN {so_far}"
               f" ELSE LEAST({so_far}, GREATEST(0, extract(epoch FROM {end_at} - {session}.date_start))) END)")
    return present, seconds


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
    last_entered_at = fields.Datetime(string="Last Entered", readonly=True)
    last_left_at = fields.Datetime(string="Last Left", readonly=True)
    is_present = fields.Boolean(
        string="In the Room", compute="_compute_watch_time_now",
        help="Entered and not left since, in a session that has not ended.")
    watch_time_now = fields.Integer(
        string="Watch Time So Far (s)", compute="_compute_watch_time_now",
        help="Watch time the platform reported when the fan left, plus the time since the fan's last entry while "
             "the fan is still in the room (until the session's end), capped at the session's length.")

    _sql_constraints = [
        ("session_partner_unique", "unique(session_id, partner_id)", "One audience line per fan and session."),
    ]

    @api.depends("watch_seconds", "last_entered_at", "last_left_at", "session_id.date_start", "session_id.date_end")
    @api.depends_context("live_figures_now")
    def _compute_watch_time_now(self):
        now = self.env.context.get("live_figures_now") or fields.Datetime.now()
        for line in self:
            session = line.session_id
            end = min(filter(None, [session.date_end, now]))
            present = bool(line.last_entered_at) and (
                not line.last_left_at or line.last_left_at < line.last_entered_at) and line.last_entered_at < end
            seconds = line.watch_seconds
            if present:
                seconds += int((end - line.last_entered_at).total_seconds())
            if session.date_start:
                seconds = min(seconds, max(0, int((end - session.date_start).total_seconds())))
            line.is_present = present and not session.date_end
            line.watch_time_now = seconds
