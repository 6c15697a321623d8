from odoo import fields, models


class MailTemplate(models.Model):
    """A message template carries its SMS text beside the e-mail, so one template
    serves every channel of live.message._send_batch."""
    _inherit = "mail.template"

    live_sms_body = fields.Text(
        string="SMS Text", translate=True, render_engine="inline_template",
        help="The text sent by SMS when the fan is reached by SMS, e.g. Hello {{ object.name }}. "
             "Empty: this template is never sent by SMS.")
