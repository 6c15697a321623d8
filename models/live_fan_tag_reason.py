from odoo import _, fields, models
from odoo.tools import format_amount

SOURCE_MODELS = [("live.comment", "Comment"), ("live.session", "Live Session"), ("sale.order", "Sales Order")]


class LiveFanTagReason(models.Model):
    """Why a rule put a tag on a fan: one row per fan, tag and rule, written by
    the rules' runner (live.fan.tag.runner) when the rule applies, refreshed when
    its figure or source changes, deleted with the tag."""
    _name = "live.fan.tag.reason"
    _description = "Fan Tag Reason"
    _order = "date desc, id desc"
    _rec_name = "tag_id"

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", readonly=True)
    tag_id = fields.Many2one("res.partner.category", string="Tag", required=True, ondelete="cascade",
                             index=True, readonly=True)
    rule_id = fields.Many2one("live.fan.tag.rule", string="Rule", required=True, ondelete="cascade",
                              index=True, readonly=True)
    kind = fields.Selection(related="rule_id.kind")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    value = fields.Float(readonly=True, help="The figure the rule measured: score, amount, minutes, orders or share.")
    hits = fields.Integer(string="Occurrences", readonly=True,
                          help="The comments, sessions or orders behind the figure.")
    value_display = fields.Char(string="Why", compute="_compute_value_display")
    source_ref = fields.Reference(SOURCE_MODELS, string="Source", readonly=True,
                                  help="The latest comment, session or order that made the fan match.")
    date = fields.Datetime(readonly=True, help="When the rule last found a new figure or source for this fan.")
    tag_was_set = fields.Boolean(
        string="Tag Set by Hand", readonly=True,
        help="The fan had the tag before the rule applied: the rule never takes it off.")

    _sql_constraints = [
        ("partner_tag_rule_unique", "unique(partner_id, tag_id, rule_id)", "One reason per fan, tag and rule."),
    ]

    def _compute_value_display(self):
        for reason in self:
            reason.value_display = reason._describe()

    def _describe(self):
        amount = format_amount(self.env, self.value, self.currency_id) if self.currency_id else self.value
        figures = {"value": f"{round(self.value, 2):g}", "count": self.hits, "amount": amount}
        texts = {
            "comment_keywords": _("Score %(value)s from %(count)s comment(s)", **figures),
            "big_gifter": _("Gift value %(amount)s in %(count)s session(s)", **figures),
            "watched_no_order": _("Watched %(value)s min in %(count)s session(s), no paid order", **figures),
            "repeat_buyer": _("%(count)s paid orders", **figures),
            "vip": _("Paid amount %(amount)s", **figures),
            "category_preference": _("%(value)s%% of the paid amount, in %(count)s order(s)", **figures),
        }
        return texts.get(self.kind, "")
