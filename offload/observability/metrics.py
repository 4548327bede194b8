"""Prometheus metrics, for ``/metrics`` (``views.py``).

- ``offload_request_duration_seconds``: a histogram of each request's time in the app,
  labelled with the Flask endpoint (never the raw path: a path may carry a token, and
  each id would be a series of its own; ``none`` when no route matched), the method
  (one of ``COUNTED_METHODS``, else ``other``: gunicorn passes on any token of 3 to 20
  capitals, and each would be a series of its own) and the status the client got.
- Gauges computed when scraped (``OffloadCollector``), each one cheap COUNT through a
  feature's read model: each outbox's backlog and its oldest row's age, its failed
  deliveries, each job's last success, open disputes, overdue commissions.

Under gunicorn each worker is a process with its own counts: with
``PROMETHEUS_MULTIPROC_DIR`` set (``gunicorn.conf.py`` sets it), prometheus_client keeps
them in files there and a scrape, whichever worker answers it, sums them all. The
directory must be empty when the server starts (gunicorn.conf.py sees to it) and is
read at import: it must be set before the app is loaded.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from offload.commissions.queries import overdue_commission_count
from offload.core.db import db, utcnow
from offload.jobs.queries import job_successes
from offload.milestones.queries import open_dispute_count
from offload.notifications.queries import DeliveryBacklog, mail_backlog
from offload.webhooks.queries import webhook_backlog

log = logging.getLogger("offload.observability")

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# Not in prometheus_client's default registry: each scrape builds its registry
# (``render_metrics``), from the processes' files under gunicorn, else from this object.
REQUEST_SECONDS = Histogram(
    "offload_request_duration_seconds", "Time a request spent in the app, in seconds.",
    ["endpoint", "method", "status"], registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))

# the methods with a label of their own; a client chooses the method, so any other
# (ZZZ0, ZZZ1, ...) is counted as "other" rather than growing the files and the scrape
COUNTED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# the token is the only lock on /metrics, compared in full on every scrape: it should be
# as hard to guess as a session key (``python -c "import secrets; print(secrets.token_hex())"``)
MIN_METRICS_TOKEN_LENGTH = 32


def init_metrics(app: Flask) -> None:
    token = str(app.config["METRICS_TOKEN"] or "")  # digits arrive parsed as a number
    if not token and app.config["PRODUCTION"]:
        log.warning("OFFLOAD_METRICS_TOKEN is not set: /metrics answers 404 until it is")
    elif token and len(token) < MIN_METRICS_TOKEN_LENGTH:
        log.warning("OFFLOAD_METRICS_TOKEN is shorter than %d characters: make a longer one "
                    "(secrets.token_hex())", MIN_METRICS_TOKEN_LENGTH)

    @app.after_request
    def _time_request(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            method = request.method if request.method in COUNTED_METHODS else "other"
            REQUEST_SECONDS.labels(request.endpoint or "none", method,
                                   str(response.status_code)).observe(
                time.perf_counter() - started)
        return response


def render_metrics() -> Response:
    registry = CollectorRegistry(auto_describe=False)
    if MULTIPROCESS:
        MultiProcessCollector(registry)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(OffloadCollector(current_app.config["OUTBOX_MAX_ATTEMPTS"]))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


class OffloadCollector:
    """The gauges read from the database at scrape time. If the database does not
    answer, they are left out (the scrape still shows the requests) and the failure is
    logged; ``offload_business_gauges_up`` says which."""

    def __init__(self, max_mail_attempts: int) -> None:
        self.max_mail_attempts = max_mail_attempts

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("offload_business_gauges_up",
                               "1 when the gauges below could be read from the database.")
        try:
            gauges = list(self._gauges())
        except Exception:
            db.session.rollback()
            log.exception("metrics: reading the gauges from the database failed")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from gauges

    def _gauges(self) -> Iterator[Metric]:
        now = utcnow()
        outboxes = {"mail": mail_backlog(self.max_mail_attempts), "webhook": webhook_backlog()}
        yield _by_outbox("offload_outbox_backlog",
                         "Rows waiting to be delivered (and still to be tried).",
                         outboxes, lambda b: b.waiting)
        yield _by_outbox("offload_outbox_oldest_age_seconds",
                         "Age of the oldest row waiting to be delivered (0: none waits).",
                         outboxes, lambda b: _age(b, now))
        yield _by_outbox("offload_failed_deliveries",
                         "Rows not delivered with at least one failed attempt "
                         "(mail given up included).", outboxes, lambda b: b.failed)
        jobs = GaugeMetricFamily("offload_job_last_success_timestamp_seconds",
                                 "When each periodic job last ended without an error "
                                 "(Unix time).", labels=["job"])
        for name, at in sorted(job_successes().items()):
            jobs.add_metric([name], at.timestamp())
        yield jobs
        yield GaugeMetricFamily("offload_open_disputes", "Milestone disputes not resolved.",
                                value=open_dispute_count())
        yield GaugeMetricFamily("offload_overdue_commissions",
                                "Due commissions past their due day.",
                                value=overdue_commission_count(now.date()))


def _by_outbox(name: str, documentation: str, outboxes: dict[str, DeliveryBacklog],
               value) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["outbox"])
    for outbox, backlog in outboxes.items():
        family.add_metric([outbox], value(backlog))
    return family


def _age(backlog: DeliveryBacklog, now) -> float:
    if backlog.oldest_at is None:
        return 0.0
    return max(0.0, (now - backlog.oldest_at).total_seconds())
