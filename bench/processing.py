"""Interaction processing benchmark: the set-based processor against the naive path.

Usage (bench/run.sh does it): python bench/processing.py -c ODOO_CONF -d DB [--events N]

Both paths get the same kind of stream (comments, likes, gifts, entries... 10% of the
events from fans never seen before, the rest from 2,000 known fans) in the same run:
  * ours: live.event rows claimed and applied by live.event.processor, 500 per batch,
    one commit per batch (what the cron does);
  * naive: per event, find the fan through the ORM, create the partner and identity
    if new, create an audience line or write it, write the partner's totals.
Targets: ours >= 3,000 events/s and >= 20 x naive.
"""
import sys
import time
import uuid

from odoo import api, SUPERUSER_ID

from odoo_bench import bench_parser, open_registry  # bench/, the script's folder

KINDS = ("comment", "like", "like", "gift", "fan.entered", "follow", "like", "share", "comment", "fan.left")


def stream(run_id, count, known_fans, new_share=0.1, room="bench-room"):
    """Events from `known_fans` existing fans, with `new_share` of them from new fans."""
    events = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        fan = f"new-{run_id}-{n}" if n % int(1 / new_share) == 0 else f"known-{n % known_fans}"
        data = {"content": f"这个多少钱 {n}"} if kind == "comment" else {"count": 2} if kind == "like" else \
            {"gift_id": "rose", "count": 1, "value": 100} if kind == "gift" else \
            {"watch_seconds": 120} if kind == "fan.left" else {}
        events.append({"id": f"{run_id}-{n}", "type": kind, "occurred_at": time.time(), "room_id": room,
                       "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": fan, "nickname": fan},
                       "data": data})
    return events


def store(env, creds, events):
    from odoo.addons.live_commerce_crm.models.platforms.base import InboxEvent
    inbox = [InboxEvent.make(e["id"], e["type"], e, e["room_id"], e["occurred_at"]) for e in events]
    for start in range(0, len(inbox), 1000):
        env["live.event"]._store(creds, inbox[start:start + 1000])
    env.cr.commit()


def run_ours(env, creds, events):
    store(env, creds, events)
    start = time.perf_counter()
    done = 0
    while claimed := env["live.event"]._process_batch(500):
        env.cr.commit()
        done += claimed
    elapsed = time.perf_counter() - start
    assert done == len(events), (done, len(events))
    failed = env["live.event"].search_count([("state", "!=", "done"), ("message_id", "in", [e["id"] for e in events])])
    assert not failed, f"{failed} events not done"
    return len(events) / elapsed


def run_naive(env, channel, events):
    """One ORM lookup/create and one partner write per event."""
    Identity, Partner, Audience = env["live.fan.identity"], env["res.partner"], env["live.session.fan"]
    session = env["live.session"].search([("channel_id", "=", channel.id), ("room_id", "=", "naive-room")], limit=1) \
        or env["live.session"].create({"name": "naive", "channel_id": channel.id, "room_id": "naive-room"})
    counters = {"comment": "comment_count", "like": "like_count", "gift": "gift_count", "fan.entered": "enter_count",
                "follow": "follow_count", "share": "share_count", "fan.left": "watch_seconds"}
    partner_fields = {"comment": "fan_comment_count", "like": "fan_like_count", "gift": "fan_gift_count",
                      "follow": "fan_follow_count", "share": "fan_share_count", "fan.left": "fan_watch_seconds"}
    start = time.perf_counter()
    for event in events:
        fan = event["fan"]
        identity = Identity.search([("channel_id", "=", channel.id), ("identity_type", "=", "open_id"),
                                    ("value", "=", fan["id"])], limit=1)
        partner = identity.partner_id
        if not partner:
            partner = Partner.create({"name": fan["nickname"], "company_id": channel.company_id.id})
            Identity.create({"partner_id": partner.id, "channel_id": channel.id, "value": fan["id"]})
        amount = event["data"].get("count") or event["data"].get("watch_seconds") or 1
        line = Audience.search([("session_id", "=", session.id), ("partner_id", "=", partner.id)], limit=1)
        field = counters[event["type"]]
        if line:
            line.write({field: line[field] + amount})
        else:
            Audience.create({"session_id": session.id, "partner_id": partner.id,
                             "company_id": channel.company_id.id, field: amount})
        if event["type"] in partner_fields:
            name = partner_fields[event["type"]]
            partner.write({name: (partner[name] or 0) + amount})
        env.cr.commit()  # the naive path commits per event, as a per-event job would
    return len(events) / (time.perf_counter() - start)


def main():
    parser = bench_parser()
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--naive-events", type=int, default=1000)
    args = parser.parse_args()
    registry = open_registry(args)
    from odoo.addons.live_commerce_crm.models.platforms import Credentials
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        channel = env["live.channel"].search([("code", "=", "bench-process")]) or env["live.channel"].create(
            {"name": "bench-process", "code": "bench-process", "platform": "generic", "app_secret": "x"})
        creds = Credentials(channel.id, channel.code, "generic", channel.company_id.id, app_secret="x")
        run_id = uuid.uuid4().hex[:8]
        # Warm-up: make 2,000 fans known (and the session exist) before timing.
        warm = [dict(e, fan=dict(e["fan"], id=f"known-{i}", nickname=f"known-{i}"), id=f"warm-{run_id}-{i}")
                for i, e in enumerate(stream("warm" + run_id, 2000, 2000, new_share=1.0))]
        run_ours(env, creds, warm)
        ours = run_ours(env, creds, stream(run_id, args.events, 2000))
        naive = run_naive(env, channel, stream("naive" + run_id, args.naive_events, 2000))
    ok_rate, ok_ratio = ours >= 3000, ours / naive >= 20
    print(f"Interaction processing, {args.events:,} events (10% from fans never seen before, 90% from 2,000 known"
          f" fans) vs {args.naive_events:,} on the naive path")
    print(f"{'set-based processor':<44} {ours:>12,.0f} events/s  vs 3,000: {ours / 3000:6.2f}  "
          f"{'PASS' if ok_rate else 'FAIL'}")
    print(f"{'naive path (ORM per event)':<44} {naive:>12,.0f} events/s")
    print(f"{'ratio set-based / naive':<44} {ours / naive:>12.1f} x         (target >= 20)  "
          f"{'PASS' if ok_ratio else 'FAIL'}")
    return 0 if ok_rate and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
