"""Test fixtures: a real database (file SQLite by default, PostgreSQL when
``OFFLOAD_TEST_DATABASE_URL`` is set), factories with keyword overrides, log-in helpers.

Each test starts from empty tables; the schema is created once per session.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from offload import create_app
from offload.accounts.models import User
from offload.accounts.passwords import hash_password
from offload.core.db import db, utcnow

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def test_config(tmp_path: Path, **extra) -> dict:
    url = os.environ.get("OFFLOAD_TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/test.db"
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "CANONICAL_URL": "https://offload.example",
        "MAIL_BACKEND": "log",
        # scrypt's default cost makes each hash ~50 ms; tests keep the same code path
        **extra,
    }


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("offload")
    app = create_app(test_config(tmp))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables():
    db.session.rollback()
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(delete(table))
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        _empty_tables()
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_member(app):
    """Factory: ``make_member(username=..., inviter=..., confirmed=False, admin=True)``."""

    def make(username: str | None = None, *, email: str | None = None,
             password: str = PASSWORD, confirmed: bool = True, admin: bool = False,
             inviter: User | None = None, **fields) -> User:
        n = next(_counter)
        username = username or f"member{n}"
        user = User(
            username=username.lower(),
            email=(email or f"{username}@example.com").lower(),
            password_hash=hash_password(password),
            display_name=fields.pop("display_name", username.title()),
            is_admin=admin,
            email_confirmed_at=utcnow() if confirmed else None,
            invited_by_id=inviter.id if inviter else None,
            **fields,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """``login(user)`` logs the test client in through the real form."""

    def do(user: User, password: str = PASSWORD, remember: bool = False):
        response = client.post("/login", data={"login": user.username, "password": password,
                                               "remember": "y" if remember else ""})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    return do


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
