from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class LiveFlow(models.Model):
    """What an automated action does to the fans it picks: steps run one after the
    other, each after its delay, each re-checking its condition first.

    The *when* and *who* stay in Odoo's automated actions (base.automation): a
    rule's server action of type "Enroll in a Live Flow" puts the records it
    matched into the flow (live.flow.enrollment). A fan is in a flow at most once
    at a time; a flow marked *once per fan* never takes a fan twice.
    """
    _name = "live.flow"
    _description = "Live Automation Flow"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    company_id = fields.Many2one("res.company", string="Company", index=True,
                                 help="Leave empty to run the flow for fans of every company.")
    once_per_fan = fields.Boolean(
        string="Once per Fan",
        help="A fan who went through this flow once never enters it again (a welcome, a VIP upgrade).")
    step_ids = fields.One2many("live.flow.step", "flow_id", string="Steps", copy=True)
    action_server_ids = fields.One2many("ir.actions.server", "live_flow_id", string="Server Actions",
                                        readonly=True)
    automation_ids = fields.Many2many("base.automation", compute="_compute_automation_ids",
                                      string="Automated Actions")
    enrollment_ids = fields.One2many("live.flow.enrollment", "flow_id", string="Enrollments", readonly=True)
    running_count = fields.Integer(compute="_compute_counts", string="Running")
    queued_count = fields.Integer(compute="_compute_counts", string="Queued")
    done_count = fields.Integer(compute="_compute_counts", string="Done")
    stopped_count = fields.Integer(compute="_compute_counts", string="Stopped")

    @api.depends("action_server_ids")
    def _compute_automation_ids(self):
        automations = self.env["base.automation"].with_context(active_test=False).search(
            [("action_server_ids.live_flow_id", "in", self.ids)])
        for flow in self:
            flow.automation_ids = automations.filtered(lambda a: flow in a.action_server_ids.live_flow_id)

    def _compute_counts(self):
        counts = {(flow.id, state, queued): count for flow, state, queued, count in
                  self.env["live.flow.enrollment"].sudo()._read_group(
                      [("flow_id", "in", self.ids)], ["flow_id", "state", "queued"], ["__count"])}
        for flow in self:
            flow.running_count = counts.get((flow.id, "running", False), 0)
            flow.queued_count = counts.get((flow.id, "running", True), 0)
            flow.done_count = counts.get((flow.id, "done", False), 0) + counts.get((flow.id, "done", True), 0)
            flow.stopped_count = (counts.get((flow.id, "stopped", False), 0)
                                  + counts.get((flow.id, "stopped", True), 0))

    @api.constrains("step_ids")
    def _check_steps(self):
        for flow in self:
            if flow.active and not flow.step_ids:
                raise ValidationError(_("The flow %s needs at least one step.", flow.name))

    def action_view_enrollments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_flow_enrollment")
        action["domain"] = [("flow_id", "=", self.id)]
        action["context"] = {"search_default_running": 1}
        return action

    def action_run_now(self):
        """Run the due steps now instead of waiting for the scheduler."""
        self.env["live.flow.enrollment"]._dispatch_due(flows=self)
        return True

    def _enroll(self, records, automation=None):
        """Put the fans behind `records` (fans, or records with a partner) into the
        flow, set-based: one INSERT whatever their number. Returns how many entered."""
        self.ensure_one()
        fan_ids = self._fan_ids_of(records)
        if not fan_ids or not self.active or not self.step_ids:
            return 0
        first = self.step_ids[0]
        now = fields.Datetime.now()
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("""
            INSERT INTO live_flow_enrollment (flow_id, partner_id, company_id, automation_id, step_id, state,
                                              queued, started_at, next_run_at,
                                              create_uid, create_date, write_uid, write_date)
            SELECT %(flow)s, p.id, COALESCE(p.company_id, %(company)s), %(automation)s, %(step)s, 'running',
                   FALSE, %(now)s, %(next_run)s, %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM res_partner p
             WHERE p.id = ANY(%(ids)s)
               AND (%(flow_company)s IS NULL OR COALESCE(p.company_id, %(company)s) = %(flow_company)s)
               AND NOT (%(once)s AND EXISTS (SELECT 1 FROM live_flow_enrollment e
                                              WHERE e.flow_id = %(flow)s AND e.partner_id = p.id))
             ORDER BY p.id
            ON CONFLICT (flow_id, partner_id) WHERE state = 'running' DO NOTHING
        """, {
            "flow": self.id, "company": self.env.company.id, "automation": automation.id if automation else None,
            "step": first.id, "now": now, "next_run": now + first._delay(), "uid": self.env.uid,
            "ids": fan_ids, "flow_company": self.company_id.id or None, "once": self.once_per_fan,
        })
        entered = cr.rowcount
        self.env["live.flow.enrollment"].invalidate_model()
        if entered:
            self.env.ref("live_commerce_crm.ir_cron_live_flows")._trigger(now + first._delay())
        return entered

    @api.model
    def _fan_ids_of(self, records):
        """The fans behind records, in SQL (a rule may hand over 100,000 records):
        fans themselves, or the fan of a record's partner (a delivery address counts
        for the fan it belongs to)."""
        if records._name == "res.partner":
            partner_ids = records.ids
        elif "partner_id" in records._fields and records._fields["partner_id"].store:
            records.flush_recordset(["partner_id"])
            self.env.cr.execute(f'SELECT DISTINCT partner_id FROM "{records._table}" '
                                "WHERE id = ANY(%s) AND partner_id IS NOT NULL", [records.ids])
            partner_ids = [row[0] for row in self.env.cr.fetchall()]
        else:
            return []
        self.env["res.partner"].flush_model(["is_live_fan", "parent_id"])
        self.env.cr.execute("""
            SELECT DISTINCT CASE WHEN p.is_live_fan THEN p.id ELSE parent.id END
              FROM res_partner p LEFT JOIN res_partner parent ON parent.id = p.parent_id
             WHERE p.id = ANY(%s) AND (p.is_live_fan OR parent.is_live_fan)
        """, [partner_ids])
        return sorted(row[0] for row in self.env.cr.fetchall())
