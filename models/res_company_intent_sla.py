from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """Who works a shop's high-intent fans and how fast (README, "High intent to CRM"):
    each company has its own sales team and its own first-contact deadline."""
    _inherit = "res.company"

    live_intent_team_id = fields.Many2one(
        "crm.team", string="High Intent Sales Team",
        help="Opportunities of fans tagged high intent go to this sales team; its members get them by their CRM "
             "assignment settings (capacity, domain), the least busy first.")
    live_sla_hours = fields.Float(
        string="First Contact Deadline (Hours)", default=2.0,
        help="A salesperson given a high-intent opportunity must contact the fan within this many hours.")
    live_sla_warn_minutes = fields.Integer(
        string="Warn Before Deadline (Minutes)", default=15,
        help="The salesperson is warned this many minutes before the first-contact deadline.")

    @api.constrains("live_sla_hours", "live_sla_warn_minutes")
    def _check_live_sla_settings(self):
        for company in self:
            if company.live_sla_hours <= 0 or company.live_sla_warn_minutes < 0:
                raise ValidationError(self.env._("The first-contact deadline must be positive and the warning "
                                                 "cannot be negative."))
            if company.live_sla_warn_minutes >= company.live_sla_hours * 60:
                raise ValidationError(self.env._("The warning must come before the first-contact deadline: "
                                                 "fewer minutes than the deadline has."))
