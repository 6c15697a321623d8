"""Reliability of the webhook pipeline with real processes, not one test transaction.

On the private server (tests/private_server.py): PostgreSQL is restarted under
load, processors run as separate processes on the same inbox, one is killed in the
middle of a batch.
"""
import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .private_server import shared_private_odoo


@pytest.fixture(scope="module")
def private_odoo(request):
    return shared_private_odoo(request.config)


def _likes(prefix, count, fans=50, room="rel-room"):
    return [{"id": f"{prefix}-{n}", "type": "like", "occurred_at": int(time.time()), "room_id": room,
             "fan": {"platform": "douyin_shop", "id_type": "open_id", "id": f"{prefix}-fan-{n % fans}"},
             "data": {"count": 1}} for n in range(count)]


def _assert_all_done(odoo_, prefix, count):
    rows = odoo_.sql("""SELECT state, error, count(*) FROM live_event WHERE message_id LIKE %s
                        GROUP BY state, error""", [f"{prefix}-%"])
    assert [(state, n) for state, _error, n in rows] == [("done", count)], rows


def _like_total(odoo_, prefix):
    return odoo_.sql("""
        SELECT coalesce(sum(s.like_count), 0) FROM live_fan_stats s
          JOIN live_fan_identity i ON i.partner_id = s.partner_id
         WHERE i.value LIKE %s""", [f"{prefix}-fan-%"])[0][0]


def test_pushes_during_a_postgresql_restart_are_stored_or_refused_with_5xx(private_odoo):
    odoo_ = private_odoo
    outcomes, stop = [], threading.Event()

    def pusher():
        n = 0
        while not stop.is_set():
            event_id = f"restart-{n}"
            try:
                status = odoo_.push([{"id": event_id, "type": "share", "room_id": "r",
                                      "fan": {"id": "restart-fan", "id_type": "open_id"}}], timeout=5).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__
            outcomes.append((event_id, status, time.monotonic()))
            n += 1

    thread = threading.Thread(target=pusher)
    thread.start()
    time.sleep(1.5)
    restarted_at = time.monotonic()
    odoo_.pg_ctl("restart", "-m", "fast")
    back_at = time.monotonic()
    time.sleep(3)
    stop.set()
    thread.join()

    statuses = [status for _id, status, _t in outcomes]
    unexpected = [s for s in statuses if not (s == 200 or (isinstance(s, int) and 500 <= s < 600))]
    assert not unexpected, f"answers other than 200 or 5xx: {set(unexpected)}"
    assert any(isinstance(s, int) and s >= 500 for s in statuses), \
        "no push was refused: the restart did not overlap the pushes"
    assert any(s == 200 and t > back_at for _id, s, t in outcomes), "pushes did not recover after the restart"
    assert any(s == 200 and t < restarted_at for _id, s, t in outcomes)
    acknowledged = {event_id for event_id, status, _t in outcomes if status == 200}
    stored = {row[0] for row in odoo_.sql("SELECT message_id FROM live_event WHERE message_id LIKE 'restart-%'")}
    assert acknowledged <= stored, f"acknowledged but lost: {sorted(acknowledged - stored)[:10]}"


def test_two_processors_never_apply_an_event_twice(private_odoo):
    odoo_ = private_odoo
    prefix = f"two-{uuid.uuid4().hex[:6]}"
    events = _likes(prefix, 4000)
    for start in range(0, len(events), 500):
        assert odoo_.push(events[start:start + 500]).json() == {"accepted": 500, "duplicates": 0}
    processors = [odoo_.processor(batch=50) for _ in range(2)]
    outputs = [p.communicate(timeout=600) for p in processors]
    claimed = []
    for (stdout, stderr), proc in zip(outputs, processors):
        assert proc.returncode == 0, stderr[-2000:]
        claimed.append(int(stdout.split("DONE")[1]))
    assert sum(claimed) >= 4000  # and whatever earlier tests left pending
    assert all(claimed), f"both processors took part: {claimed}"
    _assert_all_done(odoo_, prefix, 4000)
    assert _like_total(odoo_, prefix) == 4000, "every like counted exactly once"
    assert odoo_.sql("""SELECT count(*) FROM (SELECT value FROM live_fan_identity WHERE value LIKE %s
                        GROUP BY value HAVING count(*) > 1) d""", [f"{prefix}-fan-%"])[0][0] == 0


def test_processor_killed_mid_batch_loses_nothing(private_odoo):
    odoo_ = private_odoo
    prefix = f"kill-{uuid.uuid4().hex[:6]}"
    assert odoo_.push(_likes(prefix, 300)).json() == {"accepted": 300, "duplicates": 0}
    victim = odoo_.processor(batch=300, stall_after_claim=True)
    line = victim.stdout.readline()
    assert line.startswith("CLAIMED 300"), line + victim.stderr.read()[-2000:]
    # The batch is locked by the victim: another processor cannot take it.
    blocked = odoo_.processor(batch=300)
    assert "DONE 0" in blocked.communicate(timeout=300)[0]
    victim.send_signal(signal.SIGKILL)
    victim.wait(30)
    survivor = odoo_.processor(batch=300)
    stdout, stderr = survivor.communicate(timeout=300)
    assert "DONE 300" in stdout, stderr[-2000:]
    _assert_all_done(odoo_, prefix, 300)
    assert _like_total(odoo_, prefix) == 300


def test_a_flood_of_bad_signatures_is_counted_exactly_without_retries(private_odoo):
    """Refused pushes are counted outside the request's transaction: no
    serialization failure, no retried request, no error in the log."""
    odoo_ = private_odoo
    sequence = f"live_channel_rejected_{odoo_.channel_id}"  # made on the first rejection: the channel came by SQL
    before = sum(value or 0 for (value,) in odoo_.sql(
        "SELECT last_value FROM pg_sequences WHERE sequencename = %s", [sequence]))
    body = b'{"events": []}'
    log_path = f"{odoo_.workdir}/server.log"
    log_start = os.path.getsize(log_path)

    def bad_push(_n):
        return requests.post(f"{odoo_.url}/live_commerce/webhook/rel", data=body, timeout=30, headers={
            "X-Live-Timestamp": str(int(time.time())), "X-Live-Signature": "sha256=" + "2" * 64}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(bad_push, range(300)))
    assert statuses == [401] * 300
    [(after,)] = odoo_.sql("SELECT last_value FROM pg_sequences WHERE sequencename = %s", [sequence])
    assert after - before == 300
    with open(log_path) as log:
        log.seek(log_start)
        text = log.read()
    assert "SerializationFailure" not in text and "could not serialize" not in text
    assert " ERROR " not in text, text[-3000:]


def test_pushes_while_the_database_is_down_get_a_503_with_retry_after(private_odoo):
    odoo_ = private_odoo
    odoo_.pg_ctl("stop", "-m", "fast")
    try:
        answer = odoo_.push([{"id": "down-1", "type": "share", "room_id": "r",
                              "fan": {"id": "down-fan", "id_type": "open_id"}}])
        assert answer.status_code == 503, answer.text[:500]
        assert answer.headers.get("Retry-After")
    finally:
        odoo_.pg_ctl("start")
    for _ in range(40):
        answer = odoo_.push([{"id": "down-1", "type": "share", "room_id": "r",
                              "fan": {"id": "down-fan", "id_type": "open_id"}}])
        if answer.status_code == 200:
            break
        time.sleep(0.5)
    assert answer.json() == {"accepted": 1, "duplicates": 0}, "the refused push is accepted once redelivered"
