from odoo import api, models

# What decides which jobs are the inbox processors (live.event._processor_cron_ids).
PROCESSOR_FIELDS = {"active", "priority", "code", "model_id", "ir_actions_server_id"}


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # a duplicated processor job processes too
        return super().create(vals_list)

    def write(self, vals):
        if PROCESSOR_FIELDS & vals.keys():
            self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
