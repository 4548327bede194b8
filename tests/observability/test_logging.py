"""Log lines: JSON or text by configuration, a request id on every request (believed
from a trusted proxy only), one JSON line per request. The worker's fields:
tests/jobs/test_worker_logs.py."""

from __future__ import annotations

import json
import logging
import re
from types import SimpleNamespace

import pytest

from offload.core.logs import KeyValueFormatter, log_context
from offload.observability.logging import JsonFormatter, log_format
from tests.support.app import make_app

HEX_ID = re.compile(r"[0-9a-f]{32}")


def _record(caplog, logger: str, message: str) -> logging.LogRecord:
    return next(r for r in caplog.records if r.name == logger and r.getMessage() == message)


def test_a_json_line_holds_the_message_the_context_and_the_extras():
    logger = logging.getLogger("offload.test.json")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    try:
        with log_context(job="expire_gigs", outbox_id=7):
            try:
                raise ValueError("bad")
            except ValueError:
                logger.exception("it broke for %s", "ada", extra={"user_id": 3})
    finally:
        logger.removeHandler(handler)
    line = JsonFormatter().format(records[0])
    assert "\n" not in line  # one object a line, the traceback inside it
    parsed = json.loads(line)
    assert parsed["message"] == "it broke for ada" and parsed["level"] == "ERROR"
    assert parsed["logger"] == "offload.test.json" and parsed["time"].endswith("+00:00")
    assert (parsed["job"], parsed["outbox_id"], parsed["user_id"]) == ("expire_gigs", 7, 3)
    assert "ValueError: bad" in parsed["exception"]
    text = KeyValueFormatter("%(message)s").format(records[0])
    assert text.startswith("it broke for ada\nTraceback")
    assert text.endswith("ValueError: bad job='expire_gigs' outbox_id=7 user_id=3")


@pytest.mark.parametrize(("production", "chosen", "expected"), [
    (True, None, "json"), (False, None, "text"), (True, "text", "text"),
    (False, "json", "json")])
def test_json_in_production_text_elsewhere_unless_chosen(production, chosen, expected):
    app = SimpleNamespace(config={"PRODUCTION": production, "LOG_FORMAT": chosen})
    assert log_format(app) == expected


def test_an_unknown_format_is_refused():
    with pytest.raises(RuntimeError, match="OFFLOAD_LOG_FORMAT"):
        log_format(SimpleNamespace(config={"PRODUCTION": False, "LOG_FORMAT": "xml"}))


def test_every_response_has_a_new_request_id(client):
    first, second = client.get("/healthz"), client.get("/no-such-page")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(HEX_ID.fullmatch(i) for i in ids) and ids[0] != ids[1]


def test_a_clients_request_id_is_not_believed_without_a_proxy(client):
    r = client.get("/healthz", headers={"X-Request-ID": "made-up-by-a-client",
                                        "X-Forwarded-For": "203.0.113.9"})
    assert HEX_ID.fullmatch(r.headers["X-Request-ID"])


@pytest.mark.parametrize(("given", "kept"), [
    ("abc-123_DEF.9", True), ("x" * 128, True), ("x" * 129, False),
    ("bad id", False), ("id\u00e9", False), ("a;b", False), ("", False)])
def test_a_trusted_proxys_request_id_is_kept_when_sane(tmp_path, given, kept):
    app = make_app(tmp_path, PROXY_FIX_X_FOR=1)
    client = app.test_client()
    r = client.get("/healthz", headers={"X-Request-ID": given,
                                        "X-Forwarded-For": "203.0.113.9"})
    assert (r.headers["X-Request-ID"] == given) is kept
    if not kept:
        assert HEX_ID.fullmatch(r.headers["X-Request-ID"])
    # a request that did not come through the proxy: its header is not believed
    direct = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert direct.headers["X-Request-ID"] != "abc-123"


def test_the_error_page_shows_the_request_id(client):
    r = client.get("/no-such-page")
    request_id = r.headers["X-Request-ID"]
    assert r.status_code == 404
    assert f"Request ID: <code>{request_id}</code>" in r.get_data(as_text=True)


def test_a_line_logged_in_a_request_carries_its_id(client, make_member, caplog):
    make_member("ada")
    with caplog.at_level(logging.INFO, logger="offload.accounts"):
        r = client.post("/login", data={"login": "ada", "password": "wrong password here"})
    record = _record(caplog, "offload.accounts", "login failed")
    assert record.context["request_id"] == r.headers["X-Request-ID"]


def test_json_mode_logs_one_line_per_request(app, tmp_path, make_member, caplog):
    from tests.support.factories import PASSWORD

    app = make_app(tmp_path, LOG_FORMAT="json",
                   SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    make_member("ada")
    client = app.test_client()
    client.post("/login", data={"login": "ada", "password": PASSWORD})
    with caplog.at_level(logging.INFO, logger="offload.requests"):
        r = client.get("/dashboard")
        anonymous = app.test_client().get("/gigs/123456?secret=x")
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records
             if record.name == "offload.requests"]
    assert len(lines) == 2
    mine, theirs = lines
    assert mine["request_id"] == r.headers["X-Request-ID"]
    assert (mine["member_id"], mine["endpoint"], mine["method"], mine["status"]) == (
        1, "pages.dashboard", "GET", 200)
    assert isinstance(mine["duration_ms"], float) and mine["duration_ms"] > 0
    assert theirs["member_id"] is None and theirs["status"] == anonymous.status_code
    assert theirs["path"] == "/gigs/<int:gig_id>"  # the route, never the query or an id


def test_text_mode_leaves_the_access_lines_to_the_server(client, caplog):
    with caplog.at_level(logging.INFO, logger="offload.requests"):
        client.get("/healthz")
    assert not [r for r in caplog.records if r.name == "offload.requests"]
