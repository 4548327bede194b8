"""gunicorn.conf.py, the production server's settings: the app loaded once in the master,
workers forked from it that answer pages from the database on their own connections."""

from __future__ import annotations

import re
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tests.support.factories import PASSWORD
from tests.support.gunicorn import running_gunicorn


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
    log = tmp_path / "gunicorn.log"
    with running_gunicorn(app, tmp_path, log, WEB_CONCURRENCY="3") as (base, server):
        deadline = time.monotonic() + 30
        while len(_children(server.pid)) < 3:  # forked one after another
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        time.sleep(0.5)
        assert len(_children(server.pid)) == 3  # WEB_CONCURRENCY, and no more
        # log-ins read the database: enough of them that every worker answers some
        for _ in range(12):
            assert _log_in(base, "ada") == "/dashboard"
    output = log.read_text()
    assert server.returncode == 0, output
    assert not re.search(r"Traceback|Error", output), output
