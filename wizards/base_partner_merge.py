from odoo import models

from ..models.live_event_processor import SHARED_COUNTER_COLUMNS

COUNTERS = [name for name, _type in SHARED_COUNTER_COLUMNS]


class MergePartnerAutomatic(models.TransientModel):
    """Fans' rows that are unique per partner, consolidated before Odoo moves the
    references: its generic update would hit the unique constraint and then delete
    the merged-away fan's rows (live.fan.stats, live.session.fan,
    live.fan.consent). Pending suggestions follow the survivor."""
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        self.env.flush_all()
        self._live_consolidate_fan_rows(src_partners, dst_partner)
        super()._update_foreign_keys(src_partners, dst_partner)

    def _live_consolidate_fan_rows(self, src_partners, dst_partner):
        """Hook: leave no row of src_partners in a table unique per partner (other
        modules, e.g. RFM scores, extend it). The audience first: the totals count
        sessions from it."""
        self._live_merge_audience(src_partners, dst_partner)
        self._live_merge_stats(src_partners, dst_partner)
        self._live_merge_consents(src_partners, dst_partner)
        # Computed per fan from the facts that follow the survivor: dropped here,
        # recomputed for the survivor after the merge (_live_fan_totals_changed).
        self.env.cr.execute("DELETE FROM live_fan_rfm WHERE partner_id = ANY(%(ids)s);"
                            "DELETE FROM live_fan_category WHERE partner_id = ANY(%(ids)s)",
                            {"ids": src_partners.ids})
        self.env["live.fan.merge.suggestion"]._follow_merge(src_partners, dst_partner)
        self.env.invalidate_all()

    def _live_merge_audience(self, src_partners, dst_partner):
        """One audience line per session: a session both fans attended adds up their
        counters (each event was counted once, on one of them)."""
        cr = self.env.cr
        partner_ids = (src_partners | dst_partner).ids
        cr.execute(f"""
            WITH gone AS (
                DELETE FROM live_session_fan WHERE partner_id = ANY(%s) RETURNING *
            )
            INSERT INTO live_session_fan (session_id, partner_id, company_id, first_seen_at, last_seen_at,
                                          enter_count, {", ".join(COUNTERS)},
                                          create_uid, create_date, write_uid, write_date)
            SELECT session_id, %s, min(company_id), min(first_seen_at), max(last_seen_at), sum(enter_count),
                   {", ".join(f"sum({name})" for name in COUNTERS)},
                   min(create_uid), min(create_date), %s, now() AT TIME ZONE 'UTC'
              FROM gone
             GROUP BY session_id
        """, [partner_ids, dst_partner.id, self.env.uid])

    def _live_merge_stats(self, src_partners, dst_partner):
        """One row of totals: the counters add up (distinct events), the sessions are
        counted again from the merged audience (a session both attended is one)."""
        cr = self.env.cr
        partner_ids = (src_partners | dst_partner).ids
        cr.execute(f"""
            WITH gone AS (
                DELETE FROM live_fan_stats WHERE partner_id = ANY(%s) RETURNING *
            )
            INSERT INTO live_fan_stats (partner_id, company_id, session_count, last_interaction_at,
                                        {", ".join(COUNTERS)}, create_uid, create_date, write_uid, write_date)
            SELECT %s, min(company_id),
                   (SELECT count(*) FROM live_session_fan WHERE partner_id = %s),
                   max(last_interaction_at), {", ".join(f"sum({name})" for name in COUNTERS)},
                   min(create_uid), min(create_date), %s, now() AT TIME ZONE 'UTC'
              FROM gone
            HAVING count(*) > 0
        """, [partner_ids, dst_partner.id, dst_partner.id, self.env.uid])

    def _live_merge_consents(self, src_partners, dst_partner):
        """One consent per channel: the latest answer holds (and its row moves)."""
        self.env.cr.execute("""
            DELETE FROM live_fan_consent c
             USING (SELECT id, row_number() OVER (PARTITION BY channel_id ORDER BY date DESC, id DESC) AS rank
                      FROM live_fan_consent WHERE partner_id = ANY(%s)) ranked
             WHERE c.id = ranked.id AND ranked.rank > 1
        """, [(src_partners | dst_partner).ids])
