"""What an operator sees of the running site: logs, metrics, errors and readiness.

- ``logging.py``: the root handler, JSON lines (``LOG_FORMAT=json``, production's
  default) or key=value text (development, tests); a request id on every request
  (``X-Request-ID``: a trusted proxy's, else a new one), returned on every response,
  on every line logged meanwhile and on the error pages; one line per request in JSON.
- ``metrics.py``: Prometheus, at ``/metrics`` behind ``METRICS_TOKEN``: request latency
  by endpoint and status (summed over gunicorn's workers through
  ``PROMETHEUS_MULTIPROC_DIR``), and gauges read at scrape time from the features'
  ``queries.py`` (outbox backlog, failed deliveries, job successes, open disputes,
  overdue commissions).
- ``sentry.py``: errors to Sentry when ``SENTRY_DSN`` is set, scrubbed of e-mail
  addresses, bodies, cookies, every header but a harmless few, and outgoing URLs'
  paths; not even imported otherwise.
- ``views.py``: ``/readyz`` (the database answers and is at the migrations' head) and
  ``/metrics``.

It reads the features' queries and imports no service; nothing imports it but
``create_app``, which calls ``init_observability`` first, so that its request hooks
run around all the others.
"""

from __future__ import annotations

from flask import Flask

from .logging import init_logging, init_request_ids
from .metrics import init_metrics
from .sentry import init_sentry
from .views import bp, init_readiness


def init_observability(app: Flask) -> None:
    init_logging(app)
    init_sentry(app)
    init_request_ids(app)
    init_metrics(app)
    init_readiness(app)
    app.register_blueprint(bp)
