from odoo import fields, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # A product found by its merchant code has no mapping of the platform's SKU id,
    # and the platform's shipments and after-sales name only that id: the line keeps
    # it, so they find their line (live.order.importer).
    platform_sku = fields.Char(string="Platform SKU ID", readonly=True, copy=False)
