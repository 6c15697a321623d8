from odoo import api, models

from .fan_phone import phone_key
from .live_event_processor import SHARED_COUNTER_COLUMNS

PHONE_FIELDS = ("phone", "mobile")


class ResPartner(models.Model):
    """One person per fan: the merge and split services, and the phone a user types
    as a merge key."""
    _inherit = "res.partner"

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        if any(vals.get(name) for vals in vals_list for name in PHONE_FIELDS):
            partners._live_set_phone_key()
        return partners

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in PHONE_FIELDS) and not self.env.context.get("live_fan_merging"):
            self._live_set_phone_key()
        return result

    def action_live_split_fan(self):
        self.ensure_one()
        return self._live_wizard_action("live_commerce_crm.action_live_fan_split_wizard")

    def _live_set_phone_key(self):
        """A phone typed on a fan is kept as typed (a user chose to) and also becomes
        the fan's phone key, which merges the fan with the fan that already holds it:
        the fan being edited survives, so the form the user is on stays valid."""
        for fan in self.sudo().filtered(lambda partner: partner.is_live_fan and not partner.parent_id):
            key, masked = phone_key(self.env, fan.phone or fan.mobile)
            if not key:
                continue
            if key != fan.fan_phone_hash:
                fan.write({"fan_phone_hash": key, "fan_phone_masked": masked})
            twins = fan.search([("fan_phone_hash", "=", key), ("company_id", "=", fan.company_id.id),
                                ("is_live_fan", "=", True), ("id", "!=", fan.id)])
            if twins:
                self._live_merge_fans({fan.id: twins.ids})

    @api.model
    def _live_merge_fans(self, merges):
        """Merge fans that are one person: {survivor id: [ids of the others]}.

        Odoo's partner merge moves every reference (identities, audience, comments,
        orders, activities, messages, followers); our rows that are unique per fan
        are consolidated first (wizards/base_partner_merge.py). Called by the
        processor on a shared strong key and by an accepted suggestion, after their
        own checks: it runs as superuser, since the wizard needs rights on contacts
        (unlink) that customer service does not have.
        """
        # live_fan_merging: the merge writes the others' phones on the survivor,
        # which must not start a merge of its own.
        Partner = self.sudo().with_context(live_fan_merging=True)
        Wizard = self.env["base.partner.merge.automatic.wizard"].sudo().with_context(live_fan_merging=True)
        survivors = self.browse()
        for survivor_id, other_ids in merges.items():
            survivor = Partner.browse(survivor_id)
            others = Partner.browse(other_ids).exists() - survivor
            # Odoo merges at most 3 contacts at a time: two more each round.
            for index in range(0, len(others), 2):
                Wizard._merge((survivor | others[index:index + 2]).ids, dst_partner=survivor, extra_checks=False)
            survivors |= survivor
        survivors._live_fan_totals_changed()
        return survivors

    def _live_fan_totals_changed(self):
        """These fans' facts changed by a merge or a split (their running totals are
        already recomputed): their order figures, segment and stage are recomputed
        with the next drain of the fans' queue (live.fan.rfm), or at once in a batch
        the processor applies."""
        touched = {}
        for fan in self:
            touched.setdefault(fan.company_id.id, set()).add(fan.id)
        self.env["live.fan.rfm"].sudo()._touch(touched)
        return True

    def _live_split_fan(self, identities, name):
        """Move `identities` of this fan to a new fan named `name`, with what came
        through their channels: comments, inbox events, and the audience of the
        sessions they alone were seen in (a session seen through both sides stays
        here: its counters cannot be divided). Orders stay (their invoices are
        booked to this contact). Totals are recomputed on both from the audience.
        Callers check the user's rights; runs as superuser."""
        self.ensure_one()
        fan, identities = self.sudo(), identities.sudo()
        new_fan = fan.with_context(tracking_disable=True).create({
            "name": name, "company_id": fan.company_id.id, "is_live_fan": True,
            "fan_lifecycle_stage": fan.fan_lifecycle_stage or "passerby",
            "fan_since": min(identities.mapped("first_seen"), default=False),
        })
        channel_ids = identities.channel_id.ids
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("UPDATE live_fan_identity SET partner_id = %s WHERE id = ANY(%s) AND partner_id = %s",
                   [new_fan.id, identities.ids, fan.id])
        for table in ("live_comment", "live_event"):
            cr.execute(f"UPDATE {table} SET partner_id = %s WHERE partner_id = %s AND channel_id = ANY(%s)",
                       [new_fan.id, fan.id, channel_ids])
        cr.execute("""
            UPDATE live_session_fan a SET partner_id = %(new)s
             WHERE a.partner_id = %(old)s
               AND EXISTS (SELECT 1 FROM live_event e WHERE e.session_id = a.session_id AND e.partner_id = %(new)s)
               AND NOT EXISTS (SELECT 1 FROM live_event e WHERE e.session_id = a.session_id AND e.partner_id = %(old)s)
        """, {"new": new_fan.id, "old": fan.id})
        (fan | new_fan)._live_recompute_fan_stats()
        self.env.invalidate_all()
        (fan | new_fan)._live_fan_totals_changed()
        return new_fan

    def _live_recompute_fan_stats(self):
        """The running totals of these fans again, from their audience lines."""
        counters = [name for name, _type in SHARED_COUNTER_COLUMNS]
        self.env.cr.execute("DELETE FROM live_fan_stats WHERE partner_id = ANY(%s)", [self.ids])
        self.env.cr.execute(f"""
            INSERT INTO live_fan_stats (partner_id, company_id, session_count, last_interaction_at,
                                        {", ".join(counters)}, create_uid, create_date, write_uid, write_date)
            SELECT partner_id, min(company_id), count(*), max(last_seen_at),
                   {", ".join(f"sum({name})" for name in counters)},
                   %s, now() AT TIME ZONE 'UTC', %s, now() AT TIME ZONE 'UTC'
              FROM live_session_fan
             WHERE partner_id = ANY(%s)
             GROUP BY partner_id
        """, [self.env.uid, self.env.uid, self.ids])
        self.env["live.fan.stats"].invalidate_model()
