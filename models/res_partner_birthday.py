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
        """Move the birthdays that have passed to their next year: the compute above,
        for the few fans whose date went by (one index scan per run)."""
        passed = self.with_context(active_test=False).search(
            [("fan_next_birthday", "<", fields.Date.context_today(self))])
        if passed:
            self.env.add_to_compute(self._fields["fan_next_birthday"], passed)
            passed.flush_recordset(["fan_next_birthday"])
