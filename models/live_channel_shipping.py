from odoo import _, fields, models


class LiveChannel(models.Model):
    """Who ships a channel's orders: the platform or its 3PL (the platform says what
    shipped, the order import validates the delivery), or Odoo's warehouse (a
    validated delivery is uploaded to the platform: models/stock_picking_upload.py)."""
    _inherit = "live.channel"

    ship_mode = fields.Selection(
        [("platform", "Platform or 3PL"), ("odoo", "Odoo Warehouse")], string="Who Ships",
        required=True, default="platform",
        help="Platform or 3PL: the platform's shipments validate the deliveries in Odoo. Odoo Warehouse: "
             "deliveries validated in Odoo are uploaded to the platform (carrier company code and tracking "
             "number, parcel by parcel).")

    def action_load_carrier_codes(self):
        self.ensure_one()
        added = self.env["live.carrier.code"]._load_from_platform(self)
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "success", "message": _("%s carrier code(s) added: map them to your carriers.", added),
            "next": {"type": "ir.actions.act_window_close"}}}
