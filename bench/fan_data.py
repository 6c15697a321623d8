"""Fans' interaction totals made in SQL for the benchmarks (bench/rfm.py,
bench/fan_views.py): 80% of the fans named `prefix`-something get a
live.fan.stats row, their last interaction spread over 400 days."""


def add_fan_stats(cr, company_id, prefix):
    cr.execute("""
        INSERT INTO live_fan_stats (partner_id, company_id, session_count, comment_count, like_count,
                                    last_interaction_at, create_date, write_date, create_uid, write_uid)
        SELECT id, company_id, 1 + (random() * 20)::int, (random() * 30)::int, (random() * 500)::int,
               now() AT TIME ZONE 'UTC' - random() * interval '400 days',
               now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', 1, 1
          FROM res_partner WHERE company_id = %s AND name LIKE %s AND random() < 0.8
    """, [company_id, prefix + "-%"])
