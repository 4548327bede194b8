"""Under gunicorn (gunicorn.conf.py): the request counts of every worker in one scrape
(prometheus_client's multiprocess mode), and JSON log lines with request ids."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from tests.support.gunicorn import running_gunicorn

TOKEN = "gunicorn-scrape-token"


def _get(url: str, **headers: str) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_one_scrape_counts_the_requests_of_every_worker(app, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "histogram_999999.db").write_bytes(b"stale")  # a previous run's: removed
    log = tmp_path / "gunicorn.log"
    with running_gunicorn(app, tmp_path, log, WEB_CONCURRENCY="2", OFFLOAD_METRICS_TOKEN=TOKEN,
                          OFFLOAD_LOG_FORMAT="json",
                          PROMETHEUS_MULTIPROC_DIR=str(metrics_dir)) as (base, _server):
        for _ in range(20):  # sync workers: spread over both
            assert _get(base + "/healthz")[0] == 200
        ids = {_get(base + "/healthz")[2]["X-Request-ID"] for _ in range(2)}
        assert len(ids) == 2  # two requests, two ids
        assert _get(base + "/metrics")[0] == 401
        status, body, _ = _get(base + "/metrics", Authorization=f"Bearer {TOKEN}")
        assert status == 200
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
