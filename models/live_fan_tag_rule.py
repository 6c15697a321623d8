from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

RULE_KINDS = [
    ("comment_keywords", "High Intent (Comment Keywords)"),
    ("big_gifter", "Big Gifter"),
    ("watched_no_order", "Watched, Never Bought"),
    ("repeat_buyer", "Repeat Buyer"),
    ("vip", "VIP"),
    ("category_preference", "Category Preference"),
]


class LiveFanTagRule(models.Model):
    """A rule that puts a contact tag (res.partner.category) on the fans who match
    it, and takes it off again when they no longer do.

    Each kind is one set-based query (live.fan.tag.runner) run for the fans a
    processed batch touched and nightly for all of them; every tag a rule applies
    keeps its reason (live.fan.tag.reason). Rules without a company apply to every
    company.
    """
    _name = "live.fan.tag.rule"
    _description = "Fan Tag Rule"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", string="Company", index=True,
                                 help="Leave empty to apply the rule in every company.")
    tag_id = fields.Many2one(
        "res.partner.category", string="Tag", required=True, ondelete="restrict",
        help="The tag put on matching fans. For a category preference without a product category, "
             "the fans get a child tag of this one per preferred category.")
    kind = fields.Selection(RULE_KINDS, required=True, default="comment_keywords")
    window_days = fields.Integer(string="Window (Days)", default=30,
                                 help="Only what happened in the last days counts; 0 counts everything.")
    threshold = fields.Float(required=True, default=1.0)
    threshold_help = fields.Char(compute="_compute_threshold_help", string="Threshold Means")
    min_count = fields.Integer(
        string="Minimum Occurrences", default=1,
        help="Comments with a keyword, sessions, or orders in the category, as the kind counts them.")
    product_categ_id = fields.Many2one(
        "product.category", string="Product Category",
        help="Category preference: the category (with its sub-categories) whose share is measured. "
             "Empty: every category, one child tag per category.")
    keyword_ids = fields.One2many("live.fan.tag.keyword", "rule_id", string="Keywords")
    remove_when_unmatched = fields.Boolean(
        string="Remove When Unmatched", default=True,
        help="Take the tag off fans who no longer match. Tags set by hand are never taken off.")
    reason_ids = fields.One2many("live.fan.tag.reason", "rule_id", string="Reasons", readonly=True)
    reason_count = fields.Integer(compute="_compute_reason_count", string="Tagged Fans")

    @api.depends("kind")
    def _compute_threshold_help(self):
        texts = {
            "comment_keywords": _("Minimum score: the weights of the keywords found in the fan's comments, "
                                  "added up"),
            "big_gifter": _("Minimum gift value, in the company's currency"),
            "watched_no_order": _("Minimum watch time, in minutes"),
            "repeat_buyer": _("Minimum number of paid orders"),
            "vip": _("Minimum paid amount (0: the company's VIP amount)"),
            "category_preference": _("Minimum share of the fan's paid amount, in percent"),
        }
        for rule in self:
            rule.threshold_help = texts.get(rule.kind, "")

    def _compute_reason_count(self):
        counts = dict(self.env["live.fan.tag.reason"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.reason_count = counts.get(rule, 0)

    @api.constrains("kind", "keyword_ids", "threshold")
    def _check_rule(self):
        for rule in self:
            if rule.threshold < 0:
                raise ValidationError(_("The threshold of rule %s cannot be negative.", rule.name))
            if rule.kind == "category_preference" and rule.threshold > 100:
                raise ValidationError(_("A category share is at most 100%."))

    def action_view_reasons(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "name": _("Tagged Fans"), "res_model": "live.fan.tag.reason",
            "view_mode": "list,form", "domain": [("rule_id", "=", self.id)],
        }

    def action_apply_now(self):
        """Run the rules on every fan of the user's companies now (what the nightly run does)."""
        self.env["live.fan.tag.runner"]._apply(self.env.companies, rules=self)
        return True


class LiveFanTagKeyword(models.Model):
    """A keyword of a comment-keyword rule and what it adds to a fan's score each
    time a comment contains it (case-insensitive)."""
    _name = "live.fan.tag.keyword"
    _description = "Fan Tag Rule Keyword"
    _order = "rule_id, weight desc, id"
    _rec_name = "keyword"

    rule_id = fields.Many2one("live.fan.tag.rule", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="rule_id.company_id", store=True, index=True)
    keyword = fields.Char(required=True)
    weight = fields.Float(required=True, default=1.0)

    _sql_constraints = [
        ("keyword_unique", "unique(rule_id, keyword)", "A keyword appears once per rule."),
    ]
