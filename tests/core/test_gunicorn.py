"""gunicorn.conf.py, the production server's settings: the app loaded once in the master,
workers forked from it that answer pages from the database on their own connections."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.support.factories import PASSWORD
from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def _children(pid: int) -> list[int]:
    return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()]


def _log_in(base: str, username: str) -> str:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    form = opener.open(base + "/login", timeout=10).read().decode()
    token = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"login": username, "password": PASSWORD,
                                   "csrf_token": token}).encode()
    return urllib.parse.urlsplit(opener.open(base + "/login", data=body, timeout=10).url).path


def test_the_production_settings_serve_pages_from_forked_workers(app, tmp_path, make_member):
    make_member("ada")
    port = free_port()
    env = {**os.environ, "OFFLOAD_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "OFFLOAD_SECRET_KEY": "gunicorn-test-secret", "OFFLOAD_MAIL_BACKEND": "log",
           "OFFLOAD_INSTANCE_PATH": str(tmp_path), "WEB_CONCURRENCY": "3"}
    env.pop("DATABASE_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()
                time.sleep(0.2)
        while len(_children(server.pid)) < 3:  # forked one after another
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)
        assert len(_children(server.pid)) == 3  # WEB_CONCURRENCY, and no more
        # log-ins read the database: enough of them that every worker answers some
        for _ in range(12):
            assert _log_in(base, "ada") == "/dashboard"
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = log.read_text()
    assert server.returncode == 0, output
    assert not re.search(r"Traceback|Error", output), output
