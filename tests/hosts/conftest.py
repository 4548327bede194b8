"""Several hosts (``pytest -m hosts``, ``make test-hosts``): the site as it runs on more
than one machine, all on this one.

One PostgreSQL database (a fresh one on ``OFFLOAD_TEST_DATABASE_URL``'s server, migrated
with ``flask db upgrade``), one Redis (``redis-server`` on a free port, nothing saved),
two gunicorn instances on two ports (``gunicorn.conf.py``, two workers each; the rate
limits and the fragment cache in that Redis), two ``flask jobs worker`` processes, and
an SMTP server in this process that counts what it receives. Every process is stopped,
and the database dropped, when the module's tests end, whatever happened.

Without PostgreSQL or ``redis-server`` the tests skip, which CI counts as a failure
(tests/conftest.py): there they must run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from offload import create_app
from offload.core.db import db
from tests.support.app import DATABASE_URL_ENV, app_config
from tests.support.gunicorn import ROOT, running_gunicorn
from tests.support.smtp import SMTPServer, free_port

SECRET = "several-hosts-secret"
# failed log-ins one account may have from one address (LOGIN_LIMIT_PER_ACCOUNT): low, so
# the test reaches it; the per-address limit high, so the other log-ins never do
FAILED_LOGINS_ALLOWED = 5


@pytest.fixture(autouse=True)
def _app_context():
    """Nothing: these tests build and read their own database (below), not the suite's,
    and run ``flask ledger check`` on it themselves (test_deployment_docs.py reads files)."""
    yield


@dataclass
class Cluster:
    instances: list[str]  # the two gunicorn instances' base URLs
    servers: list[subprocess.Popen]  # their masters
    workers: list[subprocess.Popen]  # the two ``flask jobs worker`` processes
    worker_logs: list[Path]
    smtp: SMTPServer
    redis_port: int
    app: object  # an app on the same database, for making and reading rows here
    env: dict[str, str]  # what ``flask`` commands run with (DATABASE_URL, mail, ...)

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args],
                              cwd=ROOT, env=self.env, capture_output=True, text=True,
                              timeout=120)

    def stop_workers(self) -> list[int]:
        """SIGTERM both workers (each finishes what it holds); their exit statuses."""
        for worker in self.workers:
            stop(worker)
        return [worker.returncode for worker in self.workers]

    def job_lines(self) -> list[dict]:
        """The workers' JSON log lines, both workers' together."""
        return [json.loads(line) for log in self.worker_logs
                for line in log.read_text().splitlines() if line.startswith("{")]


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM, and SIGKILL if it has not exited within ``timeout``."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until(ready, what: str, process: subprocess.Popen, log: Path,
                timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start_redis(stack: ExitStack, tmp_path: Path) -> int:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs Debian's redis-server (apt-get install redis-server)")
    port, log = free_port(), tmp_path / "redis.log"
    with log.open("wb") as out:
        redis = subprocess.Popen(
            [server, "--save", "", "--appendonly", "no", "--port", str(port),
             "--bind", "127.0.0.1", "--dir", str(tmp_path)], stdout=out, stderr=out)
    stack.callback(stop, redis)
    _wait_until(lambda: _answers_ping(port), "redis-server", redis, log)
    return port


def _fresh_database(stack: ExitStack) -> str:
    base = os.environ.get(DATABASE_URL_ENV) or ""
    if not base.startswith("postgresql"):
        pytest.skip(f"needs PostgreSQL: set {DATABASE_URL_ENV}=postgresql+psycopg://... "
                    "(.ci/run starts a throwaway cluster)")
    url = make_url(base).set(database=f"offload_hosts_{secrets.token_hex(4)}")
    admin = create_engine(make_url(base), isolation_level="AUTOCOMMIT")
    stack.callback(admin.dispose)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{url.database}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))

    stack.callback(drop)
    return url.render_as_string(hide_password=False)


def _start_worker(stack: ExitStack, env: dict, log: Path) -> subprocess.Popen:
    """A ``flask jobs worker``, started (``_wait_for_worker`` waits until it listens)."""
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "jobs",
                                   "worker"], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    stack.callback(stop, worker)
    return worker


def _wait_for_worker(worker: subprocess.Popen, log: Path) -> None:
    _wait_until(lambda: "started: LISTEN" in log.read_text(), "flask jobs worker", worker, log)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[Cluster]:
    tmp_path = tmp_path_factory.mktemp("hosts")
    with ExitStack() as stack:
        database_url = _fresh_database(stack)
        redis_port = _start_redis(stack, tmp_path)
        smtp = stack.enter_context(SMTPServer())
        redis = f"redis://127.0.0.1:{redis_port}"
        env = {**os.environ, "DATABASE_URL": database_url, "OFFLOAD_SECRET_KEY": SECRET,
               "OFFLOAD_INSTANCE_PATH": str(tmp_path / "worker"),
               "OFFLOAD_CANONICAL_URL": "https://offload.example",
               "OFFLOAD_LOG_FORMAT": "json", "OFFLOAD_MAIL_BACKEND": "smtp",
               "OFFLOAD_MAIL_SERVER": "127.0.0.1", "OFFLOAD_MAIL_PORT": str(smtp.port)}
        upgraded = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db",
                                   "upgrade"], cwd=ROOT, env=env, capture_output=True,
                                  text=True, timeout=120)
        assert upgraded.returncode == 0, upgraded.stderr[-3000:]

        # the workers load while the gunicorns do (each process loads the app: seconds)
        logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
        workers = [_start_worker(stack, env, log) for log in logs]
        app = create_app(app_config(tmp_path / "here", SQLALCHEMY_DATABASE_URI=database_url))
        stack.callback(lambda: _dispose(app))
        servers, instances = [], []
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            base, server = stack.enter_context(running_gunicorn(
                app, tmp_path / name, tmp_path / f"gunicorn-{name}.log", WEB_CONCURRENCY="2",
                OFFLOAD_SECRET_KEY=SECRET, OFFLOAD_LOG_FORMAT="json",
                OFFLOAD_RATELIMIT_STORAGE_URI=f"{redis}/0",
                OFFLOAD_CACHE_REDIS_URL=f"{redis}/1",
                OFFLOAD_LOGIN_LIMIT_PER_ADDRESS="1000 per minute",
                OFFLOAD_LOGIN_LIMIT_PER_ACCOUNT=f"{FAILED_LOGINS_ALLOWED} per 15 minutes",
                OFFLOAD_CANONICAL_URL="https://offload.example"))
            servers.append(server)
            instances.append(base)
        for worker, log in zip(workers, logs, strict=True):
            _wait_for_worker(worker, log)
        yield Cluster(instances=instances, servers=servers, workers=workers,
                      worker_logs=logs, smtp=smtp, redis_port=redis_port, app=app, env=env)


def _dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
