from odoo import fields, models


class LiveFanStats(models.Model):
    """A fan's running interaction totals, one row per partner.

    Kept apart from res_partner on purpose: the processor upserts these rows once
    per batch, and a narrow table with two indexes takes that write rate without
    touching the wide, heavily indexed partner rows users are editing.
    """
    _name = "live.fan.stats"
    _description = "Fan Interaction Totals"
    _inherit = ["live.interaction.counters"]
    _rec_name = "partner_id"

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", readonly=True)
    session_count = fields.Integer(string="Sessions Attended", readonly=True)
    last_interaction_at = fields.Datetime(string="Last Interaction", readonly=True)

    _sql_constraints = [
        ("partner_unique", "unique(partner_id)", "A fan has one row of totals."),
    ]

    def init(self):
        # Dormant and reactivation rules search fans by their last interaction.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS live_fan_stats_last_interaction_idx
                ON live_fan_stats (last_interaction_at)
        """)
