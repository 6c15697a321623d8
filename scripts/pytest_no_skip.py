"""pytest plugin loaded by `make test` (scripts/test.sh: -p pytest_no_skip).

Odoo skips its browser tests when Chromium or websocket-client is missing and
still reports success; a skip here therefore fails the run.
"""
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped tests fail this suite: {reason}"
