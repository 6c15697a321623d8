from odoo import api, fields, models


class CrmLead(models.Model):
    """High-intent opportunities of live fans (res.partner._live_open_intent_leads)
    and the first-contact clocks of their salespeople (live.lead.sla)."""
    _inherit = "crm.lead"

    live_intent = fields.Boolean(
        string="Live High Intent", index=True, readonly=True, copy=False,
        help="Opened for a fan tagged high intent from live comments; its salespeople have a first-contact deadline.")
    live_session_id = fields.Many2one(
        "live.session", string="Live Session", index="btree_not_null", ondelete="set null", copy=False,
        help="The live session where the fan showed the intent.")
    live_sla_ids = fields.One2many("live.lead.sla", "lead_id", string="First-Contact Clocks", readonly=True)
    live_sla_deadline = fields.Datetime(
        string="First Contact Deadline", compute="_compute_live_sla_deadline",
        help="The running first-contact deadline of the salesperson.")

    @api.depends("live_sla_ids.outcome", "live_sla_ids.deadline")
    def _compute_live_sla_deadline(self):
        for lead in self:
            running = lead.live_sla_ids.filtered(lambda c: c.outcome == "running")
            lead.live_sla_deadline = running[:1].deadline

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        self.env["live.lead.sla"]._start(leads.filtered(lambda lead: lead.live_intent and lead.user_id))
        return leads

    def write(self, vals):
        intent = self.filtered("live_intent")
        if not intent or not {"user_id", "stage_id", "active"} & vals.keys():
            return super().write(vals)
        before = {lead: (lead.user_id, lead.stage_id) for lead in intent}
        result = super().write(vals)
        reassigned = intent.filtered(lambda lead: lead.user_id != before[lead][0])
        moved = intent.filtered(lambda lead: lead.stage_id != before[lead][1]) - reassigned
        # First contact: the salesperson moved the opportunity on (won included).
        moved.filtered("active")._live_sla_contacted()
        closed = intent.filtered(lambda lead: not lead.active)
        (reassigned | closed).sudo()._live_sla_running()._close_unattended()
        self.env["live.lead.sla"]._start(reassigned - closed)
        return result

    def _message_post_after_hook(self, message, msg_vals):
        # First contact: a message sent to the customer from the chatter (not an
        # internal note, not the customer's own email).
        if self.live_intent and message.message_type == "comment" and message.subtype_id \
                and not message.subtype_id.internal and message.author_id.user_ids.filtered(lambda u: not u.share):
            self._live_sla_contacted()
        return super()._message_post_after_hook(message, msg_vals)

    def _live_sla_running(self):
        return self.live_sla_ids.filtered(lambda clock: clock.outcome == "running")

    def _live_sla_contacted(self):
        clocks = self.sudo()._live_sla_running()
        activities = clocks.activity_id
        clocks._record_contact()
        # The "First Contact" activity is done by the same token.
        activities._action_done()
