"""Test fixtures: a real database (file SQLite by default, PostgreSQL when
``OFFLOAD_TEST_DATABASE_URL`` is set), log-in helpers, the CI rules.

Each test starts from empty tables; the schema is created once per session. Under
pytest-xdist every worker has its own database: SQLite files live in the worker's own
temporary directory, and on PostgreSQL the worker's database is the base URL's name
with the worker's id appended (``offload_test_gw0``), created on first use and reused.

The factories (members, gigs, offers, funds, projects) are in tests/support/factories.py
and their fixtures in tests/support/fixtures.py, loaded here as a plugin.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, event, select, text
from sqlalchemy.engine import make_url

from offload import create_app
from offload.accounts.models import User
from offload.core.cache import cache
from offload.core.db import atomic, db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import LEDGER_CHECKS, run_checks
from offload.ledger.models import (
    DROP_IMMUTABLE_TRANSFERS_SQLITE,
    IMMUTABLE_TRANSFERS_SQLITE,
    Transfer,
)
from tests.support.factories import PASSWORD, _hashed, new_member  # noqa: F401  (importable here)

pytest_plugins = ["pytester", "tests.support.fixtures",
                  "tests.support.links"]  # every notification links to a page

DATABASE_URL_ENV = "OFFLOAD_TEST_DATABASE_URL"


def in_ci() -> bool:
    """CI is set only when ``CI`` is truthy: "1", "true", "yes" (any case)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def worker_database_url(base: str, worker: str) -> str:
    """The PostgreSQL database of one xdist worker, created on the base URL's server if
    missing (its schema is rebuilt by the session's ``app`` fixture, so reusing it is fine)."""
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                 {"name": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def pytest_configure(config):
    # a worker points the whole process (apps made by tests, subprocesses they start)
    # at its own database; on SQLite tmp_path_factory is already per worker
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base = os.environ.get(DATABASE_URL_ENV) or ""
    if worker and base.startswith("postgresql") and not base.endswith(f"_{worker}"):
        os.environ[DATABASE_URL_ENV] = worker_database_url(base, worker)


def app_config(tmp_path: Path, **extra) -> dict:
    url = os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{tmp_path}/test.db"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        # the limiter is one object shared by every app a test creates, so it stays on
        # everywhere, with limits no ordinary test reaches (tests of limits set low ones)
        "RATELIMIT_ENABLED": True,
        "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
        "LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
        "RESET_LIMIT": "100000 per minute",
        "EMAIL_CHANGE_LIMIT": "100000 per minute",
        "INVITE_LIMIT": "100000 per minute",
        "CONTACT_LIMIT": "100000 per minute",
        "PHOTO_LIMIT": "100000 per minute",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "CANONICAL_URL": "https://offload.example",
        "MAIL_BACKEND": "log",
        "LEDGER_STRICT_LOCK_ORDER": True,
        # the real method's cost (~0.15 s a log-in) would dominate the suite; a login
        # still checks a real scrypt hash, with a smaller work factor
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        **extra,
    }


def make_app(tmp_path: Path, **extra):
    """An app on the test configuration whose test client isolates requests."""
    app = create_app(app_config(tmp_path, **extra))
    app.test_client_class = IsolatedClient
    return app


class IsolatedClient(FlaskClient):
    """A test client whose requests run as in production, each in a fresh context.

    Flask reuses an app context that is already pushed (the test's own), which would
    share ``g`` (Flask-Login's cached user) and the database session between requests.
    Running each request in an empty ``contextvars.Context`` gives it its own. After
    the request, the test's session ends its read transaction so it sees the changes.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.rollback()
        return response


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offload")
    app = make_app(tmp)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def empty_tables():
    """Empty every table (and, on SQLite, the full-text index); ids start at 1 again, so
    the fragment cache, keyed by ids and versions, is emptied too."""
    db.session.rollback()
    cache.clear()
    tables = list(reversed(db.metadata.sorted_tables))
    # one write transaction from its first statement (BEGIN IMMEDIATE on SQLite): the
    # probe's read, then a write, in a deferred one fails at once ("database is locked")
    # when another connection commits in between, as the browser suite's mail worker does
    with atomic():
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            _empty_sqlite_tables(tables)


@functools.cache
def _filled_tables_probe(names: tuple[str, ...]):
    return text(" UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names))


def _empty_sqlite_tables(tables) -> None:
    # Only the tables a test filled are emptied (one probe finds them), and the transfers'
    # triggers are lifted only when transfers hold rows: dropping and creating a trigger
    # changes the schema, which every connection then reads again. This halves the reset
    # (about 40 of every test's 80 ms went to those triggers on this machine).
    filled = set(db.session.scalars(_filled_tables_probe(tuple(t.name for t in tables))))
    if not filled:
        return
    lift = "transfers" in filled  # transfers refuse DELETE (they are immutable)
    if lift:
        for statement in DROP_IMMUTABLE_TRANSFERS_SQLITE:
            db.session.execute(text(statement))
    for table in tables:
        if table.name in filled:
            db.session.execute(delete(table))
    if lift:
        for statement in IMMUTABLE_TRANSFERS_SQLITE:
            db.session.execute(text(statement))
    # the FTS5 index is outside db.metadata (its triggers empty it with the gigs;
    # this guards against a test that left it inconsistent)
    db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('delete-all')"))


@pytest.fixture(autouse=True)
def _app_context(app, request):
    with app.app_context():
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


@contextmanager
def running_mail_worker(app, poll_seconds: float = 0.05):
    """The mail worker (``flask jobs worker`` without the periodic jobs) in a thread."""
    from offload.jobs.worker import Worker

    worker = Worker(app, jobs=(), poll_seconds=poll_seconds)
    thread = threading.Thread(target=worker.run, name="mail-worker", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=30)


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
