"""Sentry: errors reach it when OFFLOAD_SENTRY_DSN is set, scrubbed of e-mail addresses,
form bodies, cookies and credentials; without it sentry_sdk is not even imported.

The app runs in a subprocess (Sentry's Flask integration patches Flask for the whole
process); the Sentry it reports to is a loopback HTTP server of this test's."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from offload.observability.sentry import scrub_event

ROOT = Path(__file__).resolve().parents[2]

APP = r"""
import sys
from offload import create_app
from tests.support.app import app_config
from pathlib import Path

app = create_app(app_config(Path(sys.argv[1]), PROPAGATE_EXCEPTIONS=False,
                            SENTRY_DSN=sys.argv[2] or None))

@app.post("/boom")
def boom():
    if sys.argv[2]:  # an outgoing request first, as a webhook delivery makes: a breadcrumb
        import http.client
        from urllib.parse import urlsplit
        sentry = urlsplit(sys.argv[2])
        conn = http.client.HTTPConnection(sentry.hostname, sentry.port, timeout=10)
        conn.request("GET", "/hook/webhook-path-secret?sig=webhook-query-secret")
        conn.getresponse().read()
        conn.close()
    raise RuntimeError("no account for ada.lovelace@example.com")

client = app.test_client()
client.set_cookie("session", "cookie-secret-value")
r = client.post("/boom?email=ada.lovelace%40example.com",
                data={"email": "ada.lovelace@example.com", "note": "form-body-secret"},
                headers={"Authorization": "Bearer header-secret-token",
                         "Referer": "http://localhost/reset/referer-reset-token",
                         "Origin": "http://origin-secret.example",
                         "X-Anything": "unlisted-header-secret",
                         "User-Agent": "Probe/1.0"})
assert r.status_code == 500, r.status_code
if sys.argv[2]:
    import sentry_sdk
    sentry_sdk.flush(timeout=10)
print("SENTRY_IMPORTED" if "sentry_sdk" in sys.modules else "SENTRY_NOT_IMPORTED")
"""

SECRETS = ("ada.lovelace", "form-body-secret", "cookie-secret-value", "header-secret-token",
           "referer-reset-token", "origin-secret", "unlisted-header-secret",
           "webhook-path-secret", "webhook-query-secret")


class FakeSentry(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def do_GET(self):  # noqa: N802 (the app's outgoing request, for its breadcrumb)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry():
    FakeSentry.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSentry)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://public@127.0.0.1:{server.server_address[1]}/1", FakeSentry.received
    server.shutdown()


def run_app(tmp_path, dsn: str) -> str:
    env = {**os.environ, "OFFLOAD_INSTANCE_PATH": str(tmp_path)}
    env.pop("OFFLOAD_SENTRY_DSN", None)
    done = subprocess.run([sys.executable, "-c", APP, str(tmp_path), dsn], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_an_error_reaches_sentry_without_addresses_bodies_or_credentials(tmp_path, sentry):
    dsn, received = sentry
    assert run_app(tmp_path, dsn).strip() == "SENTRY_IMPORTED"
    envelope = b"\n".join(received).decode()
    items = [json.loads(line) for line in envelope.splitlines() if line.startswith("{")]
    events = [item for item in items if "exception" in item or "logentry" in item]
    assert events, envelope
    assert "RuntimeError" in envelope and "no account for [email]" in envelope
    assert "/boom" in envelope  # the request is described...
    for secret in SECRETS:  # ...without what identifies or authenticates anyone
        assert secret not in envelope, secret
    request = events[0]["request"]
    assert "data" not in request and "cookies" not in request
    assert request["headers"].get("Authorization", "[Filtered]") == "[Filtered]"
    # only harmless headers travel: a Referer may hold a reset or invite link's token
    assert request["headers"].get("User-Agent") == "Probe/1.0"
    assert not {"referer", "origin", "x-anything"} & {k.lower() for k in request["headers"]}
    # an outgoing request's breadcrumb names its host only: a webhook URL is a secret
    crumbs = [c for c in events[0].get("breadcrumbs", {}).get("values", [])
              if c.get("category") == "httplib"]
    assert [c["data"]["url"] for c in crumbs] == [f"http://127.0.0.1:{urlsplit(dsn).port}"]


def test_without_a_dsn_sentry_is_not_imported(tmp_path, sentry):
    _, received = sentry
    assert run_app(tmp_path, "").strip() == "SENTRY_NOT_IMPORTED"
    assert received == []


def test_the_scrubber_masks_addresses_anywhere():
    event = {"request": {"url": "https://offload.example/x", "data": {"a": "b"},
                         "cookies": {"session": "x"}, "query_string": "to=a@b.example",
                         "headers": {"Cookie": "x", "Authorization": "Bearer y",
                                     "Referer": "https://offload.example/invite/tok",
                                     "User-Agent": "ua"}},
             "user": {"email": "a@b.example"},
             "breadcrumbs": {"values": [
                 {"message": "mail to bo@example.com sent"},
                 {"type": "http", "category": "httplib",
                  "data": {"url": "https://u:p@hooks.example:8443/h/secret", "method": "POST",
                           "http.query": "sig=secret", "status_code": 500}}]},
             "extra": {"to": ("c@d.example", 3)}}
    scrubbed = scrub_event(event)
    assert "user" not in scrubbed and "data" not in scrubbed["request"]
    assert scrubbed["request"]["headers"] == {"User-Agent": "ua"}
    assert scrubbed["request"]["query_string"] == "[Filtered]"
    assert scrubbed["request"]["url"] == "https://offload.example"  # no request context
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == "mail to [email] sent"
    assert scrubbed["breadcrumbs"]["values"][1]["data"] == {
        "url": "https://hooks.example:8443", "method": "POST", "status_code": 500}
    assert scrubbed["extra"]["to"] == ("[email]", 3)
