"""Reliability of the webhook pipeline with real processes, not one test transaction.

An Odoo server and its own PostgreSQL cluster run beside the suite (fixture
`private_odoo`): PostgreSQL is restarted under load, processors run as separate
processes on the same inbox, one is killed in the middle of a batch. Run by
`make test` (pytest-odoo); not part of Odoo's own test loader.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from contextlib import closing

import psycopg2
import pytest
import requests

from odoo.addons.live_commerce_crm.models.platforms import Credentials, get_adapter

SECRET = "reliability-secret"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env(name):
    value = os.environ.get(name)
    assert value, f"{name} is not set: run the suite with `make test`"
    return value


def _free_port():
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateOdoo:
    """A PostgreSQL cluster, a database with the addon and an Odoo server on it."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.pg_bin = _env("LCC_PG_BIN")
        self.pg_port, self.http_port = _free_port(), _free_port()
        self.pgdata = os.path.join(workdir, "pgdata")
        self.db = "lcc_reliability"
        self.dsn = f"host=127.0.0.1 port={self.pg_port} user=odoo dbname={self.db}"
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.conf = os.path.join(workdir, "odoo.conf")
        self.server = None

    def _as_owner(self, *cmd, **kwargs):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run(prefix + list(cmd), check=True, capture_output=True, text=True, **kwargs)

    def start_cluster(self):
        os.makedirs(self.pgdata)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.pgdata, "postgres")
        self._as_owner(f"{self.pg_bin}/initdb", "-D", self.pgdata, "-U", "postgres", "--auth=trust",
                       "--encoding=UTF8", "--locale=C.UTF-8")
        with open(os.path.join(self.pgdata, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.pg_port}\nunix_socket_directories = ''\n"
                       "fsync = off\nmax_connections = 100\n")
        self.pg_ctl("start")
        with closing(psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname="postgres")) as cnx:
            cnx.autocommit = True
            cnx.cursor().execute("CREATE ROLE odoo LOGIN SUPERUSER")

    def pg_ctl(self, action, *extra):
        self._as_owner(f"{self.pg_bin}/pg_ctl", "-D", self.pgdata, "-l", os.path.join(self.pgdata, "log"),
                       "-w", "-t", "60", *extra, action)

    def write_conf(self):
        import odoo.tools
        with open(self.conf, "w") as conf:
            conf.write(f"[options]\naddons_path = {odoo.tools.config['addons_path']}\n"
                       f"data_dir = {self.workdir}/data\ndb_host = 127.0.0.1\ndb_port = {self.pg_port}\n"
                       f"db_user = odoo\ndb_name = {self.db}\nhttp_port = {self.http_port}\n"
                       f"server_wide_modules = base,web,live_commerce_crm\nmax_cron_threads = 0\n"
                       f"gevent_port = {_free_port()}\n")

    def odoo(self, *args, **kwargs):
        return subprocess.run([_env("LCC_PYTHON"), _env("LCC_ODOO_BIN"), "-c", self.conf, *args],
                              capture_output=True, text=True, **kwargs)

    def install(self):
        result = self.odoo("-i", "live_commerce_crm", "--without-demo=all", "--stop-after-init",
                           "--log-level=warn", timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        self.sql("""INSERT INTO live_channel (name, code, platform, company_id, app_secret, active, sequence)
                    VALUES ('Reliability', 'rel', 'generic', 1, %s, true, 1)""", [SECRET])
        self.channel_id = self.sql("SELECT id FROM live_channel WHERE code = 'rel'")[0][0]

    def start_server(self):
        self.server = subprocess.Popen(
            [_env("LCC_PYTHON"), _env("LCC_ODOO_BIN"), "-c", self.conf, "--log-level=warn",
             f"--logfile={self.workdir}/server.log"])
        for _ in range(120):
            try:
                if requests.get(f"{self.url}/web/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError("the Odoo server did not start")

    def stop(self):
        if self.server:
            self.server.terminate()
            self.server.wait(30)
        if os.path.exists(os.path.join(self.pgdata, "PG_VERSION")):
            try:
                self.pg_ctl("stop", "-m", "immediate")
            except subprocess.CalledProcessError:
                pass

    def sql(self, query, params=None):
        with closing(psycopg2.connect(self.dsn)) as cnx:
            with cnx, cnx.cursor() as cr:
                cr.execute(query, params)
                return cr.fetchall() if cr.description else None

    # -- pushes and processors ---------------------------------------------
    def push(self, events, timeout=10):
        creds = Credentials(self.channel_id, "rel", "generic", 1, app_secret=SECRET)
        headers, _query, body = get_adapter("generic").sign(creds, json.dumps({"events": events}).encode())
        return requests.post(f"{self.url}/live_commerce/webhook/rel", data=body, headers=headers, timeout=timeout)

    def processor(self, batch=100, stall_after_claim=False):
        """A separate process running the real processor until the inbox is empty."""
        code = PROCESSOR_SCRIPT.format(conf=self.conf, db=self.db, batch=batch, stall=stall_after_claim)
        return subprocess.Popen([_env("LCC_PYTHON"), "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


PROCESSOR_SCRIPT = """
import sys, time
import odoo
from odoo import api, SUPERUSER_ID
odoo.tools.config.parse_config(["-c", {conf!r}, "-d", {db!r}, "--log-level=warn"])
registry = odoo.modules.registry.Registry({db!r})
if {stall}:
    from odoo.addons.live_commerce_crm.models.live_event_processor import LiveEventProcessor
    def stalled(self, events):
        print("CLAIMED", len(events), flush=True)
        time.sleep(3600)
    LiveEventProcessor._process = stalled
done = 0
with registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {{}})
    while True:
        claimed = env["live.event"]._process_batch({batch})
        cr.commit()
        done += claimed
        if not claimed:
            break
print("DONE", done, flush=True)
"""


@pytest.fixture(scope="module")
def private_odoo():
    workdir = tempfile.mkdtemp(prefix="lcc-reliability-")
    os.chmod(workdir, 0o755)
    odoo_ = PrivateOdoo(workdir)
    try:
        odoo_.start_cluster()
        odoo_.write_conf()
        odoo_.install()
        odoo_.start_server()
        yield odoo_
    finally:
        odoo_.stop()
        shutil.rmtree(workdir, ignore_errors=True)


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
