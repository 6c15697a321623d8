from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def _action_done(self, feedback=False, attachment_ids=None):
        # First contact: the salesperson marked the "First Contact" activity done.
        # Before super(): a done activity is unlinked, and the clock forgets it.
        clocks = self.env["live.lead.sla"].sudo().search([("activity_id", "in", self.ids), ("outcome", "=", "running")])
        clocks._record_contact()
        return super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
