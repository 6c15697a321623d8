import logging
from datetime import timedelta

from odoo import api, fields, models

from .live_fan_rfm import each_company_nightly, each_touched_company, fan_paid_orders_sql

_logger = logging.getLogger(__name__)

# The paid orders of the fans in scope, as live.fan.rfm counts them.
PAID_ORDERS_SQL = fan_paid_orders_sql("lcc_tag_fans")
# Each fan's latest paid order, joined as `lo` (the source of the buyers' reasons).
LAST_ORDER_JOIN = f"""
    LEFT JOIN (SELECT DISTINCT ON (fan_id) fan_id, order_id FROM ({PAID_ORDERS_SQL}) o
                ORDER BY fan_id, paid_at DESC, order_id DESC) lo ON lo.fan_id = r.partner_id
"""
IN_WINDOW = "(%(window_start)s::timestamp IS NULL OR {column} >= %(window_start)s::timestamp)"

# One query per kind: the matching fans into lcc_tag_matches (partner_id, tag_id or
# categ_id, value, hits, source_ref).
MATCH_SQL = {
    "comment_keywords": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, value, hits, source_ref)
        SELECT partner_id, %(tag)s, score, hits, 'live.comment,' || last_comment
          FROM (SELECT c.partner_id, sum(k.weight) AS score, count(DISTINCT c.id) AS hits,
                       (array_agg(c.id ORDER BY c.occurred_at DESC, c.id DESC))[1] AS last_comment
                  FROM live_comment c
                  JOIN lcc_tag_fans f ON f.id = c.partner_id
                  JOIN unnest(%(keywords)s::text[], %(weights)s::float8[]) AS k(keyword, weight)
                    ON strpos(lower(c.content), k.keyword) > 0
                 WHERE c.company_id = %(company)s AND {IN_WINDOW.format(column="c.occurred_at")}
                 GROUP BY c.partner_id) s
         WHERE score >= %(threshold)s AND hits >= %(min_count)s
    """,
    "big_gifter": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, value, hits, source_ref)
        SELECT sf.partner_id, %(tag)s, sum(sf.gift_value), count(*) FILTER (WHERE sf.gift_value > 0),
               'live.session,' || (array_agg(sf.session_id ORDER BY sf.gift_value DESC, sf.session_id DESC))[1]
          FROM live_session_fan sf JOIN lcc_tag_fans f ON f.id = sf.partner_id
         WHERE sf.gift_value > 0 AND {IN_WINDOW.format(column="sf.last_seen_at")}
         GROUP BY sf.partner_id
        HAVING sum(sf.gift_value) >= %(threshold)s AND count(*) >= %(min_count)s
    """,
    # Watch time in minutes; "never bought": no paid order at all (live.fan.rfm,
    # recomputed just before the rules).
    "watched_no_order": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, value, hits, source_ref)
        SELECT sf.partner_id, %(tag)s, round(sum(sf.watch_seconds) / 60.0, 1), count(*),
               'live.session,' || (array_agg(sf.session_id ORDER BY sf.watch_seconds DESC, sf.session_id DESC))[1]
          FROM live_session_fan sf JOIN lcc_tag_fans f ON f.id = sf.partner_id
         WHERE sf.watch_seconds > 0 AND {IN_WINDOW.format(column="sf.last_seen_at")}
           AND NOT EXISTS (SELECT 1 FROM live_fan_rfm r WHERE r.partner_id = sf.partner_id AND r.order_count > 0)
         GROUP BY sf.partner_id
        HAVING sum(sf.watch_seconds) >= %(threshold)s * 60 AND count(*) >= %(min_count)s
    """,
    "repeat_buyer": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, value, hits, source_ref)
        SELECT r.partner_id, %(tag)s, r.order_count, r.order_count, 'sale.order,' || lo.order_id
          FROM live_fan_rfm r JOIN lcc_tag_fans f ON f.id = r.partner_id {LAST_ORDER_JOIN}
         WHERE r.order_count >= GREATEST(%(threshold)s, %(min_count)s)
    """,
    "vip": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, value, hits, source_ref)
        SELECT r.partner_id, %(tag)s, r.paid_amount, r.order_count, 'sale.order,' || lo.order_id
          FROM live_fan_rfm r JOIN lcc_tag_fans f ON f.id = r.partner_id {LAST_ORDER_JOIN}
         WHERE r.paid_amount >= %(vip_amount)s AND r.paid_amount > 0 AND r.order_count >= %(min_count)s
    """,
    # The share of the fan's paid amount (order lines, untaxed) in a category, with
    # its sub-categories when the rule names one (categ_ids), else per category.
    "category_preference": f"""
        INSERT INTO lcc_tag_matches (partner_id, tag_id, categ_id, value, hits, source_ref)
        WITH lines AS (
            SELECT o.fan_id, o.order_id, o.paid_at, l.price_subtotal / o.rate AS amount,
                   CASE WHEN %(per_category)s THEN pt.categ_id
                        WHEN pt.categ_id = ANY(%(categ_ids)s::int[]) THEN %(categ)s END AS categ_id
              FROM ({PAID_ORDERS_SQL}) o
              JOIN sale_order_line l ON l.order_id = o.order_id AND l.display_type IS NULL
              JOIN product_product pp ON pp.id = l.product_id
              JOIN product_template pt ON pt.id = pp.product_tmpl_id
             WHERE {IN_WINDOW.format(column="o.paid_at")}
        ), totals AS (
            SELECT fan_id, sum(amount) AS total FROM lines GROUP BY fan_id
        ), shares AS (
            SELECT fan_id, categ_id, sum(amount) AS amount, count(DISTINCT order_id) AS hits,
                   (array_agg(order_id ORDER BY paid_at DESC, order_id DESC))[1] AS last_order
              FROM lines WHERE categ_id IS NOT NULL GROUP BY fan_id, categ_id
        )
        SELECT s.fan_id, CASE WHEN NOT %(per_category)s THEN %(tag)s END, s.categ_id,
               round(100 * s.amount / t.total, 1), s.hits, 'sale.order,' || s.last_order
          FROM shares s JOIN totals t ON t.fan_id = s.fan_id
         WHERE t.total > 0 AND 100 * s.amount / t.total >= %(threshold)s AND s.hits >= %(min_count)s
    """,
}


class LiveFanTagRunner(models.AbstractModel):
    """Applies the fan tag rules, set-based, per company: each rule's query finds
    the matching fans, then one statement each inserts the missing tags and
    reasons, refreshes the reasons that changed, and (for rules that remove their
    tag) deletes the reasons and tags of the fans in scope that no longer match.
    A tag the fan had before any rule gave it is never removed."""
    _name = "live.fan.tag.runner"
    _description = "Fan Tag Rules Runner"

    @api.model
    def _cron_apply(self):
        """Nightly, after the fans' figures (live.fan.rfm): every rule on every fan."""
        each_company_nightly(self.env, self._apply)

    @api.model
    def _apply_to_fans(self, partner_ids_by_company):
        """After a processed batch: {company id: fan ids} touched by it."""
        each_touched_company(self.env, partner_ids_by_company, self._apply)

    @api.model
    def _apply(self, companies, partner_ids=None, rules=None):
        """Apply `rules` (else the active ones) of each company to its fans
        (`partner_ids`, else all of them)."""
        self = self.sudo()
        self.env.flush_all()
        for company in companies.sudo():
            domain = [("company_id", "in", [False, company.id])] + ([("id", "in", rules.ids)] if rules else [])
            company_rules = self.env["live.fan.tag.rule"].search(domain)
            if company_rules:
                self._apply_company(company, company_rules, partner_ids)
        self.env["res.partner"].invalidate_model(["category_id"])
        self.env["res.partner.category"].invalidate_model(["partner_ids"])
        self.env["live.fan.tag.reason"].invalidate_model()

    def _apply_company(self, company, rules, partner_ids):
        cr = self.env.cr
        cr.execute("DROP TABLE IF EXISTS lcc_tag_fans")
        cr.execute("""
            CREATE TEMP TABLE lcc_tag_fans AS
            SELECT id FROM res_partner
             WHERE company_id = %(company)s AND is_live_fan AND active
               AND (%(all)s OR id = ANY(%(ids)s::int[]))
        """, {"company": company.id, "all": partner_ids is None, "ids": list(partner_ids or [])})
        if partner_ids is None:
            cr.execute("ANALYZE lcc_tag_fans")
        cr.execute("DROP TABLE IF EXISTS lcc_tag_matches")
        cr.execute("""
            CREATE TEMP TABLE lcc_tag_matches (partner_id int, tag_id int, categ_id int, value numeric, hits int,
                                               source_ref varchar)
        """)
        cr.execute("DROP TABLE IF EXISTS lcc_tag_gone")
        cr.execute("CREATE TEMP TABLE lcc_tag_gone (partner_id int, tag_id int, tag_was_set bool)")
        counts = [0, 0]
        for rule in rules:
            added, removed = self._apply_rule(company, rule)
            counts[0] += added
            counts[1] += removed
        cr.execute("DROP TABLE lcc_tag_fans; DROP TABLE lcc_tag_matches; DROP TABLE lcc_tag_gone")
        if partner_ids is None:
            _logger.info("Fan tag rules of %s: %s reason(s) added or refreshed, %s removed",
                         company.name, *counts)
        return counts

    def _params(self, company, rule):
        now = fields.Datetime.now()
        keywords = rule.keyword_ids.filtered("keyword")
        categs = self.env["product.category"]
        if rule.product_categ_id:
            categs = categs.search([("id", "child_of", rule.product_categ_id.id)])
        return {
            "company": company.id, "rule": rule.id, "tag": rule.tag_id.id, "now": now, "uid": self.env.uid,
            "window_start": now - timedelta(days=rule.window_days) if rule.window_days > 0 else None,
            "threshold": rule.threshold, "min_count": rule.min_count,
            "keywords": [k.keyword.strip().lower() for k in keywords],
            "weights": [k.weight for k in keywords],
            "vip_amount": rule.threshold or company.live_vip_amount,
            "per_category": not rule.product_categ_id, "categ": rule.product_categ_id.id or None,
            "categ_ids": categs.ids,
        }

    def _apply_rule(self, company, rule):
        cr = self.env.cr
        params = self._params(company, rule)
        cr.execute("TRUNCATE lcc_tag_matches; TRUNCATE lcc_tag_gone")
        if rule.kind != "comment_keywords" or params["keywords"]:
            cr.execute(MATCH_SQL[rule.kind], params)
        if rule.kind == "category_preference" and params["per_category"]:
            self._category_tags(rule)
        # The reasons: new ones (remembering a tag the fan already had by hand), and
        # the ones whose figure or source moved.
        cr.execute("""
            INSERT INTO live_fan_tag_reason (partner_id, tag_id, rule_id, company_id, value, hits, source_ref, date,
                                             tag_was_set, create_uid, create_date, write_uid, write_date)
            SELECT m.partner_id, m.tag_id, %(rule)s, %(company)s, m.value, m.hits, m.source_ref, %(now)s,
                   EXISTS (SELECT 1 FROM res_partner_res_partner_category_rel t
                            WHERE t.partner_id = m.partner_id AND t.category_id = m.tag_id)
                   AND NOT EXISTS (SELECT 1 FROM live_fan_tag_reason o
                                    WHERE o.partner_id = m.partner_id AND o.tag_id = m.tag_id),
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM lcc_tag_matches m WHERE m.tag_id IS NOT NULL
             ORDER BY m.partner_id, m.tag_id
            ON CONFLICT (partner_id, tag_id, rule_id) DO UPDATE
               SET value = EXCLUDED.value, hits = EXCLUDED.hits, source_ref = EXCLUDED.source_ref,
                   date = EXCLUDED.date, write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
             WHERE (live_fan_tag_reason.value, live_fan_tag_reason.hits, live_fan_tag_reason.source_ref)
                   IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.hits, EXCLUDED.source_ref)
        """, params)
        added = cr.rowcount
        cr.execute("""
            INSERT INTO res_partner_res_partner_category_rel (partner_id, category_id)
            SELECT DISTINCT partner_id, tag_id FROM lcc_tag_matches WHERE tag_id IS NOT NULL
             ORDER BY partner_id, tag_id
            ON CONFLICT DO NOTHING
        """)
        if not rule.remove_when_unmatched:
            return added, 0
        cr.execute("""
            WITH gone AS (
                DELETE FROM live_fan_tag_reason r
                 WHERE r.rule_id = %(rule)s AND r.partner_id IN (SELECT id FROM lcc_tag_fans)
                   AND NOT EXISTS (SELECT 1 FROM lcc_tag_matches m
                                    WHERE m.partner_id = r.partner_id AND m.tag_id = r.tag_id)
                RETURNING r.partner_id, r.tag_id, r.tag_was_set
            )
            INSERT INTO lcc_tag_gone SELECT * FROM gone
        """, params)
        removed = cr.rowcount
        if removed:
            # A hand-set tag another rule also explains stays hand-set.
            cr.execute("""
                UPDATE live_fan_tag_reason o SET tag_was_set = TRUE
                  FROM lcc_tag_gone g
                 WHERE g.tag_was_set AND o.partner_id = g.partner_id AND o.tag_id = g.tag_id AND NOT o.tag_was_set
            """)
            cr.execute("""
                DELETE FROM res_partner_res_partner_category_rel t
                 USING lcc_tag_gone g
                 WHERE t.partner_id = g.partner_id AND t.category_id = g.tag_id AND NOT g.tag_was_set
                   AND NOT EXISTS (SELECT 1 FROM live_fan_tag_reason o
                                    WHERE o.partner_id = g.partner_id AND o.tag_id = g.tag_id)
            """)
        return added, removed

    def _category_tags(self, rule):
        """One child tag of the rule's tag per preferred category, made on first use."""
        cr = self.env.cr
        cr.execute("SELECT DISTINCT categ_id FROM lcc_tag_matches")
        categs = self.env["product.category"].browse(row[0] for row in cr.fetchall())
        if not categs:
            return
        Tag = self.env["res.partner.category"].with_context(active_test=False)
        tags = {tag.name: tag.id for tag in Tag.search([("parent_id", "=", rule.tag_id.id)])}
        mapping = []
        for categ in categs:
            if categ.name not in tags:
                tags[categ.name] = Tag.create({"name": categ.name, "parent_id": rule.tag_id.id}).id
            mapping.append((categ.id, tags[categ.name]))
        self.env.flush_all()
        cr.execute("""
            UPDATE lcc_tag_matches m SET tag_id = v.tag_id
              FROM (SELECT unnest(%s::int[]) AS categ_id, unnest(%s::int[]) AS tag_id) v
             WHERE m.categ_id = v.categ_id
        """, [[c for c, _t in mapping], [t for _c, t in mapping]])


class LiveFanRfm(models.Model):
    _inherit = "live.fan.rfm"

    @api.model
    def _recompute_fans(self, partner_ids_by_company):
        # The touched fans' tag rules run on the figures just written, wherever
        # these are recomputed (the processor's batch, the fans' queue).
        result = super()._recompute_fans(partner_ids_by_company)
        try:
            with self.env.cr.savepoint():
                self.env["live.fan.tag.runner"]._apply_to_fans(partner_ids_by_company)
        except Exception:  # noqa: BLE001
            _logger.exception("Applying the fan tag rules to %s company(ies) failed; the nightly run will",
                              len(partner_ids_by_company))
        return result
