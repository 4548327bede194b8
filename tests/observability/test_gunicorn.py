"""Under gunicorn (gunicorn.conf.py): the request counts of every worker in one scrape
(prometheus_client's multiprocess mode), and JSON log lines with request ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.support.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "gunicorn-scrape-token"


def _get(url: str, **headers: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_one_scrape_counts_the_requests_of_every_worker(app, tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "histogram_999999.db").write_bytes(b"stale")  # a previous run's: removed
    env = {**os.environ, "OFFLOAD_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "OFFLOAD_SECRET_KEY": "gunicorn-test-secret", "OFFLOAD_MAIL_BACKEND": "log",
           "OFFLOAD_INSTANCE_PATH": str(tmp_path), "WEB_CONCURRENCY": "2",
           "OFFLOAD_METRICS_TOKEN": TOKEN, "OFFLOAD_LOG_FORMAT": "json",
           "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    env.pop("DATABASE_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=out)
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
        for _ in range(20):  # sync workers: spread over both
            assert _get(base + "/healthz")[0] == 200
        ids = {_get(base + "/healthz")[2]["X-Request-ID"] for _ in range(2)}
        assert len(ids) == 2  # two requests, two ids
        assert _get(base + "/metrics")[0] == 401
        status, body, _ = _get(base + "/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(body) for s in family.samples}
    healthz = ("offload_request_duration_seconds_count",
               (("endpoint", "pages.healthz"), ("method", "GET"), ("status", "200")))
    assert samples[healthz] == 23  # the first probe, 20, and 2: across both workers
    assert not (metrics_dir / "histogram_999999.db").exists()
    lines = [json.loads(line) for line in log.read_text().splitlines()
             if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "offload.requests"]
    assert {line["endpoint"] for line in requests} >= {"pages.healthz",
                                                      "observability.metrics"}
    assert all(len(line["request_id"]) == 32 for line in requests)
