from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _should_assign_at_confirm(self):
        # The order import reserves right after confirming, once it holds its lock
        # on the products (live.order.importer._confirm), not during confirmation.
        if self.env.context.get("live_commerce_defer_reservation"):
            return False
        return super()._should_assign_at_confirm()
