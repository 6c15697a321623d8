from odoo import models


class StockMove(models.Model):
    _inherit = "stock.move"

    def _should_assign_at_confirm(self):
        # The order import reserves right after confirming, once it holds its lock
        # on the products (live.order.importer._confirm), not during confirmation.
        if self.env.context.get("live_commerce_defer_reservation"):
            return False
        return super()._should_assign_at_confirm()

    # -- stock levels to the platforms (models/live_channel_stock.py) ----------------
    # These four are where a move changes a product's free quantity: done (on hand
    # changes), assigned (reserved), unreserved, cancelled. They run on recordsets,
    # so one hook call covers a picking's moves; quants edited outside moves
    # (inventory adjustments) are applied through _action_done too.
    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        self.env["live.channel.sku"]._stock_moved((self | moves).exists())
        return moves

    def _action_assign(self, force_qty=False):
        result = super()._action_assign(force_qty=force_qty)
        self.env["live.channel.sku"]._stock_moved(self)
        return result

    def _do_unreserve(self):
        result = super()._do_unreserve()
        self.env["live.channel.sku"]._stock_moved(self)
        return result

    def _action_cancel(self):
        result = super()._action_cancel()
        self.env["live.channel.sku"]._stock_moved(self)
        return result
