"""Webhook ingestion benchmark: ratios against baselines measured in the same run.

Run by bench/run.sh against a running Odoo server (prefork, 2 workers, no cron).
Prints, for the same server and the same run:
  * the empty Odoo route rate: the ceiling of any route. It is measured on an empty
    route with the webhook's routing options (POST, auth none, no CSRF, no session,
    read/write transaction; bench/addons/live_commerce_bench) receiving the same
    signed bodies; Odoo's own GET /web/health is printed beside it for reference;
  * the empty route plus one prepared `SELECT 1` on the webhook's kind of
    connection: the ceiling of any route that stores before it answers;
  * single-event pushes: rate and ratio to that ceiling (target >= 0.90);
  * 100- and 500-event batches: events/s and ratio to the raw PostgreSQL batched
    insert of the same events at the same batch size (target >= 0.70), the raw
    rate printed beside; 100-event batches also against 5,000 events/s;
  * ack latency p50/p99 at half of the single-push peak rate (target p99 < 100 ms).
"""
import argparse
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import http.client
import uuid

import psycopg2
from pushes import run_senders, sign

HERE = os.path.dirname(os.path.abspath(__file__))
EVENT_TYPES = ("comment", "like", "like", "like", "gift", "fan.entered", "follow", "share")


def make_event(run_id, n, room):
    kind = EVENT_TYPES[n % len(EVENT_TYPES)]
    data = {"content": f"多少钱 {n}"} if kind == "comment" else {"count": 3} if kind == "like" else \
        {"gift_id": "rose", "count": 1, "value": 100} if kind == "gift" else {}
    return {"id": f"{run_id}-{n}", "type": kind, "occurred_at": int(time.time()), "room_id": room,
            "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": f"bench-fan-{n % 5000}",
                    "nickname": f"粉丝{n % 5000}"}, "data": data}


def write_requests(path, secret, batch, count, threads):
    """`count` signed requests of `batch` events per wrk thread, ids unique across all."""
    run_id = uuid.uuid4().hex[:10]
    n = 0
    for t in range(threads):
        with open(f"{path}.{t}", "w") as out:
            for _ in range(count):
                events = [make_event(run_id, n + i, "bench-room") for i in range(batch)]
                n += batch
                body = json.dumps({"events": events}, ensure_ascii=False, separators=(",", ":")).encode()
                ts, sig = sign(secret, body)
                out.write(f"{ts} {sig}\n{body.decode()}\n")


def wrk(url, seconds, connections, threads=2, script=None, args=()):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    cmd += [url, *(["--"] + list(args) if args else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} non-2xx answers:\n{out}")
    return rate


def raw_insert_worker(dsn, channel_id, batches, batch, queue):
    """The physical reference: the same rows, same table, same statement shape."""
    cnx = psycopg2.connect(dsn)
    cr = cnx.cursor()
    run_id = uuid.uuid4().hex[:10]
    # Built before the clock starts: the reference is PostgreSQL's cost alone.
    prepared = [[make_event(run_id, b * batch + i, "raw-room") for i in range(batch)] for b in range(batches)]
    prepared = [([e["id"] for e in events], [e["type"] for e in events], [e["room_id"] for e in events],
                 [e["occurred_at"] for e in events], [json.dumps(e, ensure_ascii=False) for e in events])
                for events in prepared]
    start = time.perf_counter()
    for ids, types, rooms, occurred, payloads in prepared:
        cr.execute("""
            INSERT INTO live_event (channel_id, platform, message_id, event_type, room_id, occurred_at, payload, state,
                                    error, received_at, attempts, create_date, write_date)
            SELECT %s, 'generic', u.m, u.t, u.r, to_timestamp(u.o) AT TIME ZONE 'UTC', u.p::jsonb, 'pending', NULL,
                   now() AT TIME ZONE 'UTC', 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
              FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::float8[], %s::text[]) AS u(m, t, r, o, p)
            ON CONFLICT (channel_id, message_id) DO NOTHING
        """, (channel_id, ids, types, rooms, occurred, payloads))
        cnx.commit()
    queue.put((batches * batch, time.perf_counter() - start))
    cnx.close()


def raw_insert_rate(dsn, channel_id, batch, batches, processes=2):
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=raw_insert_worker, args=(dsn, channel_id, batches, batch, queue))
               for _ in range(processes)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    results = [queue.get() for _ in workers]
    for w in workers:
        w.join()
    return sum(n for n, _ in results) / (time.perf_counter() - start)


def latency_run(host, port, path, secret, rate, seconds, connections=8):
    """Open-loop pushes at a fixed rate; returns the sorted ack latencies in ms."""
    run_id = uuid.uuid4().hex[:10]
    interval = connections / rate
    latencies, failures = [], []
    deadline = time.perf_counter() + seconds

    def worker(k):
        conn = http.client.HTTPConnection(host, port, timeout=10)
        n, next_at = 0, time.perf_counter() + random.random() * interval
        while next_at < deadline:
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps({"events": [make_event(run_id, k * 10_000_000 + n, "lat-room")]}).encode()
            ts, sig = sign(secret, body)
            t0 = time.perf_counter()
            conn.request("POST", path, body, {"Content-Type": "application/json", "X-Live-Timestamp": ts,
                                               "X-Live-Signature": sig})
            response = conn.getresponse()
            response.read()
            # latency counted from the scheduled send time: queueing delay included
            latencies.append((time.perf_counter() - min(t0, next_at)) * 1000)
            if response.status != 200:
                failures.append(response.status)
            n += 1
            next_at += interval

    run_senders(worker, connections, failures)
    return sorted(latencies)


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * p / 100))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--code", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--channel-id", type=int, required=True)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    path = f"/live_commerce/webhook/{args.code}"
    host, port = args.url.split("//")[1].split(":")
    tmp = tempfile.mkdtemp(prefix="lcc-bench-")
    script = os.path.join(HERE, "replay.lua")
    results, checks = [], []

    def report(name, value, unit, ratio=None, target=None):
        line = f"{name:<44} {value:>12,.0f} {unit:<9}"
        if ratio is not None:
            ok = ratio >= target
            line += f"  ratio {ratio:6.2f}  (target >= {target:.2f})  {'PASS' if ok else 'FAIL'}"
            checks.append(ok)
        results.append(line)
        print(line, flush=True)

    print(f"Webhook ingestion: {args.rounds} alternating rounds of {args.seconds}s per measurement (medians), "
          f"{args.connections} connections, server {args.url}")
    health = wrk(f"{args.url}/web/health", args.seconds, args.connections)
    report("reference: Odoo's GET /web/health", health, "req/s")
    empty_path = f"/live_commerce_bench/empty/{args.code}"
    round_trip_path = f"/live_commerce_bench/round_trip/{args.code}"
    counter = iter(range(10_000))

    def measure(path, batch, expected_rate):
        name = f"{tmp}/r{next(counter)}"
        write_requests(name, args.secret, batch, int(expected_rate * args.seconds * 1.5 / 2) + 100, 2)
        return wrk(f"{args.url}{path}", args.seconds, args.connections, script=script, args=[path, name])

    def alternated(batch, *paths):
        """Medians of the routes' rates, measured in turn so drifts of the machine hit
        all of them; the first route is the baseline."""
        rates = [[] for _ in paths]
        for _ in range(args.rounds):
            for measured, route in zip(rates, paths):
                measured.append(measure(route, batch, health))
        # The spread shows how much of a difference between runs is the machine's.
        for measured, route in zip(rates[1:], paths[1:]):
            print(f"  rounds ({batch}-event bodies), {route.split('/')[2]} / {paths[0].split('/')[2]}: "
                  + ", ".join(f"{o:,.0f} / {e:,.0f} = {o / e:.2f}" for e, o in zip(rates[0], measured)), flush=True)
        return [statistics.median(measured) for measured in rates]

    # Unmeasured warm-up of every route: worker caches, the webhook's connections
    # and their prepared statements, PostgreSQL's buffers.
    for warm_path in (empty_path, round_trip_path, path):
        name = f"{tmp}/warm{next(counter)}"
        write_requests(name, args.secret, 1, 3000, 2)
        wrk(f"{args.url}{warm_path}", 3, args.connections, script=script, args=[warm_path, name])
    empty, round_trip, single = alternated(1, empty_path, round_trip_path, path)
    report("empty Odoo route (same routing, same bodies)", empty, "req/s")
    report("reference: empty route + one DB round trip", round_trip, "req/s")
    print(f"  the round trip alone costs {1 - round_trip / empty:.0%} of the empty route's rate", flush=True)
    report("single-event pushes", single, "req/s", single / round_trip, 0.90)
    print(f"  (single-event pushes / empty route: {single / empty:.2f})", flush=True)

    # Batches against PostgreSQL alone storing the same rows at the same batch
    # size, measured in turn with the pushes (a round each), medians of the rounds.
    for batch, raw_batches in ((100, 300), (500, 60)):
        raws, pushes = [], []
        for _ in range(args.rounds):
            raws.append(raw_insert_rate(args.dsn, args.channel_id, batch, raw_batches))
            pushes.append(measure(path, batch, raws[-1] / batch / 2) * batch)
        print(f"  rounds ({batch}-event bodies), pushes / raw PostgreSQL: "
              + ", ".join(f"{p:,.0f} / {r:,.0f} = {p / r:.2f}" for p, r in zip(pushes, raws)), flush=True)
        raw, pushed = statistics.median(raws), statistics.median(pushes)
        report(f"raw PostgreSQL batched insert ({batch} rows)", raw, "events/s")
        report(f"{batch}-event batches", pushed, "events/s", pushed / raw, 0.70)
        if batch == 100:
            report("100-event batches vs 5,000 events/s", pushed, "events/s", pushed / 5000, 1.0)

    latencies = latency_run(host, int(port), path, args.secret, single / 2, args.seconds)
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    line = (f"{'ack latency at half peak (' + format(single / 2, ',.0f') + ' req/s)':<44} p50 {p50:6.1f} ms"
            f"  p99 {p99:6.1f} ms  (target p99 < 100 ms)  {'PASS' if p99 < 100 else 'FAIL'}")
    checks.append(p99 < 100)
    print(line, flush=True)
    print("ALL PASS" if all(checks) else "SOME TARGETS MISSED")
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
