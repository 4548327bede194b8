"""The test app and its database, for conftests and tests alike: the configuration
(``app_config``, ``make_app``), the reset before each test (``empty_tables``), the
mail worker in a thread, and whether this run is CI.

The SQLite database is a file in the caller's temporary directory (per xdist worker),
the session's on the RAM disk (``session_database``);
with ``OFFLOAD_TEST_DATABASE_URL`` set, PostgreSQL: each worker has its own database,
the base URL's name with the worker's id appended (``offload_test_gw0``).
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import make_url

from offload import create_app
from offload.core.cache import cache
from offload.core.db import atomic, db
from offload.ledger.models import DROP_IMMUTABLE_TRANSFERS_SQLITE, IMMUTABLE_TRANSFERS_SQLITE

DATABASE_URL_ENV = "OFFLOAD_TEST_DATABASE_URL"


def in_ci() -> bool:
    """CI is set only when ``CI`` is truthy: "1", "true", "yes" (any case)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


# an itsdangerous timestamped signature (a form's CSRF token): payload.time.signature
_SIGNED_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27}\b")


def without_signed_tokens(page: str) -> str:
    """The page with its CSRF tokens masked: they carry the second they were signed in,
    so two renders of the same page differ when a second ticks between them."""
    return _SIGNED_TOKEN.sub("<signed>", page)


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
        "FEED_LIMIT": "100000 per minute",
        "EXPORT_LINK_LIMIT": "100000 per minute",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "CANONICAL_URL": "https://offload.example",
        "MAIL_BACKEND": "log",
        "LEDGER_STRICT_LOCK_ORDER": True,
        # the webhook tests' receivers listen on http://127.0.0.1
        "WEBHOOKS_ALLOW_HTTP_LOOPBACK": True,
        # the real method's cost (~0.15 s a log-in) would dominate the suite; a login
        # still checks a real scrypt hash, with a smaller work factor
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        # admins log in with the password alone, as the suites' admins always have; the
        # two-factor tests (tests/accounts/test_two_factor*.py) turn the requirement on
        "TWO_FACTOR_REQUIRED_FOR_ADMINS": False,
        # counted per member id, which every test starts again from 1
        "TWO_FACTOR_WRONG_CODES_PER_ACCOUNT": "100000 per minute",
        "TWO_FACTOR_WRONG_CODES_MAIL_AFTER": 100000,
        **extra,
    }


@contextmanager
def session_database():
    """The session's database as configuration overrides: none with
    ``OFFLOAD_TEST_DATABASE_URL``; else an SQLite file in a directory of its own on the
    RAM disk (/dev/shm, where the machine has one), removed at the end. The app commits
    with ``synchronous=FULL``: on a real disk every commit waits for an fsync, which
    left the CPUs idle for much of the suite; on a RAM disk an fsync costs nothing."""
    if os.environ.get(DATABASE_URL_ENV):
        yield {}
        return
    ram = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="offload-test-", dir=ram) as directory:
        yield {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/test.db"}


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
    A streamed body (``stream_with_context``: a CSV download) is read in the same
    context as its request, as a server reads it, since the request's context is
    entered in one and left once the body is read.
    """

    def open(self, *args, **kwargs):
        context = contextvars.Context()
        response = context.run(super().open, *args, **kwargs)
        if response.is_streamed:
            response.response = _ReadIn(context, response.response)
        if has_app_context():
            db.session.rollback()
        return response


class _ReadIn:
    """``body``'s chunks, each read inside ``context``; closed there too, when read to
    the end, closed, or dropped unread (a test that looks only at the status)."""

    def __init__(self, context: contextvars.Context, body) -> None:
        self.context, self.body, self.closed = context, body, False

    def __iter__(self):
        chunks = iter(self.body)
        while True:
            try:
                yield self.context.run(next, chunks)
            except StopIteration:
                self.close()
                return

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if hasattr(self.body, "close"):
                self.context.run(self.body.close)

    __del__ = close


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
            _empty_postgresql_tables(tables)
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
    # transfers refuse DELETE (they are immutable)
    with transfers_writable("transfers" in filled):
        for table in tables:
            if table.name in filled:
                db.session.execute(delete(table))
    # the FTS5 index is outside db.metadata (its triggers empty it with the gigs;
    # this guards against a test that left it inconsistent)
    db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('delete-all')"))


# every sequence a test drew from (pg_sequences shows NULL for one never called, or
# restarted), back to 1
_RESTART_USED_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
    "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL")


def _empty_postgresql_tables(tables) -> None:
    # As on SQLite, only the filled tables are emptied, by DELETE in dependency order:
    # TRUNCATE gives each table and index new files, and cost 0.4-1.8 s a test for the
    # 49 tables (0.3 s for one member's, since CASCADE from users reaches nearly every
    # table), against 0.03-0.2 s here. The transfers' trigger refuses DELETE; it is
    # disabled inside this transaction only when transfers hold rows.
    filled = set(db.session.scalars(_filled_tables_probe(tuple(t.name for t in tables))))
    with transfers_writable("transfers" in filled):
        for table in tables:
            if table.name in filled:
                db.session.execute(delete(table))
    db.session.execute(_RESTART_USED_SEQUENCES)


@contextmanager
def transfers_writable(lift: bool = True):
    """Inside the caller's transaction, let the block delete or update transfers, which
    the database otherwise refuses (they are immutable). Only when ``lift``: on SQLite,
    dropping and creating the triggers changes the schema, which every connection then
    reads again; on PostgreSQL the trigger is disabled for this transaction only."""
    if not lift:
        yield
        return
    sqlite = db.engine.dialect.name == "sqlite"
    for statement in DROP_IMMUTABLE_TRANSFERS_SQLITE if sqlite else [
            "ALTER TABLE transfers DISABLE TRIGGER transfers_immutable"]:
        db.session.execute(text(statement))
    yield
    for statement in IMMUTABLE_TRANSFERS_SQLITE if sqlite else [
            "ALTER TABLE transfers ENABLE TRIGGER transfers_immutable"]:
        db.session.execute(text(statement))


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


@contextmanager
def listening_worker(app):
    """A worker that polls only every 60 s, started and waiting on its LISTEN
    (PostgreSQL): what reaches it sooner was woken by a NOTIFY. Stopped on the way out."""
    import time

    from offload.jobs.worker import Worker

    worker = Worker(app, jobs=(), poll_seconds=60)
    thread = threading.Thread(target=worker.run, name="listening-worker")
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not worker.listening and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)  # its first pass is over: it waits now
        yield worker
    finally:
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()
