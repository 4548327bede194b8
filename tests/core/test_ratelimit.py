"""Log-in, reset and invite sending are rate limited (Flask-Limiter)."""

import pytest

from tests.conftest import make_app


@pytest.fixture
def limited_app(app, tmp_path):
    return make_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_ADDRESS="5 per minute", RESET_LIMIT="2 per minute",
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


def test_login_is_limited_per_account(limited_app, make_member):
    make_member("alice")
    client = limited_app.test_client()
    codes = [client.post("/login", data={"login": "alice", "password": "wrong guess!"}).status_code
             for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    # another account from the same address still gets its own attempts
    assert client.post("/login", data={"login": "bob", "password": "x"}).status_code == 422


def test_login_is_limited_per_address(limited_app):
    client = limited_app.test_client()
    codes = [client.post("/login", data={"login": f"user{i}", "password": "x"}).status_code
             for i in range(6)]
    assert codes[-1] == 429 and 429 not in codes[:5]
    assert "Too many attempts" in client.post("/login", data={"login": "z"}).get_data(as_text=True)


def test_reset_requests_are_limited(limited_app):
    client = limited_app.test_client()
    codes = [client.post("/reset", data={"email": "a@example.com"}).status_code
             for _ in range(3)]
    assert codes == [302, 302, 429]
