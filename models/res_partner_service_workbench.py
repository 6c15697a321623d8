from odoo import _, api, fields, models
from odoo.exceptions import AccessError

SERVICE_QUEUE_LIMIT = 100


class ResPartner(models.Model):
    """The customer-service workbench (static/src/workbench/service_workbench.*):
    fans awaiting first contact with their clocks, open after-sale requests, and
    the selected fan's timeline (read by the client from fan_timeline_html)."""
    _inherit = "res.partner"

    @api.model
    def live_service_workbench_data(self):
        """Read under the user's rights: a salesperson sees the clocks and
        follow-ups that are theirs (or their team's), managers every one."""
        if not self.env.user.has_group("live_commerce_crm.group_live_service"):
            raise AccessError(_("The customer-service workbench is for customer service and managers."))
        now = fields.Datetime.now()
        clocks = self.env["live.lead.sla"].search([("outcome", "=", "running")], order="deadline, id",
                                                  limit=SERVICE_QUEUE_LIMIT)
        queue = [{
            "key": f"sla-{clock.id}", "kind": "sla", "partner_id": clock.partner_id.id,
            "partner_name": clock.partner_id.display_name or "", "subject": clock.lead_id.display_name,
            "user": clock.user_id.display_name, "deadline": fields.Datetime.to_string(clock.deadline),
            "minutes_left": round((clock.deadline - now).total_seconds() / 60),
        } for clock in clocks if clock.partner_id]
        activity_type = self.env.ref("live_commerce_crm.mail_activity_type_live_followup")
        domain = [("res_model", "=", "res.partner"), ("activity_type_id", "=", activity_type.id)]
        if not self.env.user.has_group("live_commerce_crm.group_live_manager"):
            domain.append(("user_id", "=", self.env.uid))
        followups = self.env["mail.activity"].search(domain, order="create_date, id", limit=SERVICE_QUEUE_LIMIT)
        partners = self.browse(followups.mapped("res_id")).exists()
        names = {partner.id: partner.display_name for partner in partners}
        queue += [{
            "key": f"activity-{activity.id}", "kind": "followup", "partner_id": activity.res_id,
            "partner_name": names.get(activity.res_id, ""), "subject": activity.summary or activity_type.name,
            "user": activity.user_id.display_name, "deadline": False,
            "waiting_minutes": round((now - activity.create_date).total_seconds() / 60),
        } for activity in followups if activity.res_id in names]
        Refund = self.env["live.order.refund"]
        refunds = Refund.search([("state", "=", "requested")], order="deadline asc nulls last, id desc",
                                limit=SERVICE_QUEUE_LIMIT)
        stages = dict(Refund._fields["stage"]._description_selection(self.env))
        kinds = dict(Refund._fields["kind"]._description_selection(self.env))
        return {
            "queue": queue,
            "refunds": [{
                "id": refund.id, "ref": refund.refund_ref, "order": refund.order_id.display_name,
                "partner_id": refund.order_id.partner_id.id,
                "partner_name": refund.order_id.partner_id.display_name or "",
                "amount": refund.amount, "currency": refund.currency_id.name or "", "reason": refund.reason or "",
                "return_goods": refund.return_goods,
                "stage": stages.get(refund.stage, ""), "kind": kinds.get(refund.kind, ""),
                "deadline": fields.Datetime.to_string(refund.deadline) if refund.deadline else False,
                "deadline_state": refund.deadline_state or "",
            } for refund in refunds],
        }
