"""Test fixtures: a real database (file SQLite by default, PostgreSQL when
``OFFLOAD_TEST_DATABASE_URL`` is set), factories with keyword overrides, log-in helpers.

Each test starts from empty tables; the schema is created once per session.
"""

from __future__ import annotations

import contextvars
import functools
import itertools
import os
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import delete, event, select, text

from offload import create_app
from offload.accounts.lineage import add_to_branch_sizes
from offload.accounts.models import User
from offload.accounts.passwords import hash_password
from offload.core.db import db, utcnow
from offload.health import MONEY_CHECKS
from offload.ledger.checks import LEDGER_CHECKS, run_checks
from offload.ledger.models import (
    DROP_IMMUTABLE_TRANSFERS_SQLITE,
    IMMUTABLE_TRANSFERS_SQLITE,
    Transfer,
)

pytest_plugins = ["tests.support.links"]  # every notification links to a page

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


@functools.cache
def _hashed(password: str) -> str:
    # factories reuse one hash per password (the log-in path is real)
    return hash_password(password)


def app_config(tmp_path: Path, **extra) -> dict:
    url = os.environ.get("OFFLOAD_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/test.db"
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
    db.session.rollback()
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # transfers refuse DELETE (they are immutable); the suite lifts that between tests
        for statement in DROP_IMMUTABLE_TRANSFERS_SQLITE:
            db.session.execute(text(statement))
        for table in tables:
            db.session.execute(delete(table))
        for statement in IMMUTABLE_TRANSFERS_SQLITE:
            db.session.execute(text(statement))
    db.session.commit()


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


def new_member(username: str | None = None, *, email: str | None = None,
               password: str = PASSWORD, confirmed: bool = True, admin: bool = False,
               inviter: User | None = None, **fields) -> User:
    """A member written straight to the database (inside an app context)."""
    n = next(_counter)
    username = username or f"member{n}"
    user = User(
        username=username.lower(),
        email=(email or f"{username}@example.com").lower(),
        password_hash=_hashed(password),
        display_name=fields.pop("display_name", username.title()),
        is_admin=admin,
        email_confirmed_at=utcnow() if confirmed else None,
        invited_by_id=inviter.id if inviter else None,
        **fields,
    )
    db.session.add(user)
    db.session.flush()
    if inviter is not None:
        add_to_branch_sizes(inviter.id, 1)
    db.session.commit()
    return user


@pytest.fixture
def make_member(app):
    """Factory: ``make_member(username=..., inviter=..., confirmed=False, admin=True)``."""
    return new_member


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
def outbox():
    """Read the e-mails queued in the outbox, newest last; ``outbox.links(mail)`` lists URLs."""
    from offload.notifications.models import OutboxEmail

    class Outbox:
        def all(self) -> list[OutboxEmail]:
            return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))

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
    """In CI a test that would skip fails instead: nothing passes by not running."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is a failure: {report.longrepr}"


def _on_postgresql() -> bool:
    return (os.environ.get("OFFLOAD_TEST_DATABASE_URL") or "").startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """``postgres_only`` tests are left out (deselected, not skipped) on SQLite: CI runs
    the suite on both databases, and there a skip counts as a failure."""
    if _on_postgresql():
        return
    left_out = [item for item in items if item.get_closest_marker("postgres_only")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
