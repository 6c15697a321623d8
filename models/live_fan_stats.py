from odoo import fields, models


class LiveFanStats(models.Model):
    """A fan's running interaction totals, one row per partner.

    Kept apart from res_partner on purpose: the processor upserts these rows once
    per batch, and a narrow table with two indexes takes that write rate without
    touching the wide, heavily indexed partner rows users are editing.
    """
    _name = "live.fan.stats"
    _description = "Fan Interaction Totals"
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    session_count = fields.Integer(string="Sessions Attended", readonly=True)
    watch_seconds = fields.Integer(string="Watch Time (s)", readonly=True)
    comment_count = fields.Integer(string="Comments", readonly=True)
    like_count = fields.Integer(string="Likes", readonly=True)
    gift_count = fields.Integer(string="Gifts", readonly=True)
    gift_value = fields.Monetary(string="Gift Value", readonly=True)
    follow_count = fields.Integer(string="Follows", readonly=True)
    share_count = fields.Integer(string="Shares", readonly=True)
    last_interaction_at = fields.Datetime(string="Last Interaction", readonly=True)

    _sql_constraints = [
        ("partner_unique", "unique(partner_id)", "A fan has one row of totals."),
    ]

    def init(self):
        # Room for HOT updates: the counters change on every batch.
        self.env.cr.execute("ALTER TABLE live_fan_stats SET (fillfactor = 70)")
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS live_fan_stats_last_interaction_idx
                ON live_fan_stats (last_interaction_at)
        """)
