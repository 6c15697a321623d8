from odoo import fields, models

MESSAGE_READERS = ("live_commerce_crm.group_live_host,live_commerce_crm.group_live_field_controller,"
                   "live_commerce_crm.group_live_service")


class ResPartner(models.Model):
    """The outbound messages of a fan (live.message), and the coupon a message gives
    it, for the mail templates."""
    _inherit = "res.partner"

    live_message_ids = fields.One2many("live.message", "partner_id", string="Outbound Messages", readonly=True,
                                       groups=MESSAGE_READERS)
    live_message_count = fields.Integer(string="Outbound Message Count", compute="_compute_live_message_count",
                                        groups=MESSAGE_READERS)

    def _compute_live_message_count(self):
        counts = dict(self.env["live.message"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]))
        for partner in self:
            partner.live_message_count = counts.get(partner, 0)

    def action_view_live_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("live_commerce_crm.action_live_message")
        action["domain"] = [("partner_id", "=", self.id)]
        return action

    def _live_message_coupon(self):
        """The coupon (loyalty.card) that live.message._send_batch gives this fan, for
        the templates (`object._live_message_coupon()`); empty outside a send."""
        self.ensure_one()
        coupons = self.env.context.get("live_message_coupons") or {}
        return self.env["loyalty.card"].browse(coupons.get(self.id) or ()).with_prefetch(tuple(coupons.values()))

    def _live_message_company(self):
        """The company sending a live.message (the templates sign with it): the
        current one, which the flow's job runs with, not the fan's, which may be empty."""
        return self.env.company
