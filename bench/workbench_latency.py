"""Push-to-tile latency: how long after a push the workbench's tile shows it.

Run by bench/run.sh (`bench/run.sh latency`) against a fresh database, on an Odoo
server it starts itself (prefork, 2 HTTP workers, 1 cron worker, the websocket on
the gevent port, as production):
  1. a host user and a live session of a generic channel, made over JSON-RPC by the
     administrator;
  2. a websocket client logged in as the host subscribes to the session's channel
     exactly as the workbench does (static/src/workbench/workbench.js:
     "live_commerce_crm.session_<id>", notifications "live_commerce_crm/session_updated")
     and, on each notification, reads `live.session.workbench_data` over JSON-RPC, at
     most once per 500 ms, leading and trailing (the workbench's throttle);
  3. the simulator-style pusher sends signed generic pushes of --batch events at
     --rate events/s (open loop) for --seconds: fans entering, comments and likes in
     the session's room, and in each push one session.stats whose PV is the push's
     number (1, 2, 3, ...), so the PV tile tells which pushes it reflects;
  4. latency of push n = when a read first showed PV >= n - when push n was sent:
     p50, p95 and max. Target: p95 < 2 s.
Baseline in the same run: push-to-processed, the inbox's received_at -> processed_at
of the same pushes' events (what the tile cannot beat), and the workbench_data read
time.
"""
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid

import requests
import websocket
from pushes import post_events, run_senders, server_bench_parser, sql, wait_for_health

BUS_NOTIFICATION = "live_commerce_crm/session_updated"
REFRESH_INTERVAL = 0.5  # the workbench's REFRESH_INTERVAL_MS



def percentile(values, share):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * share
    low, high = int(k), min(int(k) + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (k - low)


class Rpc:
    def __init__(self, url, database, login, password):
        self.url, self.http = url, requests.Session()
        response = self.http.post(f"{url}/web/session/authenticate", json={
            "jsonrpc": "2.0", "method": "call", "params": {"db": database, "login": login, "password": password}})
        response.raise_for_status()
        if response.json().get("error") or not response.json()["result"].get("uid"):
            raise SystemExit(f"could not log in as {login}: {response.text[:300]}")
        self.session_id = self.http.cookies["session_id"]

    def call(self, model, method, *args, **kwargs):
        response = self.http.post(f"{self.url}/web/dataset/call_kw/{model}/{method}", json={
            "jsonrpc": "2.0", "method": "call",
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs}}, timeout=60)
        body = response.json()
        if body.get("error"):
            raise RuntimeError(json.dumps(body["error"])[:1000])
        return body["result"]


class Workbench:
    """What the workbench does with the bus: subscribe, and on each notification of
    the session read workbench_data (throttled); record what the PV tile shows when."""

    def __init__(self, args, rpc, session_id):
        self.args, self.rpc, self.session_id = args, rpc, session_id
        self.shown = []       # (time the read returned, PV the tile shows)
        self.read_times = []  # seconds per workbench_data
        self.notifications = 0
        self.last_comment_id = 0
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.ready = threading.Event()
        self.errors = []

    def pv(self, data):
        [tile] = [tile for tile in data["tiles"] if tile["key"] == "pv"]
        return tile["value"]

    def read(self):
        started = time.perf_counter()
        data = self.rpc.call("live.session", "workbench_data", self.session_id, self.last_comment_id)
        done = time.perf_counter()
        self.read_times.append(done - started)
        if data["comments"]:
            self.last_comment_id = max(self.last_comment_id, max(c["id"] for c in data["comments"]))
        self.shown.append((done, self.pv(data)))

    def listen(self):
        port = self.args.port + 3
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{port}/websocket", header=[f"Cookie: session_id={self.rpc.session_id}"],
            origin=f"http://127.0.0.1:{port}", host=f"127.0.0.1:{port}", timeout=60)
        ws.settimeout(1)
        ws.send(json.dumps({"event_name": "subscribe", "data": {
            "channels": [f"live_commerce_crm.session_{self.session_id}"], "last": 0}}))
        self.ready.set()
        while not self.stop.is_set():
            try:
                message = ws.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except Exception as exc:  # noqa: BLE001 - reported, the bench fails
                self.errors.append(repr(exc))
                break
            for notification in json.loads(message) if message else []:
                body = notification.get("message", {})
                if body.get("type") == BUS_NOTIFICATION and body.get("payload", {}).get("session_id") == self.session_id:
                    self.notifications += 1
                    self.wake.set()
        ws.close()

    def refresh_loop(self):
        """Leading and trailing, at most once per REFRESH_INTERVAL (web's throttle)."""
        last = 0.0
        while not self.stop.is_set():
            if not self.wake.wait(0.2):
                continue
            wait = last + REFRESH_INTERVAL - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            self.wake.clear()
            last = time.perf_counter()
            try:
                self.read()
            except Exception as exc:  # noqa: BLE001
                self.errors.append(repr(exc))


def push_stream(args, room, run_id, sent):
    """Open-loop signed generic pushes; sent[n] = when push n (1-based) left."""
    pushes = int(args.seconds * args.rate / args.batch)
    interval = args.batch / args.rate
    path = f"/live_commerce/webhook/{args.code}"
    lock, counter, failures = threading.Lock(), [0], []
    start = time.perf_counter() + 0.2
    senders = 4

    def sender(k):
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        i = k
        while i < pushes:
            next_at = start + i * interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with lock:  # PV markers follow the order pushes leave in
                counter[0] += 1
                n = counter[0]
                sent[n] = time.perf_counter()
            now = int(time.time())
            events = []
            for j in range(args.batch - 1):
                m = n * args.batch + j
                kind = ("comment", "like", "like", "fan.entered")[m % 4]
                fan = f"lat-{run_id}-{m % 3000}"
                data = {"content": f"这个多少钱 {m}"} if kind == "comment" else {"count": 3} if kind == "like" else {}
                events.append({"id": f"{run_id}-{m}", "type": kind, "occurred_at": now, "room_id": room,
                               "fan": {"platform": "douyin_live", "id_type": "open_id", "id": fan, "nickname": fan},
                               "data": data})
            events.append({"id": f"{run_id}-stats-{n}", "type": "session.stats", "occurred_at": now,
                           "room_id": room, "data": {"pv": n}})
            status = post_events(conn, path, args.secret, events)
            if status != 200:
                failures.append(status)
            i += senders

    run_senders(sender, senders, failures)
    return pushes


def main():
    parser = server_bench_parser()
    parser.add_argument("--admin-password", default=os.environ.get("LCC_BENCH_ADMIN_PASSWORD", "admin"))
    parser.add_argument("--rate", type=float, default=1000, help="events per second")
    parser.add_argument("--batch", type=int, default=50, help="events per push")
    parser.add_argument("--catch-up", type=float, default=60, help="seconds the tile may take after the last push")
    args = parser.parse_args()
    args.code, args.secret = "bench-latency", "bench-latency-secret"
    url = f"http://127.0.0.1:{args.port}"
    run_id = uuid.uuid4().hex[:8]
    room = f"latency-{run_id}"
    [(channel_id,)] = sql(args.dsn, """
        INSERT INTO live_channel (name, code, platform, ship_mode, company_id, app_secret, active, sequence)
        VALUES ('bench-latency', %s, 'generic', 'platform', 1, %s, true, 10)
        ON CONFLICT (code) DO UPDATE SET app_secret = EXCLUDED.app_secret RETURNING id""", [args.code, args.secret])
    server = subprocess.Popen([sys.executable, args.odoo_bin, "-c", args.config, "-d", args.database,
                               "--workers=2", "--max-cron-threads=1", f"--gevent-port={args.port + 3}",
                               f"--log-level={os.environ.get('LCC_BENCH_SERVER_LOG', 'warn')}",
                               f"--logfile={args.logfile}"])
    try:
        wait_for_health(args.port)
        time.sleep(3)  # the cron workers LISTEN once they have started
        admin = Rpc(url, args.database, "admin", args.admin_password)
        host_group = admin.call("ir.model.data", "check_object_reference", "live_commerce_crm", "group_live_host")[1]
        login = f"bench-host-{run_id}"
        host_id = admin.call("res.users", "create", {"name": "Bench Host", "login": login, "password": login,
                                                     "groups_id": [(4, host_group)]})
        session_id = admin.call("live.session", "create", {
            "name": f"Latency {run_id}", "channel_id": channel_id, "room_id": room, "host_id": host_id,
            "state": "live", "date_scheduled_start": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "date_start": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())})
        host = Rpc(url, args.database, login, login)
        bench = Workbench(args, host, session_id)
        threads = [threading.Thread(target=bench.listen, daemon=True),
                   threading.Thread(target=bench.refresh_loop, daemon=True)]
        for thread in threads:
            thread.start()
        bench.ready.wait(30)
        bench.read()  # the screen opens: its first read
        time.sleep(1)
        print(f"Push-to-tile latency: {args.rate:,.0f} events/s in signed pushes of {args.batch} for "
              f"{args.seconds} s to a live session; a websocket client logged in as its host reads "
              f"workbench_data on each notification (at most every {REFRESH_INTERVAL * 1000:.0f} ms)", flush=True)
        sent = {}
        t0 = time.perf_counter()
        pushes = push_stream(args, room, run_id, sent)
        pushed_for = time.perf_counter() - t0
        deadline = time.perf_counter() + args.catch_up
        while time.perf_counter() < deadline and (not bench.shown or bench.shown[-1][1] < pushes):
            time.sleep(0.2)
        bench.stop.set()
        latencies, missing = [], 0
        for n in range(1, pushes + 1):
            seen = next((when for when, pv in bench.shown if pv >= n and when >= sent[n]), None)
            if seen is None:
                missing += 1
            else:
                latencies.append(seen - sent[n])
        [(p50, p95, worst, done)] = sql(args.dsn, """
            SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)),
                   percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)),
                   max(extract(epoch FROM processed_at - received_at)), count(*)
              FROM live_event WHERE message_id LIKE %s AND state = 'done'""", [f"{run_id}-%"])
        p50, p95, worst = (float("nan") if value is None else value for value in (p50, p95, worst))
        print(f"  sent {pushes:,} pushes ({pushes * args.batch:,} events) in {pushed_for:.1f} s "
              f"({pushes * args.batch / pushed_for:,.0f} events/s); {done:,} events processed; "
              f"{bench.notifications:,} notifications, {len(bench.read_times):,} reads", flush=True)
        print(f"  baseline, push-to-processed (inbox received_at -> processed_at): p50 {p50 * 1000:,.0f} ms  "
              f"p95 {p95 * 1000:,.0f} ms  max {worst * 1000:,.0f} ms", flush=True)
        print(f"  baseline, one workbench_data read: p50 {percentile(bench.read_times, 0.5) * 1000:,.0f} ms  "
              f"p95 {percentile(bench.read_times, 0.95) * 1000:,.0f} ms", flush=True)
        ok = not missing and not bench.errors and latencies and percentile(latencies, 0.95) < 2
        print(f"  push-to-tile: p50 {percentile(latencies, 0.5) * 1000:,.0f} ms  "
              f"p95 {percentile(latencies, 0.95) * 1000:,.0f} ms  max {max(latencies or [0]) * 1000:,.0f} ms  "
              f"({missing} pushes never shown; target p95 < 2 s)  {'PASS' if ok else 'FAIL'}", flush=True)
        if bench.errors:
            print("  errors: " + "; ".join(bench.errors[:5]), flush=True)
        return 0 if ok else 1
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    sys.exit(main())
