"""A private Odoo server on its own PostgreSQL cluster, beside the test suite.

The tests that need real processes (PostgreSQL restarted under pushes, processors
as separate processes, the cron workers of a prefork or threaded server, the
webhook's production insert path) share one cluster and one database through the
session fixture `private_odoo` (tests/conftest.py). Run by `make test`
(pytest-odoo); not part of Odoo's own test loader.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import time
from contextlib import closing

import psycopg2
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
                       f"server_wide_modules = base,web,queue_job,live_commerce_crm\nmax_cron_threads = 0\n"
                       f"gevent_port = {_free_port()}\n\n[queue_job]\nmax_capacity = 2\n")

    def odoo(self, *args, **kwargs):
        return subprocess.run([_env("LCC_PYTHON"), _env("LCC_ODOO_BIN"), "-c", self.conf, *args],
                              capture_output=True, text=True, **kwargs)

    def install(self):
        result = self.odoo("-i", "live_commerce_crm", "--without-demo=all", "--stop-after-init",
                           "--log-level=warn", timeout=900)
        assert result.returncode == 0, result.stderr[-3000:]
        self.sql("""INSERT INTO live_channel (name, code, platform, ship_mode, company_id, app_secret, active, sequence)
                    VALUES ('Reliability', 'rel', 'generic', 'platform', 1, %s, true, 1)""", [SECRET])
        self.channel_id = self.sql("SELECT id FROM live_channel WHERE code = 'rel'")[0][0]

    def start_server(self, *options):
        """Start the server; `options` are odoo-bin options (the default: threaded, no cron)."""
        self.server = subprocess.Popen(
            [_env("LCC_PYTHON"), _env("LCC_ODOO_BIN"), "-c", self.conf, "--log-level=warn",
             f"--logfile={self.workdir}/server.log", *options])
        for _ in range(120):
            try:
                if requests.get(f"{self.url}/web/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise AssertionError("the Odoo server did not start")

    def stop_server(self):
        if self.server:
            self.server.terminate()
            self.server.wait(30)
            self.server = None

    def restart_server(self, *options):
        self.stop_server()
        self.start_server(*options)

    def stop(self):
        self.stop_server()
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

    # -- channels, pushes and processors -----------------------------------
    CHANNEL_FIELDS = ("app_key", "app_secret", "token", "encoding_aes_key", "message_secret", "shop_id")

    def add_channel(self, code, platform, **credentials):
        """A channel of company 1 in the private database, with `credentials` (names of
        CHANNEL_FIELDS); returns its Credentials, to sign pushes with `post`."""
        rows = self.sql(f"""
            INSERT INTO live_channel (name, code, platform, ship_mode, company_id, active, sequence, {", ".join(self.CHANNEL_FIELDS)})
            VALUES (%s, %s, %s, 'platform', 1, true, 10{", %s" * len(self.CHANNEL_FIELDS)}) RETURNING id""",
                        [code, code, platform, *(credentials.get(name) for name in self.CHANNEL_FIELDS)])
        return Credentials(rows[0][0], code, platform, 1, **credentials)

    def post(self, creds, body, timeout=10, **sign_kwargs):
        """POST the bytes `body` to the channel's URL, signed or encrypted its platform's way."""
        headers, query, data = get_adapter(creds.platform).sign(creds, body, **sign_kwargs)
        return requests.post(f"{self.url}/live_commerce/webhook/{creds.code}", params=query, data=data,
                             headers=headers, timeout=timeout)

    def push(self, events, timeout=10):
        """A generic push of `events` to the reliability channel."""
        creds = Credentials(self.channel_id, "rel", "generic", 1, app_secret=SECRET)
        return self.post(creds, json.dumps({"events": events}).encode(), timeout=timeout)

    def processor(self, batch=100, stall_after_claim=False):
        """A separate process running the real processor until the inbox is empty."""
        code = PROCESSOR_SCRIPT.format(conf=self.conf, db=self.db, batch=batch, stall=stall_after_claim)
        return subprocess.Popen([_env("LCC_PYTHON"), "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


    def run_odoo(self, code, timeout=600):
        """Run Python `code` in a separate process with `env` (superuser) on the
        private database, committed at the end; returns what it printed."""
        script = ODOO_SCRIPT.format(conf=self.conf, db=self.db, code=textwrap.indent(textwrap.dedent(code), "    "))
        result = subprocess.run([_env("LCC_PYTHON"), "-c", script], capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout


ODOO_SCRIPT = """
import odoo
from odoo import api, SUPERUSER_ID
odoo.tools.config.parse_config(["-c", {conf!r}, "-d", {db!r}, "--log-level=warn"])
registry = odoo.modules.registry.Registry({db!r})
with registry.cursor() as cr:
    env = api.Environment(cr, SUPERUSER_ID, {{}})
{code}
"""

PROCESSOR_SCRIPT = """
import sys, time
import odoo
from odoo import api, SUPERUSER_ID
odoo.tools.config.parse_config(["-c", {conf!r}, "-d", {db!r}, "--log-level=warn"])
registry = odoo.modules.registry.Registry({db!r})
if {stall}:
    from odoo.addons.live_commerce_crm.models.live_event_processor import LiveEventProcessor
    def stalled(self, events, **_kwargs):
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


_shared = None


def shared_private_odoo(config):
    """The session's private server, started on first use and stopped when pytest
    ends (`config.add_cleanup`): every test module that needs real processes shares
    one cluster, database and server. The server starts threaded without cron
    workers; a test that needs other options restarts it with them
    (`restart_server`) and puts the default back when it is done."""
    global _shared
    if _shared is None:
        workdir = tempfile.mkdtemp(prefix="lcc-private-")
        os.chmod(workdir, 0o755)
        server = PrivateOdoo(workdir)
        config.add_cleanup(lambda: (server.stop(), shutil.rmtree(workdir, ignore_errors=True)))
        server.start_cluster()
        server.write_conf()
        server.install()
        server.start_server()
        _shared = server
    return _shared
