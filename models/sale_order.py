from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    live_channel_id = fields.Many2one(
        "live.channel", string="Live Channel", index=True, check_company=True, copy=False, tracking=True)
    live_session_id = fields.Many2one(
        "live.session", string="Live Session", index=True, check_company=True, copy=False, tracking=True,
        domain="[('channel_id', '=?', live_channel_id)]")
    platform_order_ref = fields.Char(
        string="Platform Order", copy=False, index=True,
        help="The order number on the platform. Kept as text: some platforms use ids beyond 2^53.")

    _sql_constraints = [
        ("platform_order_ref_unique", "unique(live_channel_id, platform_order_ref)",
         "This platform order already exists for the channel."),
    ]

    @api.onchange("live_session_id")
    def _onchange_live_session_id(self):
        session = self.live_session_id
        if session:
            self.live_channel_id = session.channel_id
            self.campaign_id = session.campaign_id or self.campaign_id
            self.source_id = session.source_id or self.source_id
            self.medium_id = session.medium_id or self.medium_id

    @api.onchange("live_channel_id")
    def _onchange_live_channel_id(self):
        channel = self.live_channel_id
        if channel:
            if self.live_session_id.channel_id != channel:
                self.live_session_id = False
            if channel.team_id:
                self.team_id = channel.team_id
            if channel.warehouse_id:
                self.warehouse_id = channel.warehouse_id
            if channel.pricelist_id:
                self.pricelist_id = channel.pricelist_id
            if not self.source_id:
                self.source_id = channel.source_id
