from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    """The fan intelligence settings of a shop (README, "Fan intelligence"): each
    company has its own buyers, so its own windows and thresholds."""
    _inherit = "res.company"

    live_rfm_window_days = fields.Integer(
        string="RFM Window (Days)", default=365,
        help="Frequency and monetary value count the paid orders of this many last days.")
    live_rfm_quintile_min_buyers = fields.Integer(
        string="Buyers for Quintile Scores", default=200,
        help="With at least this many buyers in the window, R, F and M are scored 1-5 by quintile; "
             "below, by the fixed thresholds.")
    live_rfm_recent_days = fields.Integer(
        string="Recent Buyer (Days)", default=60,
        help="Fixed thresholds: a buyer whose last paid order is fewer days ago than this is recent.")
    live_rfm_frequent_orders = fields.Integer(
        string="Frequent Buyer (Orders)", default=5,
        help="Fixed thresholds: a buyer with at least this many paid orders in the window buys often.")
    live_rfm_monetary_amount = fields.Monetary(
        string="High Spender (Amount)", default=500.0, currency_field="currency_id",
        help="Fixed thresholds: a buyer who paid at least this much in the window spends a lot.")
    live_vip_amount = fields.Monetary(
        string="VIP Lifetime Spend", default=5000.0, currency_field="currency_id",
        help="A buyer whose paid orders, less refunds, reach this amount over all time is a VIP.")
    live_dormant_days = fields.Integer(
        string="Dormant After (Days)", default=30,
        help="A fan with neither interaction nor order for this many days is dormant.")
    live_churned_days = fields.Integer(
        string="Churned After (Days)", default=90,
        help="A fan with neither interaction nor order for this many days is churned.")
    live_value_high_share = fields.Float(
        string="High Value Share (%)", default=60.0,
        help="The best buyers who together bring this share of the window's paid amount are high value.")
    live_value_medium_share = fields.Float(
        string="Medium Value Share (%)", default=90.0,
        help="The next buyers, up to this share of the window's paid amount, are medium value; the others who "
             "bought in the window are low value.")
    # Written by the full recompute (live.fan.rfm), read by the recompute after each
    # processed batch: the touched fans are scored against the whole company.
    live_rfm_cutoffs = fields.Json(string="RFM Cut-offs", readonly=True, copy=False)

    @api.constrains("live_rfm_window_days", "live_dormant_days", "live_churned_days", "live_value_high_share",
                    "live_value_medium_share", "live_rfm_quintile_min_buyers")
    def _check_live_fan_settings(self):
        for company in self:
            if company.live_rfm_window_days < 1 or company.live_dormant_days < 1 \
                    or company.live_rfm_quintile_min_buyers < 1:
                raise ValidationError(self.env._("The RFM window, the buyers for quintile scores and the dormant "
                                                 "delay must be positive."))
            if company.live_churned_days < company.live_dormant_days:
                raise ValidationError(self.env._("A fan churns after being dormant: the churn delay cannot be "
                                                 "shorter than the dormant delay."))
            if not 0 < company.live_value_high_share <= company.live_value_medium_share <= 100:
                raise ValidationError(self.env._("The value layer shares go 0 < high <= medium <= 100."))
