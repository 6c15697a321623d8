from odoo import fields, models

from .res_partner import LIFECYCLE_STAGES


class LiveFanLifecycleLog(models.Model):
    """A fan's move from one lifecycle stage to the next, with its date (the
    first computation of a fan sets its stage and date without a transition).

    Written set-based by the recompute (live.fan.rfm), one row per fan that changed
    stage, never by per-event writes; the fan keeps its current stage and the date
    it entered it (fan_lifecycle_stage, fan_lifecycle_date)."""
    _name = "live.fan.lifecycle.log"
    _description = "Fan Lifecycle Transition"
    _order = "date desc, id desc"
    _rec_name = "stage_to"

    partner_id = fields.Many2one("res.partner", string="Fan", required=True, ondelete="cascade", index=True,
                                 readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    date = fields.Date(required=True, readonly=True,
                       help="When the fan entered the stage: the day of the order or interaction that moved it, "
                            "or the day its inactivity reached the dormant or churned delay.")
    stage_from = fields.Selection(LIFECYCLE_STAGES, string="From", readonly=True)
    stage_to = fields.Selection(LIFECYCLE_STAGES, string="To", required=True, readonly=True)
