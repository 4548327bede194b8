"""The session cookie is written when the session changes, not on every response
(SESSION_REFRESH_EACH_REQUEST is off), and still ends PERMANENT_SESSION_LIFETIME after
it was last written: the signature's timestamp is checked on every request."""

from __future__ import annotations

import time

import pytest
from itsdangerous import TimestampSigner


@pytest.fixture
def clock(monkeypatch):
    """``clock(seconds)``: the session signer's "now" moves that far ahead."""
    start = int(time.time())

    def move(seconds: float) -> None:
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: start + int(seconds))

    return move


def test_a_page_view_writes_no_cookie(app, client, login, make_member):
    assert app.config["SESSION_REFRESH_EACH_REQUEST"] is False
    login(make_member())
    client.get("/dashboard")  # the first page after log-in stores the CSRF token
    response = client.get("/dashboard")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "Set-Cookie" not in client.get("/gigs").headers


def test_the_session_still_ends_after_its_lifetime(app, client, login, make_member, clock):
    login(make_member())
    client.get("/dashboard")
    lifetime = app.permanent_session_lifetime.total_seconds()
    clock(lifetime - 60)
    response = client.get("/dashboard")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    clock(lifetime + 60)  # viewing pages did not extend it
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_change_to_the_session_writes_it_and_restarts_the_lifetime(
        app, client, login, make_member, clock):
    login(make_member())
    client.get("/dashboard")
    lifetime = app.permanent_session_lifetime.total_seconds()
    clock(lifetime - 60)
    response = client.post("/notifications/read-all")  # flashes: the session changed
    assert "Set-Cookie" in response.headers
    clock(lifetime + 60)
    assert client.get("/dashboard").status_code == 200
