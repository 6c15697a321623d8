from odoo import fields, models


class LiveComment(models.Model):
    """A comment typed in a live room, kept with its text so rules can read intent."""
    _name = "live.comment"
    _description = "Live Comment"
    _order = "occurred_at desc, id desc"
    _rec_name = "content"

    session_id = fields.Many2one("live.session", ondelete="cascade", index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Fan", ondelete="cascade", index=True, readonly=True)
    channel_id = fields.Many2one("live.channel", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    content = fields.Text(readonly=True, index="trigram")
    occurred_at = fields.Datetime(string="Time", readonly=True, index=True)
    event_id = fields.Many2one("live.event", string="Webhook Event", ondelete="set null", readonly=True)
