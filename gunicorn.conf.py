"""Gunicorn's settings for Offload: ``gunicorn -c gunicorn.conf.py wsgi:app`` (the
README's production command and ``make bench`` both use this file).

- The app is loaded once in the master (``preload_app``) and the workers are forked from
  it, so they share its memory pages and start at once; a deploy restarts the master.
- Garbage collection: the objects the app loads at start (modules, routes, templates,
  the compiled statements) live for the whole process. ``gc.freeze()`` before the fork
  moves them out of the collector's sight, so a full collection in a worker scans what
  requests made, not the whole app: it cost ~110 ms of CPU every ~350 requests, which
  showed up as p99. The collector stays off in the master while the app loads (nothing
  there is garbage yet) and is switched on in each worker.
- Workers: sync workers, ``WEB_CONCURRENCY`` or (2 × cores) + 1, gunicorn's own rule of
  thumb: a page is mostly Python (CPU) with short waits on the database.
- Metrics: each worker counts its requests in files under ``PROMETHEUS_MULTIPROC_DIR``
  (prometheus_client's multiprocess mode) and ``/metrics`` sums them, whichever worker
  answers the scrape. The directory must be set before the app is loaded and empty
  when the server starts (files of an earlier run would be counted again): a new
  temporary one unless the environment names one, which is emptied here. A worker
  that exits is marked dead (``child_exit``).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("OFFLOAD_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or 0) or 2 * len(os.sched_getaffinity(0)) + 1
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 30
# one access line per request is the proxy's job; errors still go to stderr
accesslog = os.environ.get("OFFLOAD_ACCESS_LOG") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

_made_metrics_dir = None
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    for stale in Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).glob("*.db"):
        stale.unlink()
else:
    _made_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="offload-metrics-")

# off while the master loads the app: everything it makes lives as long as the process
gc.disable()


def pre_fork(server, worker) -> None:
    """In the master, before each worker is forked: what the app loaded is frozen into
    the permanent generation, so no collection in any worker scans it again."""
    gc.freeze()


def post_fork(server, worker) -> None:
    """In each new worker: the collector back on, and no database connection inherited
    from the master (two processes on one socket corrupt it; SQLAlchemy's advice)."""
    gc.enable()
    from offload.core.db import db

    with worker.app.wsgi().app_context():
        db.engine.dispose(close=False)


def child_exit(server, worker) -> None:
    """In the master, when a worker has exited: its live-only samples are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    """The metrics directory made for this run goes with it."""
    if _made_metrics_dir:
        shutil.rmtree(_made_metrics_dir, ignore_errors=True)
