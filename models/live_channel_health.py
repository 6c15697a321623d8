from datetime import timedelta

from odoo import api, fields, models

HEALTH = "_compute_health"


class LiveChannel(models.Model):
    """How the channel's pushes are doing, read from the inbox (live.event) with
    queries bounded by time or by the pending rows, each served by an index."""
    _inherit = "live.channel"

    health_last_push_at = fields.Datetime(string="Last Push Received", compute=HEALTH)
    health_events_5m = fields.Float(
        string="Events per Minute (last 5 min)", compute=HEALTH,
        help="Events received in the last 5 minutes, per minute (a push may carry several events).")
    health_events_15m = fields.Float(
        string="Events per Minute (last 15 min)", compute=HEALTH,
        help="Events received in the last 15 minutes, per minute (a push may carry several events).")
    health_pending_count = fields.Integer(
        string="Inbox Depth (pending events)", compute=HEALTH, help="Events received and not applied yet.")
    health_lag_seconds = fields.Integer(
        string="Processing Lag (s)", compute=HEALTH,
        help="Age of the oldest event still waiting to be applied; 0 when the inbox is empty.")

    @api.depends_context("live_figures_now")
    def _compute_health(self):
        now = self.env.context.get("live_figures_now") or fields.Datetime.now()
        ids = [channel_id for channel_id in self.ids if channel_id]
        recent, last, pending = {}, {}, {}
        if ids:
            cr = self.env.cr
            cr.execute("""
                SELECT c.id, (SELECT max(e.received_at) FROM live_event e WHERE e.channel_id = c.id)
                  FROM unnest(%s::int[]) AS c(id)
            """, [ids])
            last = dict(cr.fetchall())
            cr.execute("""
                SELECT channel_id, count(*) FILTER (WHERE received_at >= %s), count(*)
                  FROM live_event
                 WHERE channel_id = ANY(%s) AND received_at >= %s AND received_at <= %s
                 GROUP BY channel_id
            """, [now - timedelta(minutes=5), ids, now - timedelta(minutes=15), now])
            recent = {channel_id: (five, fifteen) for channel_id, five, fifteen in cr.fetchall()}
            # The pending rows are few and indexed (live_event_pending_idx).
            cr.execute("""
                SELECT channel_id, count(*), min(received_at)
                  FROM live_event WHERE state = 'pending' AND channel_id = ANY(%s)
                 GROUP BY channel_id
            """, [ids])
            pending = {channel_id: (count, oldest) for channel_id, count, oldest in cr.fetchall()}
        for channel in self:
            five, fifteen = recent.get(channel.id, (0, 0))
            count, oldest = pending.get(channel.id, (0, None))
            channel.health_last_push_at = last.get(channel.id) or False
            channel.health_events_5m = five / 5.0
            channel.health_events_15m = fifteen / 15.0
            channel.health_pending_count = count
            channel.health_lag_seconds = max(0, int((now - oldest).total_seconds())) if oldest else 0
