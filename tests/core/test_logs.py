import logging

from offload.core.logs import KeyValueFormatter


def test_extras_are_appended_as_key_values():
    record = logging.makeLogRecord({"msg": "login failed", "levelname": "WARNING",
                                    "name": "offload.accounts", "login": "alice"})
    line = KeyValueFormatter("%(name)s: %(message)s").format(record)
    assert line == "offload.accounts: login failed login='alice'"


def test_login_failures_and_successes_are_logged_without_the_password(client, make_member,
                                                                      caplog):
    from tests.conftest import PASSWORD

    make_member("alice")
    with caplog.at_level(logging.INFO, logger="offload.accounts"):
        client.post("/login", data={"login": "alice", "password": "wrong password here"})
        client.post("/login", data={"login": "alice", "password": PASSWORD})
    messages = [r.getMessage() for r in caplog.records]
    assert "login failed" in messages and "login succeeded" in messages
    assert "wrong password here" not in caplog.text and PASSWORD not in caplog.text


def test_unknown_accounts_cost_a_password_check_too(app, make_member, monkeypatch):
    from offload.accounts import passwords
    from offload.accounts.services import authenticate

    checks = []
    real = passwords.check_password_hash
    monkeypatch.setattr(passwords, "check_password_hash",
                        lambda h, p: checks.append(h) or real(h, p))
    make_member("alice")
    authenticate("alice", "wrong password here")
    authenticate("nobody", "wrong password here")
    dummy = passwords._dummy_hash(app.config["PASSWORD_HASH_METHOD"])
    assert len(checks) == 2 and checks[1] == dummy
