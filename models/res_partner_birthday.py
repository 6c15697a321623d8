import datetime

from odoo import api, fields, models


def next_birthday(birthday, today):
    """The next time `birthday` comes round, today included (29 February is kept
    on the 28th in other years, as PostgreSQL's date arithmetic does)."""
    def in_year(year):
        try:
            return birthday.replace(year=year)
        except ValueError:
            return datetime.date(year, 2, 28)
    upcoming = in_year(today.year)
    return upcoming if upcoming >= today else in_year(today.year + 1)


class ResPartner(models.Model):
    _inherit = "res.partner"

    fan_next_birthday = fields.Date(
        string="Next Birthday", compute="_compute_fan_next_birthday", store=True, index="btree_not_null",
        help="The date automated actions count from (e.g. a greeting 3 days before); moved to the next year "
             "by the scheduler once it has passed.")

    @api.depends("fan_birthday")
    def _compute_fan_next_birthday(self):
        today = fields.Date.context_today(self)
        for partner in self:
            partner.fan_next_birthday = partner.fan_birthday and next_birthday(partner.fan_birthday, today)

    @api.model
    def _live_roll_birthdays(self):
        """Move the birthdays that have passed to their next year, set-based."""
        today = fields.Date.context_today(self)
        self.flush_model(["fan_birthday", "fan_next_birthday"])
        self.env.cr.execute("""
            UPDATE res_partner
               SET fan_next_birthday = CASE
                       WHEN (fan_birthday + make_interval(years => %(year)s - EXTRACT(YEAR FROM fan_birthday)::int))::date
                            >= %(today)s
                       THEN (fan_birthday + make_interval(years => %(year)s - EXTRACT(YEAR FROM fan_birthday)::int))::date
                       ELSE (fan_birthday + make_interval(years => %(year)s + 1 - EXTRACT(YEAR FROM fan_birthday)::int))::date
                   END
             WHERE fan_birthday IS NOT NULL AND fan_next_birthday < %(today)s
        """, {"year": today.year, "today": today})
        if self.env.cr.rowcount:
            self.invalidate_model(["fan_next_birthday"])
