from odoo import fields, models

GENDERS = [("male", "Male"), ("female", "Female")]


class ResPartner(models.Model):
    """What a shop's member lists say of a fan that Odoo's contact has no field
    for (wizards/fan_import.py fills them). The member level becomes a tag."""
    _inherit = "res.partner"

    fan_birthday = fields.Date(string="Birthday")
    fan_gender = fields.Selection(GENDERS, string="Gender")
    fan_external_spend = fields.Float(
        string="Spend Before Import", digits=(16, 2),
        help="The total spend the imported list gave for this fan, in the company's currency (orders placed "
             "outside Odoo).")
