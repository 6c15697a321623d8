"""Freshness: how long a pushed event waits before it is processed, through a real
server with its cron workers, under a steady stream (tests/private_server.py).

A stream lasting far longer than the cron framework's ten calls per run must not
leave events waiting for the cron's one-minute interval: every event is processed
well within it, in prefork and threaded mode, with one cron worker and with two. An
idle server stays idle.

How fast (p95 under 2 s) is measured by bench/freshness.py, not here: a loaded
machine makes any speed threshold flaky. The bound below is half of the interval an
event left behind would wait for, so it fails on that bug and on nothing else.
"""
import os
import time
import uuid

import pytest

from .private_server import shared_private_odoo

STREAM_SECONDS = 20
CRON_INTERVAL_SECONDS = 60
PUSHES_PER_SECOND = 20
EVENTS_PER_PUSH = 10


@pytest.fixture(scope="module")
def private_odoo(request):
    server = shared_private_odoo(request.config)
    yield server
    server.sql("DELETE FROM ir_config_parameter WHERE key LIKE 'live_commerce_crm.processor_%'")
    server.restart_server()  # back to the default: threaded, no cron worker


def _events(prefix, start, count):
    kinds = ("comment", "like", "fan.entered", "like", "gift")
    return [{"id": f"{prefix}-{n}", "type": kinds[n % len(kinds)], "occurred_at": int(time.time()),
             "room_id": f"{prefix}-room",
             "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": f"{prefix}-fan-{n % 300}",
                     "nickname": f"fan {n % 300}"},
             "data": {"content": "多少钱"} if n % len(kinds) == 0 else {"count": 1}}
            for n in range(start, start + count)]


def _wait_processed(server, prefix, expected, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        [(done,)] = server.sql("SELECT count(*) FROM live_event WHERE message_id LIKE %s AND state = 'done'",
                               [f"{prefix}-%"])
        if done >= expected:
            return True
        time.sleep(0.5)
    return False


def _stream(server, prefix, seconds, rate, size):
    """Pushes of `size` events at `rate` per second for `seconds`; returns the number
    of events accepted."""
    accepted, interval = [], 1.0 / rate
    start = time.monotonic()
    for n in range(int(seconds * rate)):
        delay = start + n * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        answer = server.push(_events(prefix, n * size, size))
        assert answer.status_code == 200, answer.text
        accepted.append(answer.json()["accepted"])
    return sum(accepted)


def _lags(server, prefix):
    [row] = server.sql("""
        SELECT count(*) FILTER (WHERE state = 'done'),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)),
               percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM processed_at - received_at)),
               max(extract(epoch FROM processed_at - received_at))
          FROM live_event WHERE message_id LIKE %s""", [f"{prefix}-%"])
    return row


@pytest.mark.parametrize("mode, options, call_seconds", [
    # Calls cut short (0.2 s, batches of 50) so that one run needs far more than the
    # cron framework's ten calls: the "partially done" path is taken again and again.
    ("prefork, one cron worker, short calls", ("--workers=2", "--max-cron-threads=1"), "0.2"),
    ("prefork, two cron workers", ("--workers=2", "--max-cron-threads=2"), None),
    ("threaded, one cron worker", ("--workers=0", "--max-cron-threads=1"), None),
    ("threaded, two cron workers", ("--workers=0", "--max-cron-threads=2"), None),
])
def test_a_steady_stream_is_never_left_for_the_cron_interval(private_odoo, mode, options, call_seconds):
    server = private_odoo
    server.sql("DELETE FROM ir_config_parameter WHERE key LIKE 'live_commerce_crm.processor_%'")
    if call_seconds:
        server.sql("""INSERT INTO ir_config_parameter (key, value) VALUES
                      ('live_commerce_crm.processor_call_seconds', %s),
                      ('live_commerce_crm.processor_batch_size', '50')""", [call_seconds])
    server.restart_server(*options)
    prefix, warm = f"fresh-{uuid.uuid4().hex[:6]}", f"warm-{uuid.uuid4().hex[:6]}"
    # The cron workers LISTEN once they have started: the first push may come before.
    assert server.push(_events(warm, 0, 1)).status_code == 200
    assert _wait_processed(server, warm, 1, timeout=90), "the processor never ran"

    log_path = f"{server.workdir}/server.log"
    log_start = os.path.getsize(log_path)
    accepted = _stream(server, prefix, STREAM_SECONDS, PUSHES_PER_SECOND, EVENTS_PER_PUSH)
    assert accepted == STREAM_SECONDS * PUSHES_PER_SECOND * EVENTS_PER_PUSH
    assert _wait_processed(server, prefix, accepted, timeout=30), \
        f"{mode}: events still pending 30 s after the stream ended: {_lags(server, prefix)}"
    done, p50, p95, worst = _lags(server, prefix)
    assert done == accepted
    print(f"\n{mode}: {done} events, lag p50 {p50:.3f} s, p95 {p95:.3f} s, max {worst:.3f} s")
    assert worst < CRON_INTERVAL_SECONDS / 2, f"{mode}: lag p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s"
    with open(log_path) as log:
        log.seek(log_start)
        errors = [line for line in log if " ERROR " in line or " WARNING " in line]
    assert not errors, f"{mode}: the cron framework complained: {errors[:5]}"


def test_an_idle_server_stays_idle(private_odoo):
    """No polling between pushes: once the inbox is empty, the processor jobs are
    disarmed and run again only on a push or their one-minute interval."""
    server = private_odoo
    server.restart_server("--workers=2", "--max-cron-threads=2")
    prefix = f"idle-{uuid.uuid4().hex[:6]}"
    assert server.push(_events(prefix, 0, 5)).status_code == 200
    assert _wait_processed(server, prefix, 5, timeout=90)
    time.sleep(2)  # the run ends, the workers go back to sleep
    processors = """SELECT c.id FROM ir_cron c JOIN ir_act_server a ON a.id = c.ir_actions_server_id
                     WHERE a.code = 'model._cron_process_events()'"""
    assert server.sql(f"""SELECT count(*) FROM ir_cron_trigger
                           WHERE cron_id IN ({processors}) AND call_at <= now() AT TIME ZONE 'UTC'""") == [(0,)], \
        "a processor is still armed with nothing to do"
    [(calls_before,)] = server.sql(f"SELECT count(*) FROM ir_cron_progress WHERE cron_id IN ({processors})")
    time.sleep(20)
    [(calls_after,)] = server.sql(f"SELECT count(*) FROM ir_cron_progress WHERE cron_id IN ({processors})")
    # At most each job's own interval (one minute) in 20 s.
    assert calls_after - calls_before <= 2, f"{calls_after - calls_before} processor calls in 20 s of idleness"
