"""Installation and upgrade, checked with real `odoo-bin` runs on fresh databases.

Run by `make test` (pytest-odoo); the environment variables come from scripts/test.sh.
Not part of Odoo's own test loader: installing a module is outside a transaction.
"""
import os
import re
import subprocess
import uuid
from contextlib import closing

import pytest

import odoo.sql_db

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): (?P<msg>.*)$")


def _env(name):
    value = os.environ.get(name)
    assert value, f"{name} is not set: run the suite with `make test`"
    return value


def _problems(log_text):
    """Errors anywhere, and warnings raised by or about this addon."""
    found = []
    for line in log_text.splitlines():
        match = LOG_LINE.match(line)
        if not match:
            continue
        level, logger, msg = match["level"], match["logger"], match["msg"]
        if level in ("ERROR", "CRITICAL"):
            found.append(line)
        elif level == "WARNING" and ("live_commerce_crm" in logger + msg or re.search(r"\blive\.", msg)):
            found.append(line)
    return found


def _odoo(db, *args, timeout=900):
    cmd = [_env("LCC_PYTHON"), _env("LCC_ODOO_BIN"), "-c", _env("LCC_ODOO_CONF"), "-d", db,
           "--stop-after-init", "--log-level=info", "--db-filter", f"^{db}$", *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout + result.stderr


def _sql(db, query):
    # pytest-odoo has loaded the Odoo configuration: reuse its connection settings.
    with closing(odoo.sql_db.db_connect(db).cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute(query)
        return cr.fetchall() if cr.description else None


@pytest.fixture
def fresh_db():
    db = f"lcc_install_{uuid.uuid4().hex[:8]}"
    yield db
    odoo.sql_db.close_db(db)
    _sql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def test_install_with_demo_data_is_clean():
    with open(_env("LCC_INSTALL_LOG"), encoding="utf-8") as log:
        text = log.read()
    assert "Modules loaded." in text, "the demo install did not finish"
    assert "live_commerce_crm" in text
    assert _problems(text) == []


def test_install_without_demo_then_upgrade_is_clean(fresh_db):
    code, out = _odoo(fresh_db, "-i", "live_commerce_crm", "--without-demo=all")
    assert code == 0, out[-3000:]
    assert "Modules loaded." in out
    assert _problems(out) == []
    assert _sql(fresh_db, "SELECT state, demo FROM ir_module_module WHERE name = 'live_commerce_crm'") == [("installed", False)]
    assert _sql(fresh_db, "SELECT count(*) FROM live_channel") == [(0,)]

    code, out = _odoo(fresh_db, "-u", "live_commerce_crm")
    assert code == 0, out[-3000:]
    assert re.search(r"odoo\.modules\.loading: \d+ modules loaded", out)
    assert "live_commerce_crm" in out
    assert _problems(out) == []
