"""/readyz: 200 only when the database answers and is at the migrations' head."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time

import pytest
from alembic.script import ScriptDirectory

from offload.observability import views
from offload.observability.views import MIGRATIONS
from tests.support.app import make_app

HEAD = ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture
def probe(tmp_path):
    """An app on an SQLite file of its own, and a way to set its Alembic revision."""
    path = tmp_path / "ready.db"
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")

    def at(revision: str | None) -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS alembic_version (version_num TEXT)")
            conn.execute("DELETE FROM alembic_version")
            if revision is not None:
                conn.execute("INSERT INTO alembic_version VALUES (?)", (revision,))

    return app, at


def test_ready_at_the_head(probe):
    app, at = probe
    at(HEAD)
    r = app.test_client().get("/readyz")
    assert r.status_code == 200 and r.get_json() == {"status": "ready"}
    assert r.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in r.headers  # a probe gets no session


def test_not_ready_behind_the_head(probe):
    app, at = probe
    at("5327c9c58162")  # the revision before this change's
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    reason = r.get_json()["reason"]
    assert "5327c9c58162" in reason and HEAD in reason and "flask db upgrade" in reason
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("revision", [None, "no such table"])
def test_not_ready_without_migrations(probe, revision):
    app, at = probe
    if revision is None:
        at(None)  # the table, empty
    r = app.test_client().get("/readyz")
    assert r.status_code == 503 and r.get_json()["status"] == "not ready"
    assert r.get_json()["reason"] in ("the database has no migrations applied",
                                      "the database is at no revision, the code at "
                                      f"{HEAD}: run flask db upgrade")


def test_not_ready_when_the_database_does_not_answer(tmp_path):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/no/such/dir/x.db")
    r = app.test_client().get("/readyz")
    assert r.status_code == 503
    assert r.get_json()["reason"] == "the database does not answer"


def test_liveness_is_unchanged(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_data(as_text=True) == "ok\n"


def test_probes_are_not_rate_limited(tmp_path, monkeypatch):
    """Under a default limit for every route (as a deployment might set), the probes
    still answer, where another route is refused."""
    from offload.core.extensions import limiter

    # the limiter is shared by every app: its defaults are put back after the test
    monkeypatch.setattr(limiter.limit_manager, "_default_limits", [])
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/limits.db",
                   RATELIMIT_DEFAULT="2 per hour", METRICS_TOKEN="scrape-token")
    client = app.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 429]
    assert {client.get("/readyz").status_code for _ in range(4)} == {503}
    scrapes = {client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
               .status_code for _ in range(4)}
    assert scrapes == {200}


def _probe_within(app, seconds: float):
    """/readyz's answer, or None if it took more than ``seconds``."""
    answers = []
    asking = threading.Thread(target=lambda: answers.append(app.test_client().get("/readyz")),
                              daemon=True)
    asking.start()
    asking.join(seconds)
    return answers[0] if answers else None


def test_a_locked_database_fails_the_probe_quickly(probe, monkeypatch):
    """The app's own connections wait 10 s for SQLite's lock; a probe answers sooner."""
    monkeypatch.setattr(views, "READY_TIMEOUT_SECONDS", 0.5)
    app, at = probe
    at(HEAD)
    locker = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"),
                             isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        r = _probe_within(app, 10)
        assert r is not None and time.monotonic() - started < 3
        assert r.status_code == 503 and r.get_json()["reason"] == "the database does not answer"
    finally:
        locker.rollback()
        locker.close()
    assert app.test_client().get("/readyz").status_code == 200


def test_a_server_that_never_answers_fails_the_probe_quickly(tmp_path, monkeypatch):
    """A PostgreSQL host that accepts the connection and then says nothing (a hung server,
    a half-open firewall) must not hold the load balancer's probe."""
    pytest.importorskip("psycopg")
    monkeypatch.setattr(views, "READY_TIMEOUT_SECONDS", 1)
    with socket.create_server(("127.0.0.1", 0)) as silent:
        port = silent.getsockname()[1]
        app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=(
            f"postgresql+psycopg://probe@127.0.0.1:{port}/offload"))
        started = time.monotonic()
        r = _probe_within(app, 10)
        assert r is not None, "the probe hung"
        assert time.monotonic() - started < 5  # libpq's connect_timeout is 2 s at least
        assert r.status_code == 503 and r.get_json()["reason"] == "the database does not answer"
