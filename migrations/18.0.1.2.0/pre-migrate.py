"""fan_value_layer used to hold the RFM segment (champions, loyal...): the segment
moves to its own field, fan_rfm_segment (entered on the day of the upgrade as far
as anyone knows), and the value layer becomes high / medium / low. The recompute of
the post-migration then puts figures behind both."""

SEGMENT_TO_LAYER = {
    "champions": "high", "loyal": "high",
    "potential": "medium", "promising": "medium", "needs_attention": "medium", "at_risk": "medium",
    "new": "low", "hibernating": "low", "lost": "low",
}


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        ALTER TABLE res_partner ADD COLUMN IF NOT EXISTS fan_rfm_segment varchar,
                                ADD COLUMN IF NOT EXISTS fan_rfm_segment_date date
    """)
    cr.execute("""
        UPDATE res_partner p
           SET fan_rfm_segment = p.fan_value_layer,
               fan_rfm_segment_date = (now() AT TIME ZONE 'UTC')::date,
               fan_value_layer = m.layer
          FROM unnest(%s::varchar[], %s::varchar[]) AS m(segment, layer)
         WHERE p.fan_value_layer = m.segment
    """, [list(SEGMENT_TO_LAYER), list(SEGMENT_TO_LAYER.values())])
