import logging

import pytest

from offload.core.logs import KeyValueFormatter


def test_extras_are_appended_as_key_values():
    record = logging.makeLogRecord({"msg": "login failed", "levelname": "WARNING",
                                    "name": "offload.accounts", "login": "alice"})
    line = KeyValueFormatter("%(name)s: %(message)s").format(record)
    assert line == "offload.accounts: login failed login='alice'"


def test_login_failures_and_successes_are_logged_without_the_password(client, make_member,
                                                                      caplog):
    from tests.support.factories import PASSWORD

    make_member("alice")
    with caplog.at_level(logging.INFO, logger="offload.accounts"):
        client.post("/login", data={"login": "alice", "password": "wrong password here"})
        client.post("/login", data={"login": "alice", "password": PASSWORD})
    messages = [r.getMessage() for r in caplog.records]
    assert "login failed" in messages and "login succeeded" in messages
    assert "wrong password here" not in caplog.text and PASSWORD not in caplog.text


def test_a_failed_login_logs_a_digest_of_what_was_typed_never_the_text(client, make_member,
                                                                      caplog):
    """A password typed into the login field, or an address, must not reach the logs;
    a keyed digest still tells the same login tried again from another."""
    from offload.core.logs import STANDARD_ATTRIBUTES

    make_member("alice")
    typed = ["Correct-Horse-Battery", "ALICE", "alice", "bob.smith@example.com"]
    with caplog.at_level(logging.INFO, logger="offload.accounts"):
        for login in typed:
            client.post("/login", data={"login": login, "password": "wrong password here"})
    failures = [r for r in caplog.records if r.getMessage() == "login failed"]
    assert len(failures) == len(typed)
    fields = [{k: v for k, v in vars(r).items() if k not in STANDARD_ATTRIBUTES}
              for r in failures]
    for login in typed:
        assert login.lower() not in caplog.text.lower() and login not in str(fields)
    assert "bob.smith" not in str(fields) and "example.com" not in str(fields)
    digests = [f["login_digest"] for f in fields]
    assert all(len(d) == 12 and int(d, 16) >= 0 for d in digests)
    assert digests[1] == digests[2]  # the same login, however it was capitalised
    assert len({digests[0], digests[1], digests[3]}) == 3


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


# --- a 500 is logged once, with its traceback ------------------------------------------

def _errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.fixture
def broken(tmp_path):
    """An app whose /boom raises, and whose /committed-then-boom commits a transaction
    (its commit hook logs) and then raises; exceptions are not propagated, as in
    production."""
    from flask import request

    from offload import create_app
    from offload.core.db import atomic, on_commit
    from tests.support.app import app_config

    broken = create_app(app_config(tmp_path, PROPAGATE_EXCEPTIONS=False))
    hooks = logging.getLogger("offload.test")

    @broken.route("/boom", methods=["GET", "POST"])
    def boom():
        raise RuntimeError("secret internals")

    @broken.post("/committed-then-boom")
    def committed_then_boom():
        with atomic():
            on_commit(lambda: hooks.info("committed"))
        raise RuntimeError("secret internals")

    @broken.post("/hook-boom")
    def hook_boom():
        def fail():
            raise RuntimeError("secret internals")

        with atomic():
            on_commit(fail)
        return "done"

    @broken.post("/late-boom")
    def late_boom():
        with atomic():
            on_commit(lambda: hooks.info("committed"))
        return "done"

    failed = []

    @broken.after_request
    def fail_late(response):
        # once, after the view, its commit and its hooks (the 500 page then goes through)
        if request.path == "/late-boom" and not failed:
            failed.append(1)
            raise RuntimeError("secret internals")
        return response

    return broken


@pytest.mark.parametrize("method, path", [("get", "/boom"), ("post", "/boom"),
                                          ("post", "/committed-then-boom"),
                                          ("post", "/late-boom")])
def test_each_500_is_logged_once_with_its_traceback(broken, caplog, method, path):
    with caplog.at_level(logging.INFO):
        r = getattr(broken.test_client(), method)(path)
    body = r.get_data(as_text=True)
    assert r.status_code == 500 and "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body
    errors = _errors(caplog)
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].exc_info and errors[0].exc_info[0] is RuntimeError
    assert path in errors[0].getMessage()
    if path.endswith("-boom"):
        assert "committed" in [r.getMessage() for r in caplog.records]


def test_a_failing_commit_hook_is_logged_once_and_the_request_succeeds(broken, caplog):
    with caplog.at_level(logging.INFO):
        r = broken.test_client().post("/hook-boom")
    assert r.status_code == 200
    errors = _errors(caplog)
    assert len(errors) == 1 and errors[0].exc_info[0] is RuntimeError


def test_a_secret_in_a_url_never_reaches_the_log(tmp_path, caplog):
    """A 500 on a route whose path carries a secret (a feed token) logs the route's rule."""
    from offload import create_app
    from tests.support.app import app_config

    broken = create_app(app_config(tmp_path, PROPAGATE_EXCEPTIONS=False))

    @broken.route("/hooks-test/<token>/boom")
    def boom(token):
        raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="offload"):
        assert broken.test_client().get("/hooks-test/s3cr3t-feed-token/boom").status_code == 500
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /hooks-test/<token>/boom" in logged
    assert "s3cr3t-feed-token" not in logged
