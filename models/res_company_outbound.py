from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """How a shop may message its fans (models/live_message.py): quiet hours in the
    company's time zone and a frequency cap on marketing messages."""
    _inherit = "res.company"

    live_quiet_hour_start = fields.Float(
        string="Quiet Hours From", default=22.0,
        help="No message goes out from this hour (company's time zone) until the end of the quiet hours.")
    live_quiet_hour_end = fields.Float(
        string="Quiet Hours Until", default=8.0,
        help="Messages go out again from this hour. Equal to the start: no quiet hours.")
    live_message_cap_count = fields.Integer(
        string="Marketing Messages per Fan", default=1,
        help="At most this many marketing messages per fan and channel in the period; 0: no cap.")
    live_message_cap_days = fields.Integer(
        string="Cap Period (Days)", default=3,
        help="The period, in days, over which the marketing messages of a fan are counted.")

    @api.constrains("live_quiet_hour_start", "live_quiet_hour_end", "live_message_cap_count", "live_message_cap_days")
    def _check_live_message_settings(self):
        for company in self:
            if not (0 <= company.live_quiet_hour_start <= 24 and 0 <= company.live_quiet_hour_end <= 24):
                raise ValidationError(self.env._("Quiet hours are hours of the day, between 0:00 and 24:00."))
            if company.live_message_cap_count < 0 or company.live_message_cap_days < 1:
                raise ValidationError(self.env._("The frequency cap counts 0 or more messages over at least "
                                                 "one day."))
