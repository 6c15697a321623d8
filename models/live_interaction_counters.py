from odoo import fields, models


class LiveInteractionCounters(models.AbstractModel):
    """What fans did, counted: shared by the per-session audience lines and the
    fans' running totals, both written set-based by the event processor."""
    _name = "live.interaction.counters"
    _description = "Live Interaction Counters"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    watch_seconds = fields.Integer(string="Watch Time (s)", readonly=True)
    comment_count = fields.Integer(string="Comments", readonly=True)
    like_count = fields.Integer(string="Likes", readonly=True)
    gift_count = fields.Integer(string="Gifts", readonly=True)
    gift_value = fields.Monetary(string="Gift Value", readonly=True)
    follow_count = fields.Integer(string="Follows", readonly=True)
    share_count = fields.Integer(string="Shares", readonly=True)
