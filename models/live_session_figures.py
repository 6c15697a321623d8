from datetime import timedelta

from odoo import api, fields, models

from .live_session_fan import watch_seconds_sql
from .sale_order import PAID_DOMAIN, paid_sql

# One compute fills every figure: the figures read the same few aggregates.
FIGURES = "_compute_figures"


def _ratio(numerator, denominator):
    return numerator / denominator if denominator else 0.0


class LiveSession(models.Model):
    """The session's figures (metrics.md), read from what the processor keeps
    (live.session.minute, live.session.fan) and from the session's orders: never
    from the events or comments. Not stored: each read is current."""
    _inherit = "live.session"

    minute_ids = fields.One2many("live.session.minute", "session_id", string="Minute Figures", readonly=True)
    figures_updated_at = fields.Datetime(
        string="Figures Updated", compute=FIGURES,
        help="The latest change the figures include: an interaction applied, platform statistics or an order.")
    online_count = fields.Integer(
        string="Online Now (people)", compute=FIGURES,
        help="Fans who entered and have not left since, while the session has not ended.")
    pv = fields.Integer(
        string="PV (visits)", compute=FIGURES,
        help="Room views: the platform's figure when it reports one (session statistics), else the entries seen.")
    uv = fields.Integer(
        string="UV (unique viewers)", compute=FIGURES,
        help="Unique viewers: the platform's figure when it reports one (session statistics), else the fans seen "
             "in the room. The denominator of the per-viewer figures.")
    pcu = fields.Integer(
        string="PCU (peak concurrent viewers)", compute=FIGURES,
        help="The platform's peak when it reports one, else the peak of entries less leaves, minute by minute.")
    acu = fields.Float(
        string="ACU (average concurrent viewers)", compute=FIGURES,
        help="Entries less leaves at the end of each minute, averaged over the minutes from the first one seen to "
             "the session's end (or now).")
    buyer_count = fields.Integer(string="Buyers (people)", compute=FIGURES,
                                 help="Customers with a paid order attributed to the session.")
    conversion_people = fields.Float(string="Conversion (buyers / UV)", compute=FIGURES)
    conversion_visits = fields.Float(string="Conversion (paid orders / PV)", compute=FIGURES)
    gpm = fields.Monetary(string="GPM (GMV × 1000 / PV)", compute=FIGURES,
                          help="GMV per thousand room views.")
    uv_value = fields.Monetary(string="UV Value (GMV / UV)", compute=FIGURES)
    aov = fields.Monetary(string="AOV (GMV / paid orders)", compute=FIGURES)
    watch_seconds_total = fields.Integer(
        string="Total Watch Time (s)", compute=FIGURES,
        help="Every viewer's watch time, including the time so far of fans still in the room, each capped at the "
             "session's length.")
    avg_watch_seconds = fields.Float(string="Average Watch Time (s, total / UV)", compute=FIGURES)
    interacting_count = fields.Integer(
        string="Interacting Viewers (people)", compute=FIGURES,
        help="Viewers who commented, liked, gifted, shared or followed.")
    interaction_rate = fields.Float(string="Interaction Rate (interacting viewers / UV)", compute=FIGURES)
    new_follower_count = fields.Integer(string="New Followers", compute=FIGURES)
    new_fan_rate = fields.Float(string="New-Fan Rate (new followers / UV)", compute=FIGURES)
    entry_count = fields.Integer(string="Entries Seen (visits)", compute=FIGURES)
    comment_total = fields.Integer(string="Comments (session total)", compute=FIGURES)
    like_total = fields.Integer(string="Likes (session total)", compute=FIGURES)
    gift_value_total = fields.Monetary(string="Gift Value (session total)", compute=FIGURES)
    share_total = fields.Integer(string="Shares (session total)", compute=FIGURES)
    new_buyer_count = fields.Integer(
        string="New Buyers (people)", compute=FIGURES,
        help="Buyers whose first paid order from this company (any channel) is in this session.")
    returning_buyer_count = fields.Integer(
        string="Returning Buyers (people)", compute=FIGURES,
        help="Buyers who had paid an order from this company (any channel) before this session's.")
    ad_gmv = fields.Monetary(
        string="Ad-attributed GMV", compute=FIGURES,
        help="GMV of the paid orders whose UTM medium is marked Paid Traffic.")
    ad_roi = fields.Float(string="Ad ROI (ad-attributed GMV / ad spend)", compute=FIGURES)
    refund_order_count = fields.Integer(string="Refunded Orders", compute=FIGURES,
                                        help="Paid orders with a refund.")
    refund_rate = fields.Float(string="Refund Rate (refunds / GMV)", compute=FIGURES)
    refund_order_rate = fields.Float(string="Refund Rate (refunded orders / paid orders)", compute=FIGURES)
    ordering_count = fields.Integer(
        string="Fans Who Ordered (people)", compute=FIGURES,
        help="Customers with an order attributed to the session, paid or not.")
    funnel_interacting_ratio = fields.Float(string="Funnel: Interacting / Viewers", compute=FIGURES)
    funnel_ordering_ratio = fields.Float(string="Funnel: Ordered / Interacting", compute=FIGURES)
    funnel_paid_ratio = fields.Float(string="Funnel: Paid / Ordered", compute=FIGURES)

    @api.depends_context("live_figures_now")
    def _compute_figures(self):
        figures = self._live_figures()
        for session in self:
            for name, value in figures[session.id].items():
                session[name] = value

    def _live_figures(self):
        """{session id: {field: value}} for every figure, in a fixed number of queries
        whatever the sessions' size: the minute rows, the audience lines and the
        orders, each read grouped by session."""
        now = self.env.context.get("live_figures_now") or fields.Datetime.now()
        ids = [session_id for session_id in self.ids if session_id]
        minutes = self._live_minute_figures(ids, now)
        audience = self._live_audience_figures(ids, now)
        orders = self._live_order_figures(ids)
        result = {}
        for session in self:
            m = minutes.get(session.id, {})
            a = audience.get(session.id, {})
            o = orders.get(session.id, {})
            pv = session.stat_view_count or m.get("enter_count", 0)
            uv = session.stat_viewer_count or m.get("new_viewer_count", 0)
            # Orders and money: the session's own (sale.order._live_figures), read once.
            gmv, paid_orders, refunds = session.gmv, session.order_count, session.refund_amount
            buyers, interacting = o.get("buyers", 0), m.get("new_interacting_count", 0)
            ordering = o.get("ordering", 0)
            watch = a.get("watch", 0)
            stamps = [stamp for stamp in (m.get("updated"), session.stat_updated_at, o.get("updated")) if stamp]
            result[session.id] = {
                "figures_updated_at": max(stamps) if stamps else False,
                "online_count": a.get("online", 0) if not session.date_end else 0,
                "pv": pv, "uv": uv,
                "pcu": session.stat_peak_viewers or m.get("pcu", 0), "acu": m.get("acu", 0.0),
                "buyer_count": buyers,
                "conversion_people": _ratio(buyers, uv), "conversion_visits": _ratio(paid_orders, pv),
                "gpm": _ratio(gmv * 1000, pv), "uv_value": _ratio(gmv, uv), "aov": _ratio(gmv, paid_orders),
                "watch_seconds_total": watch, "avg_watch_seconds": _ratio(watch, uv),
                "interacting_count": interacting, "interaction_rate": _ratio(interacting, uv),
                "new_follower_count": m.get("follow_count", 0), "new_fan_rate": _ratio(m.get("follow_count", 0), uv),
                "entry_count": m.get("enter_count", 0), "comment_total": m.get("comment_count", 0),
                "like_total": m.get("like_count", 0), "gift_value_total": m.get("gift_value", 0.0),
                "share_total": m.get("share_count", 0),
                "new_buyer_count": o.get("new_buyers", 0), "returning_buyer_count": buyers - o.get("new_buyers", 0),
                "ad_gmv": o.get("ad_gmv", 0.0), "ad_roi": _ratio(o.get("ad_gmv", 0.0), session.ad_spend),
                "refund_order_count": o.get("refund_orders", 0), "refund_rate": _ratio(refunds, gmv),
                "refund_order_rate": _ratio(o.get("refund_orders", 0), paid_orders),
                "ordering_count": ordering,
                "funnel_interacting_ratio": _ratio(interacting, uv),
                "funnel_ordering_ratio": _ratio(ordering, interacting),
                "funnel_paid_ratio": _ratio(buyers, ordering),
            }
        return result

    def _live_minute_figures(self, ids, now):
        if not ids:
            return {}
        counters = ("enter_count", "leave_count", "new_viewer_count", "new_interacting_count", "watch_seconds",
                    "comment_count", "like_count", "gift_count", "gift_value", "follow_count", "share_count")
        self.env.cr.execute(f"""
            SELECT session_id, minute, write_date, {", ".join(counters)}
              FROM live_session_minute WHERE session_id = ANY(%s) ORDER BY session_id, minute
        """, [ids])
        by_session = {}
        for session_id, minute, written, *values in self.env.cr.fetchall():
            by_session.setdefault(session_id, []).append(
                (minute, written, {name: value or 0 for name, value in zip(counters, values)}))
        ends = {session.id: min(filter(None, [session.date_end, now])) for session in self.browse(ids)}
        result = {}
        for session_id, rows in by_session.items():
            totals = dict.fromkeys(counters, 0)
            concurrent = {}
            online = 0
            for minute, _written, values in rows:
                for name in counters:
                    totals[name] += values[name]
                online += values["enter_count"] - values["leave_count"]
                concurrent[minute] = max(online, 0)
            # Concurrency holds from a minute with activity to the next one: every minute
            # from the first one seen to the end counts, without a loop over each of them.
            minutes = sorted(concurrent)
            last = max(minutes[-1], ends[session_id].replace(second=0, microsecond=0))
            viewer_minutes = sum(
                concurrent[minute] * ((following - minute) // timedelta(minutes=1))
                for minute, following in zip(minutes, [*minutes[1:], last + timedelta(minutes=1)]))
            totals.update(
                pcu=max(concurrent.values()),
                acu=viewer_minutes / ((last - minutes[0]) // timedelta(minutes=1) + 1),
                updated=max(written for _minute, written, _values in rows))
            result[session_id] = totals
        return result

    def _live_audience_figures(self, ids, now):
        """Watch time and who is in the room, from the audience lines (one per fan):
        the same rule as live.session.fan.watch_time_now, for the whole session."""
        if not ids:
            return {}
        present, seconds = watch_seconds_sql("a", "s", "e.end_at")
        self.env.cr.execute(f"""
            SELECT a.session_id, count(*) FILTER (WHERE {present}), coalesce(sum({seconds}), 0)
              FROM live_session_fan a
              JOIN live_session s ON s.id = a.session_id
             CROSS JOIN LATERAL (SELECT LEAST(coalesce(s.date_end, %(now)s), %(now)s::timestamp) AS end_at) e
             WHERE a.session_id = ANY(%(ids)s)
             GROUP BY a.session_id
        """, {"ids": ids, "now": now})
        return {session_id: {"online": online, "watch": int(watch)}
                for session_id, online, watch in self.env.cr.fetchall()}

    def _live_order_figures(self, ids):
        """The session's orders, with sale.order's own definition of paid (PAID_DOMAIN),
        read as superuser as the session's GMV is (sale.order._live_figures)."""
        if not ids:
            return {}
        Order = self.env["sale.order"].sudo()
        base = [("live_session_id", "in", ids)]
        result = {}
        for session, buyers in Order._read_group(
                base + PAID_DOMAIN, ["live_session_id"], ["partner_id:count_distinct"]):
            result[session.id] = {"buyers": buyers}
        for session, count in Order._read_group(
                base + PAID_DOMAIN + [("live_refunded_amount", ">", 0)], ["live_session_id"], ["__count"]):
            result[session.id]["refund_orders"] = count
        for session, ad_gmv in Order._read_group(
                base + PAID_DOMAIN + [("medium_id.live_paid_traffic", "=", True)], ["live_session_id"],
                ["live_gmv:sum"]):
            result[session.id]["ad_gmv"] = ad_gmv
        for session, people, updated in Order._read_group(
                base, ["live_session_id"], ["partner_id:count_distinct", "write_date:max"]):
            figures = result.setdefault(session.id, {})
            figures["ordering"] = people
            figures["updated"] = updated
        # New buyers: their first paid order from the company, any channel, is one of
        # this session's. Paid as in PAID_DOMAIN; paid at the platform's payment time,
        # else the order date.
        self.env.cr.execute(f"""
            WITH buyer AS (
                SELECT o.live_session_id AS session_id, o.partner_id, o.company_id,
                       min(coalesce(o.platform_paid_at, o.date_order)) AS first_here
                  FROM sale_order o
                 WHERE o.live_session_id = ANY(%s) AND {paid_sql('o')}
                 GROUP BY o.live_session_id, o.partner_id, o.company_id)
            SELECT b.session_id, count(*)
              FROM buyer b
             WHERE NOT EXISTS (
                   SELECT 1 FROM sale_order p
                    WHERE p.partner_id = b.partner_id AND p.company_id = b.company_id
                      AND {paid_sql('p')}
                      AND coalesce(p.platform_paid_at, p.date_order) < b.first_here
                      AND p.live_session_id IS DISTINCT FROM b.session_id)
             GROUP BY b.session_id
        """, [ids])
        for session_id, count in self.env.cr.fetchall():
            result[session_id]["new_buyers"] = count
        return result
