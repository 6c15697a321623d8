"""What the benchmarks that talk to a running server share: their options,
generic-format pushes signed as the webhook checks them, waiting for the server to
answer, and one-off SQL beside it."""
import argparse
import hashlib
import hmac
import http.client
import json
import threading
import time

import psycopg2


def sign(secret, body):
    """(timestamp, signature) of `body` for the generic webhook format."""
    ts = str(int(time.time()))
    return ts, "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()


def post_events(conn, path, secret, events):
    """POST `events` signed on `conn` (an http.client connection); the status."""
    body = json.dumps({"events": events}, ensure_ascii=False, separators=(",", ":")).encode()
    ts, sig = sign(secret, body)
    conn.request("POST", path, body, {"Content-Type": "application/json", "X-Live-Timestamp": ts,
                                       "X-Live-Signature": sig})
    response = conn.getresponse()
    response.read()
    return response.status


def wait_for_health(port, tries=240):
    """Until Odoo on 127.0.0.1:`port` answers /web/health; SystemExit if it never does."""
    for _ in range(tries):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/web/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the Odoo server did not start")


def run_senders(sender, count, failures):
    """sender(0) … sender(count - 1) in threads until all are done; SystemExit
    if any push was refused (`failures`, the statuses the senders collected)."""
    threads = [threading.Thread(target=sender, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} pushes failed: {set(failures)}")


def server_bench_parser():
    """The options bench/run.sh gives the benchmarks that start their own server."""
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--logfile", required=True)
    parser.add_argument("--seconds", type=int, default=60)
    return parser


def sql(dsn, query, params=None, dbname=None):
    """Run one statement on its own autocommitted connection; its rows, if any."""
    cnx = psycopg2.connect(dsn if not dbname else dsn.rsplit("dbname=", 1)[0] + f"dbname={dbname}")
    cnx.autocommit = True
    try:
        with cnx.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None
    finally:
        cnx.close()
