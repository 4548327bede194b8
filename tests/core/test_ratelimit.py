"""Log-in, reset and invite sending are rate limited (Flask-Limiter)."""

import pytest

from tests.support.app import make_app
from tests.support.factories import PASSWORD


@pytest.fixture
def limited_app(app, tmp_path):
    return make_app(tmp_path, RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
        LOGIN_LIMIT_PER_ADDRESS="5 per minute", RESET_LIMIT="2 per minute",
        EMAIL_CHANGE_LIMIT="2 per minute",
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


def _log_in(client, login, password, address="127.0.0.1") -> int:
    return client.post("/login", data={"login": login, "password": password},
                       environ_base={"REMOTE_ADDR": address}).status_code


def test_correct_log_ins_do_not_count_against_the_account(limited_app, make_member):
    make_member("alice")
    client = limited_app.test_client()
    codes = []
    for _ in range(4):  # more than the account's 3: only failures use them
        codes.append(_log_in(client, "alice", PASSWORD))
        client.post("/logout")
    assert codes == [302] * 4
    assert _log_in(client, "alice", "wrong guess!") == 422


def test_username_and_email_share_the_accounts_count(limited_app, make_member):
    make_member("alice", email="alice@example.com")
    client = limited_app.test_client()
    assert _log_in(client, "alice", "wrong guess!") == 422
    assert _log_in(client, "ALICE@example.com", "wrong guess!") == 422
    assert _log_in(client, "Alice", "wrong guess!") == 422
    assert _log_in(client, "alice@example.com", PASSWORD) == 429


def test_a_strangers_failures_do_not_lock_the_owner_out(limited_app, make_member):
    """The account's count is per (account, address): eve's correct password from her
    own address works whatever a stranger typed for her elsewhere."""
    make_member("eve", email="eve@example.com")
    stranger, eve = limited_app.test_client(), limited_app.test_client()
    codes = [_log_in(stranger, login, "wrong guess!", "203.0.113.9")
             for login in ("eve", "eve@example.com", "eve", "eve")]
    assert codes == [422, 422, 422, 429]
    assert _log_in(eve, "eve", PASSWORD, "198.51.100.7") == 302


def test_a_strangers_reset_requests_do_not_stop_the_owners(limited_app, make_member):
    make_member("eve", email="eve@example.com")
    client = limited_app.test_client()

    def reset(address: str) -> int:
        return client.post("/reset", data={"email": "eve@example.com"},
                           environ_base={"REMOTE_ADDR": address}).status_code

    assert [reset("203.0.113.9") for _ in range(3)] == [302, 302, 429]
    assert reset("198.51.100.7") == 302


def test_email_changes_are_limited_per_member(limited_app, make_member):
    make_member("alice")
    make_member("bob")
    alice, bob = limited_app.test_client(), limited_app.test_client()
    assert _log_in(alice, "alice", PASSWORD) == 302 and _log_in(bob, "bob", PASSWORD) == 302

    def change(client, password=PASSWORD) -> int:
        return client.post("/settings/email", data={"new_email": "new@example.com",
                                                     "password": password}).status_code

    assert [change(alice, "wrong guess!"), change(alice), change(alice)] == [422, 302, 429]
    assert change(bob) == 302  # the same address, another member: a count of its own
