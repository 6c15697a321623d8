import secrets

from odoo import api, models


class LoyaltyCard(models.Model):
    _inherit = "loyalty.card"

    @api.model
    def _live_new_codes(self, count):
        """`count` coupon codes unused in the database and in the batch.

        Odoo's own codes carry 32 random bits: among 100,000 coupons two collide more
        often than not, and the unique constraint then fails the whole batch (the
        loyalty generation wizard included). Ours keep the coupon barcode prefix
        (044) with 52 random bits, and the rare code already taken is drawn again."""
        codes = set()
        while len(codes) < count:
            wanted = count - len(codes)
            drawn = {self._live_draw_code() for _ in range(wanted)} - codes
            self.env.cr.execute("SELECT code FROM loyalty_card WHERE code = ANY(%s)", [list(drawn)])
            codes |= drawn - {code for (code,) in self.env.cr.fetchall()}
        return list(codes)

    @api.model
    def _live_draw_code(self):
        digits = secrets.token_hex(7)[:13]
        return f"044{digits[0]}-{digits[1:5]}-{digits[5:9]}-{digits[9:13]}"
