from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import datetime as safe_datetime, dateutil as safe_dateutil, safe_eval

DELAY_UNITS = [("minutes", "Minutes"), ("hours", "Hours"), ("days", "Days")]

MESSAGE_CHANNELS = [
    ("email_sms_platform", "E-mail, else SMS, else Platform"),
    ("email", "E-mail Only"),
    ("sms", "SMS Only"),
    ("platform", "Platform Only"),
]


class LiveFlowStep(models.Model):
    """One step of a flow: after its delay, if the fan still meets its condition,
    tag, schedule an activity, issue a coupon, change the pricelist, send a message
    and run a server action, in that order, for a batch of fans at once."""
    _name = "live.flow.step"
    _description = "Live Automation Flow Step"
    _order = "flow_id, sequence, id"

    flow_id = fields.Many2one("live.flow", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="flow_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(required=True, translate=True)
    delay = fields.Integer(
        default=0, help="How long after the previous step (or the fan's entry, for the first step) this "
                        "step runs.")
    delay_unit = fields.Selection(DELAY_UNITS, required=True, default="days")
    condition_domain = fields.Char(
        string="Condition", default="[]",
        help="Checked on the fan just before the step runs: a fan who no longer meets it leaves the flow "
             "(for example, no reactivation message to someone who bought in between). "
             "`now` and `today` are available, as in automated actions.")
    tag_ids = fields.Many2many("res.partner.category", "live_flow_step_tag_rel", string="Add Tags")
    remove_tag_ids = fields.Many2many("res.partner.category", "live_flow_step_untag_rel", string="Remove Tags")
    activity_type_id = fields.Many2one("mail.activity.type", string="Activity")
    activity_summary = fields.Char(string="Activity Summary", translate=True)
    activity_days = fields.Integer(string="Activity Due In (Days)", default=1)
    activity_user_id = fields.Many2one(
        "res.users", string="Activity for",
        help="Who gets the activity when the fan has no salesperson of their own.")
    loyalty_program_id = fields.Many2one(
        "loyalty.program", string="Coupon Program", domain=[("program_type", "=", "coupons")],
        help="Issue one coupon of this program to each fan (Odoo loyalty coupons).")
    coupon_validity_days = fields.Integer(string="Coupon Valid (Days)", default=30)
    pricelist_id = fields.Many2one("product.pricelist", string="Set Pricelist")
    mail_template_id = fields.Many2one("mail.template", string="Message Template",
                                       domain=[("model", "=", "res.partner")])
    message_kind = fields.Selection(
        [("marketing", "Marketing"), ("service", "Service")], default="marketing", required=True,
        help="Marketing messages count against the frequency cap and need the fan's marketing consent.")
    message_channels = fields.Selection(MESSAGE_CHANNELS, string="Send Through", default="email_sms_platform",
                                        required=True)
    action_server_id = fields.Many2one(
        "ir.actions.server", string="Server Action", domain=[("model_id.model", "=", "res.partner")],
        help="Run on the fans of the batch (for example: open a CRM opportunity).")

    @api.constrains("condition_domain")
    def _check_condition_domain(self):
        for step in self:
            try:
                domain = step._condition()
                self.env["res.partner"].search_count(domain, limit=1)
            except Exception as exc:  # noqa: BLE001 - any error means the domain is unusable
                raise ValidationError(_("The condition of step %(step)s is not a valid domain: %(error)s",
                                        step=step.name, error=exc)) from exc

    def _delay(self):
        self.ensure_one()
        return relativedelta(**{self.delay_unit: self.delay})

    def _condition(self):
        self.ensure_one()
        now = fields.Datetime.now()
        return safe_eval(self.condition_domain or "[]", {
            "datetime": safe_datetime, "dateutil": safe_dateutil, "relativedelta": relativedelta,
            "now": now, "today": fields.Date.context_today(self), "uid": self.env.uid, "user": self.env.user,
        })

    def _next(self):
        self.ensure_one()
        steps = self.flow_id.step_ids
        index = list(steps).index(self)
        return steps[index + 1] if index + 1 < len(steps) else self.browse()

    def _channels(self):
        return {"email_sms_platform": ("email", "sms", "platform")}.get(self.message_channels,
                                                                        (self.message_channels,))

    def _summary(self):
        """What the step does, in words, for the fan's chatter."""
        self.ensure_one()
        parts = []
        if self.tag_ids:
            parts.append(_("tags %s", ", ".join(self.tag_ids.mapped("name"))))
        if self.remove_tag_ids:
            parts.append(_("untags %s", ", ".join(self.remove_tag_ids.mapped("name"))))
        if self.activity_type_id:
            parts.append(_("activity %s", self.activity_summary or self.activity_type_id.name))
        if self.loyalty_program_id:
            parts.append(_("coupon of %s", self.loyalty_program_id.name))
        if self.pricelist_id:
            parts.append(_("pricelist %s", self.pricelist_id.name))
        if self.mail_template_id:
            parts.append(_("message %s", self.mail_template_id.name))
        if self.action_server_id:
            parts.append(self.action_server_id.name)
        return ", ".join(parts)
