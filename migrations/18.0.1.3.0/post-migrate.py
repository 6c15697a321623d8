"""Sessions applied before the processor kept per-minute figures: one row per
session, from its audience lines, so that their totals (entries, viewers,
interacting viewers, watch time, comments, likes, gifts, follows, shares) read as
before. Their minute-by-minute concurrency is unknown: the row's leaves equal its
entries, so PCU and ACU read 0 rather than a made-up peak."""


def migrate(cr, version):
    if not version:
        return
    cr.execute("""
        INSERT INTO live_session_minute (session_id, company_id, minute, enter_count, leave_count, new_viewer_count,
                                         new_interacting_count, watch_seconds, comment_count, like_count, gift_count,
                                         gift_value, follow_count, share_count, create_uid, create_date, write_uid,
                                         write_date)
        SELECT a.session_id, min(a.company_id), date_trunc('minute', min(a.first_seen_at)), sum(a.enter_count),
               sum(a.enter_count), count(*),
               count(*) FILTER (WHERE a.comment_count + a.like_count + a.gift_count + a.follow_count
                                      + a.share_count > 0),
               sum(a.watch_seconds), sum(a.comment_count), sum(a.like_count), sum(a.gift_count), sum(a.gift_value),
               sum(a.follow_count), sum(a.share_count), 1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
          FROM live_session_fan a
         WHERE NOT EXISTS (SELECT 1 FROM live_session_minute m WHERE m.session_id = a.session_id)
         GROUP BY a.session_id
        HAVING min(a.first_seen_at) IS NOT NULL
    """)
