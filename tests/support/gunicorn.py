"""gunicorn as production runs it (gunicorn.conf.py, wsgi:app), for tests that need
forked workers: started on a free loopback port, answering /healthz, stopped after."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def running_gunicorn(app, tmp_path: Path, log: Path, **env: str) -> Iterator[
        tuple[str, subprocess.Popen]]:
    """Serve the test database with production settings (plus ``env``); yields the base
    URL and the process. Output goes to ``log``; the server is stopped (SIGTERM) after."""
    port = free_port()
    environ = {**os.environ,
               "OFFLOAD_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
               "OFFLOAD_SECRET_KEY": "gunicorn-test-secret", "OFFLOAD_MAIL_BACKEND": "log",
               "OFFLOAD_INSTANCE_PATH": str(tmp_path), **env}
    environ.pop("DATABASE_URL", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=environ, stdout=out, stderr=subprocess.STDOUT)
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
        yield base, server
    finally:
        server.terminate()
        server.wait(timeout=30)
