"""Test fixtures: a real database (file SQLite by default, PostgreSQL when
``OFFLOAD_TEST_DATABASE_URL`` is set), log-in helpers, the CI rules.

Each test starts from empty tables; the schema is created once per session. Under
pytest-xdist every worker has its own database: an SQLite file in a directory of the
worker's own on the RAM disk (``session_database`` in tests/support/app.py), and on
PostgreSQL the base URL's name with the worker's id appended (``offload_test_gw0``),
created on first use and reused.

The app's configuration and the reset between tests are in tests/support/app.py; the
factories (members, gigs, offers, funds, projects) are in tests/support/factories.py
and their fixtures in tests/support/fixtures.py, loaded here as a plugin. Tests import
helpers from tests/support/, never from a conftest or another test module.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select, text

from offload.accounts.models import User
from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import LEDGER_CHECKS, run_checks
from offload.ledger.models import Transfer
from tests.support.app import (
    DATABASE_URL_ENV,
    empty_tables,
    in_ci,
    make_app,
    running_mail_worker,
    session_database,
    worker_database_url,
)
from tests.support.factories import PASSWORD

pytest_plugins = ["pytester", "tests.support.fixtures",
                  "tests.support.cases", "tests.support.invites",  # the case family, the tree
                  "tests.support.links",  # every notification links to a page
                  "tests.support.two_factor"]  # the TOTP clock


def pytest_configure(config):
    # a worker points the whole process (apps made by tests, subprocesses they start)
    # at its own database; on SQLite tmp_path_factory is already per worker
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get(DATABASE_URL_ENV) or ""
    if worker and base.startswith("postgresql") and not base.endswith(f"_{worker}"):
        os.environ[DATABASE_URL_ENV] = worker_database_url(base, worker)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    with session_database() as database:
        app = make_app(tmp_path_factory.mktemp("offload"), **database)
        with app.app_context():
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.create_all()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _app_context(app, request):
    with app.app_context():
        # a test marked ``resets_tables`` puts back its module's world itself, changing
        # only the rows that differ from it (tests/support/snapshot.py)
        if request.node.get_closest_marker("resets_tables") is None:
            empty_tables()
        yield
        db.session.remove()
        ledger_only = request.node.get_closest_marker("ledger_only") is not None
        _check_ledger_after_money_moved(LEDGER_CHECKS if ledger_only else MONEY_CHECKS)


def _check_ledger_after_money_moved(checks):
    """Every test that moved money ends with the full money check (all invariants; the
    ledger's own for ``ledger_only`` tests, whose transfers name made-up causes)."""
    if db.session.scalar(select(Transfer.id).limit(1)) is not None:
        failures = run_checks(checks)
        db.session.remove()
        assert not failures, "ledger check failed after the test:\n" + "\n".join(
            map(str, failures))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    """``login(user)`` logs the test client in through the real form, as ``user`` alone:
    whoever was logged in on it logs out first."""

    def do(user: User, password: str = PASSWORD, remember: bool = False):
        client.post("/logout")
        response = client.post("/login", data={"login": user.username, "password": password,
                                               "remember": "y" if remember else ""})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    return do


@pytest.fixture
def count_queries(app):
    """``with count_queries() as statements:`` collects the SQL run inside the block."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(db.engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def mail_worker(app):
    """Mail goes out as in production while the test runs: a worker sends the outbox."""
    with running_mail_worker(app) as worker:
        yield worker


@pytest.fixture
def outbox():
    """Read the e-mails queued in the outbox, newest last, as they will be sent (a letter
    the worker renders shows its rendering, unsaved); ``outbox.links(mail)`` lists URLs."""
    from sqlalchemy.orm.attributes import set_committed_value

    from offload.notifications.models import OutboxEmail
    from offload.notifications.services import render_outbox_email

    def as_sent(mail: OutboxEmail) -> OutboxEmail:
        if mail.context is not None:
            for name, value in zip(("subject", "text_body", "html_body"),
                                   render_outbox_email(mail), strict=True):
                set_committed_value(mail, name, value)
        return mail

    class Outbox:
        def all(self) -> list[OutboxEmail]:
            return [as_sent(m) for m in db.session.scalars(
                select(OutboxEmail).order_by(OutboxEmail.id))]

        def to(self, address: str) -> list[OutboxEmail]:
            return [m for m in self.all() if m.to_address == address.lower()]

        @staticmethod
        def links(mail: OutboxEmail) -> list[str]:
            return re.findall(r"https?://[^\s\"'<>]+", mail.text_body)

        def path_of_last_link(self, address: str) -> str:
            """The path of the last link mailed to ``address`` (for the test client)."""
            link = self.links(self.to(address)[-1])[-1]
            return "/" + link.split("://", 1)[1].split("/", 1)[1]

    return Outbox()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a test that would skip fails instead, and so does one marked xfail that
    passed: nothing passes by not running, or by running what nobody expected to work."""
    outcome = yield
    report = outcome.get_result()
    if not in_ci():
        return
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"
    elif report.passed and hasattr(report, "wasxfail") and report.when == "call":
        report.outcome = "failed"
        report.longrepr = f"XPASS in CI, which is a failure: {report.wasxfail}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """In CI a module that skips itself (``pytest.skip(allow_module_level=True)``,
    ``importorskip``) is a collection error: its tests would not run."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"


def _on_postgresql() -> bool:
    return (os.environ.get(DATABASE_URL_ENV) or "").startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """``postgres_only`` tests are left out (deselected, not skipped) on SQLite: CI runs
    the suite on both databases, and there a skip counts as a failure."""
    if _on_postgresql():
        return
    left_out = [item for item in items if item.get_closest_marker("postgres_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
