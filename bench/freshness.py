"""Freshness benchmark: how long a pushed event waits before it is processed.

Run by bench/run.sh (`bench/run.sh freshness`) against a fresh database. For each
deployment mode (default: prefork, 2 HTTP workers, 1 cron worker; `--modes all`
adds prefork with 2 cron workers and threaded with 1 and 2), on an Odoo server it
starts itself:
  1. the processing rate: a backlog of events (the processing bench's mix, 10% from
     fans never seen before) stored at once, then drained by the server's own cron
     workers; rate = events / (last processed_at - first processed_at);
  2. signed generic pushes of 20 events, paced (open loop) at about 30% and about
     80% of that rate for --seconds (60) each;
  3. the lag of every paced event from received_at to processed_at: p50, p95, p99
     and max. Target: p95 < 2 s at both rates.
"""
import http.client
import json
import os
import subprocess
import sys
import time
import uuid

from pushes import post_events, run_senders, server_bench_parser, sql, wait_for_health

KINDS = ("comment", "like", "like", "gift", "fan.entered", "follow", "like", "share", "comment", "fan.left")
MODES = {
    "prefork-1cron": ("--workers=2", "--max-cron-threads=1"),
    "prefork-2cron": ("--workers=2", "--max-cron-threads=2"),
    "threaded-1cron": ("--workers=0", "--max-cron-threads=1"),
    "threaded-2cron": ("--workers=0", "--max-cron-threads=2"),
}


def make_event(run_id, n, known_fans=2000, room="fresh-room"):
    kind = KINDS[n % len(KINDS)]
    fan = f"new-{run_id}-{n}" if n % 10 == 0 else f"known-{n % known_fans}"
    data = {"content": f"这个多少钱 {n}"} if kind == "comment" else {"count": 2} if kind == "like" else \
        {"gift_id": "rose", "count": 1, "value": 100} if kind == "gift" else \
        {"watch_seconds": 120} if kind == "fan.left" else {}
    return {"id": f"{run_id}-{n}", "type": kind, "occurred_at": int(time.time()), "room_id": room,
            "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": fan, "nickname": fan}, "data": data}


class Server:
    def __init__(self, args):
        self.args = args
        self.proc = None

    def start(self, options):
        self.proc = subprocess.Popen([sys.executable, self.args.odoo_bin, "-c", self.args.config, "-d",
                                      self.args.database, f"--log-level={os.environ.get('LCC_BENCH_SERVER_LOG', 'warn')}",
                                      f"--logfile={self.args.logfile}",
                                      f"--gevent-port={self.args.port + 3}", *options])
        wait_for_health(self.args.port)
        time.sleep(3)  # the cron workers LISTEN once they have started

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(60)
            self.proc = None



def drain_rate(args, channel_id, cron_id, count):
    """Store `count` events at once (arming the processor), wake the cron workers,
    and time how fast they drain the inbox."""
    run_id = uuid.uuid4().hex[:8]
    events = [make_event(run_id, n) for n in range(count)]
    for start in range(0, count, 1000):
        chunk = events[start:start + 1000]
        sql(args.dsn, """SELECT * FROM live_event_store(%s, 'generic', %s, %s::varchar[], %s::varchar[],
                                                        %s::varchar[], %s::float8[], %s::text[], %s::varchar[],
                                                        %s::text[])""",
            (channel_id, cron_id, [e["id"] for e in chunk], [e["type"] for e in chunk],
             [e["room_id"] for e in chunk], [e["occurred_at"] for e in chunk],
             [json.dumps(e, ensure_ascii=False) for e in chunk], ["pending"] * len(chunk), [None] * len(chunk)))
    sql(args.dsn, "SELECT pg_notify('cron_trigger', %s)", [args.database], dbname="postgres")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        [(left,)] = sql(args.dsn, "SELECT count(*) FROM live_event WHERE message_id LIKE %s AND state = 'pending'",
                        [f"{run_id}-%"])
        if not left:
            break
        time.sleep(0.5)
    else:
        raise SystemExit("the backlog was not drained within 10 minutes")
    [(done, seconds)] = sql(args.dsn, """
        SELECT count(*), extract(epoch FROM max(processed_at) - min(processed_at))
          FROM live_event WHERE message_id LIKE %s AND state = 'done'""", [f"{run_id}-%"])
    assert done == count, (done, count)
    return count / float(seconds)


def paced_stream(args, events_per_second, seconds, batch=20, senders=4):
    """Open-loop signed pushes of `batch` events at `events_per_second`; returns the
    run id of the events sent."""
    run_id = uuid.uuid4().hex[:8]
    interval = batch * senders / events_per_second
    path = f"/live_commerce/webhook/{args.code}"
    failures = []
    start = time.perf_counter() + 0.5
    deadline = start + seconds

    def sender(k):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        n, next_at = 0, start + k * interval / senders
        while next_at < deadline:
            events = [make_event(run_id, (k * 10_000_000) + n * batch + i) for i in range(batch)]
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            status = post_events(conn, path, args.secret, events)
            if status != 200:
                failures.append(status)
            n += 1
            next_at += interval

    run_senders(sender, senders, failures)
    return run_id


def lags(args, run_id, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [(left,)] = sql(args.dsn, "SELECT count(*) FROM live_event WHERE message_id LIKE %s AND state <> 'done'",
                        [f"{run_id}-%"])
        if not left:
            break
        time.sleep(0.5)
    [row] = sql(args.dsn, """
        SELECT count(*) FILTER (WHERE state = 'done'), count(*) FILTER (WHERE state <> 'done'),
               percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (
                   ORDER BY extract(epoch FROM coalesce(processed_at, now() AT TIME ZONE 'UTC') - received_at)),
               max(extract(epoch FROM coalesce(processed_at, now() AT TIME ZONE 'UTC') - received_at)),
               extract(epoch FROM max(received_at) - min(received_at))
          FROM live_event WHERE message_id LIKE %s""", [f"{run_id}-%"])
    return row


def timeline(args, run_id, step=5):
    """Lag over the run, per `step` seconds of reception: where a slowdown was."""
    rows = sql(args.dsn, """
        SELECT floor(extract(epoch FROM received_at - min(received_at) OVER ()) / %s)::int AS slot,
               extract(epoch FROM processed_at - received_at) AS lag
          FROM live_event WHERE message_id LIKE %s AND processed_at IS NOT NULL""", [step, f"{run_id}-%"])
    slots = {}
    for slot, lag in rows:
        slots.setdefault(slot, []).append(float(lag))
    return "  ".join(f"{slot * step}s:{max(lags) * 1000:,.0f}" for slot, lags in sorted(slots.items()))


def main():
    parser = server_bench_parser()
    parser.add_argument("--backlog", type=int, default=40000)
    parser.add_argument("--modes", default="prefork-1cron", help="comma-separated, or 'all': " + ", ".join(MODES))
    args = parser.parse_args()
    args.code, args.secret = "bench-fresh", "bench-fresh-secret"
    modes = list(MODES) if args.modes == "all" else args.modes.split(",")
    [(channel_id,)] = sql(args.dsn, """
        INSERT INTO live_channel (name, code, platform, ship_mode, company_id, app_secret, active, sequence)
        VALUES ('bench-fresh', %s, 'generic', 'platform', 1, %s, true, 10)
        ON CONFLICT (code) DO UPDATE SET app_secret = EXCLUDED.app_secret RETURNING id""", [args.code, args.secret])
    [(cron_id,)] = sql(args.dsn, """
        SELECT c.id FROM ir_cron c JOIN ir_act_server a ON a.id = c.ir_actions_server_id
         WHERE c.active AND a.code = 'model._cron_process_events()' ORDER BY c.priority, c.id LIMIT 1""")
    server = Server(args)
    checks = []
    print(f"Freshness: lag from received_at to processed_at under paced pushes of 20 events, "
          f"{args.seconds} s per rate", flush=True)
    try:
        for mode in modes:
            server.start(MODES[mode])
            # Warm-up, unmeasured: 2,000 fans become known, the session exists.
            drain_rate(args, channel_id, cron_id, 4000)
            rate = drain_rate(args, channel_id, cron_id, args.backlog)
            print(f"{mode}: processing rate (backlog of {args.backlog:,} drained by the cron workers) "
                  f"{rate:,.0f} events/s", flush=True)
            for share in (0.3, 0.8):
                run_id = paced_stream(args, rate * share, args.seconds)
                done, left, (p50, p95, p99), worst, span = lags(args, run_id)
                ok = p95 < 2 and not left
                checks.append(ok)
                print(f"  paced at {share:.0%} ({rate * share:,.0f} events/s, {done + left:,} events over "
                      f"{span:.0f} s): lag p50 {p50 * 1000:,.0f} ms  p95 {p95 * 1000:,.0f} ms  "
                      f"p99 {p99 * 1000:,.0f} ms  max {worst * 1000:,.0f} ms  (target p95 < 2 s)  "
                      f"{'PASS' if ok else 'FAIL'}", flush=True)
                print(f"    max lag (ms) per 5 s of reception: {timeline(args, run_id)}", flush=True)
            server.stop()
    finally:
        server.stop()
    print("ALL PASS" if all(checks) else "SOME TARGETS MISSED")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
