import datetime

from odoo import api, fields, models
from odoo.osv import expression
from odoo.tools.safe_eval import safe_eval

from odoo.addons.base_automation.models.base_automation import DATE_RANGE_FUNCTION, TIME_TRIGGERS

EPOCH = datetime.datetime(1970, 1, 1)
# Records handed to a rule's actions at once: with the scheduler's commits, a rule
# that finds 100,000 fans enrolls them in short transactions, not one long one.
ENROLL_BATCH = 1000


def _ceil_to_date(moment):
    """The first date whose midnight is at or after `moment`."""
    day = moment.date()
    return day if moment.time() == datetime.time() else day + datetime.timedelta(days=1)


class BaseAutomation(models.Model):
    """Time-based automated actions that feed live flows are evaluated set-based.

    Odoo's scheduler reads every record matching a time-based rule and runs its
    actions record by record: fine for a few hundred leads, not for a million fans.
    A rule whose actions enroll into a live flow is instead evaluated by
    `_live_evaluate`: one search with the rule's domain and the due window
    (last run <= date + delay < now), then its actions once for all the records.
    Everything else about the rule is Odoo's: its form, trigger, date field, delay,
    domain, active switch and last run.
    """
    _inherit = "base.automation"

    live_flow_rule = fields.Boolean(
        compute="_compute_live_flow_rule", store=True, string="Feeds a Live Flow",
        help="Evaluated set-based by Live Commerce's scheduler, every 5 minutes.")
    live_flow_ids = fields.Many2many("live.flow", compute="_compute_live_flow_ids", string="Live Flows")

    @api.depends("action_server_ids.state", "action_server_ids.live_flow_id")
    def _compute_live_flow_ids(self):
        for automation in self:
            automation.live_flow_ids = automation.action_server_ids.filtered(
                lambda a: a.state == "live_flow").live_flow_id

    @api.depends("trigger", "trg_date_calendar_id", "action_server_ids.state", "action_server_ids.live_flow_id")
    def _compute_live_flow_rule(self):
        for automation in self:
            automation.live_flow_rule = automation.trigger in TIME_TRIGGERS and not automation.trg_date_calendar_id \
                and any(action.state == "live_flow" for action in automation.action_server_ids)

    @api.model
    def _search(self, domain, *args, **kwargs):
        if self.env.context.get("live_skip_flow_rules") and ("trigger", "in", TIME_TRIGGERS) in [
                tuple(leaf) if isinstance(leaf, list) else leaf for leaf in domain]:
            domain = expression.AND([domain, [("live_flow_rule", "=", False)]])
        return super()._search(domain, *args, **kwargs)

    def _check(self, automatic=False, use_new_cursor=False):
        # Odoo's scheduler leaves the rules that feed live flows to _live_evaluate.
        return super(BaseAutomation, self.with_context(live_skip_flow_rules=True))._check(
            automatic=automatic, use_new_cursor=use_new_cursor)

    def _update_cron(self):
        # Odoo's scheduler follows the rules' delays; a Live Commerce manager who
        # switches a rule or changes its delay may not edit scheduled actions.
        return super(BaseAutomation, self.sudo())._update_cron()

    @api.model
    def _live_evaluate(self, commit=False, now=None):
        """Evaluate every active time-based rule that feeds a live flow."""
        automations = self.with_context(active_test=True).search(
            [("trigger", "in", TIME_TRIGGERS), ("live_flow_rule", "=", True)])
        for automation in automations:
            automation._live_evaluate_one(now=now, commit=commit)
            if commit:
                self.env.cr.commit()

    def _live_evaluate_one(self, now=None, commit=False):
        """Run the rule's actions on its due records, ENROLL_BATCH at a time (with
        `commit`, each batch in a transaction of its own: the fans entered so far
        show on the flow while the rest follow). The last run moves once all are
        done: after a crash in between, the next pass finds the same records, and
        the fans already in the flow are not enrolled twice."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        records = self._live_due_records(now)
        for start in range(0, len(records), ENROLL_BATCH):
            self._live_run_actions(records[start:start + ENROLL_BATCH])
            if commit:
                self.env.cr.commit()
        self.write({"last_run": now})
        return records

    def _live_due_records(self, now):
        """The records whose date + delay fell in (last run, now], as Odoo's
        scheduler decides it, in one search."""
        model = self.env[self.model_name].with_context(active_test=True)
        field = model._fields[self.trg_date_id.name]
        delay = DATE_RANGE_FUNCTION[self.trg_date_range_type](self.trg_date_range)
        start, end = (self.last_run or EPOCH) - delay, now - delay
        if field.type == "date":
            start, end = _ceil_to_date(start), _ceil_to_date(end)
        domain = safe_eval(self.filter_domain, self._get_eval_context()) if self.filter_domain else []
        window = [(field.name, ">=", start), (field.name, "<", end)]
        return model.search(expression.AND([domain, window]), order="id")

    def _live_run_actions(self, records):
        context = {"active_model": records._name, "active_ids": records.ids, "active_id": records[:1].id,
                   "__action_done": {}}
        for action in self.sudo().action_server_ids:
            action.with_context(**context).run()
