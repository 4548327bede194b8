"""``flask jobs worker``: the long-running process that sends mail and runs the jobs.

Each pass: resolve waiting password resets, deliver the outbox and the webhooks, run
the periodic jobs that are due (each under its claim), and deliver again what they
queued. Then it
waits: on PostgreSQL for a NOTIFY on ``WORK_CHANNEL`` (sent by every transaction that
queues mail, delivered when it commits) or WORKER_POLL_SECONDS; on SQLite for
WORKER_SQLITE_POLL_SECONDS. It listens before its first pass, so a mail committed
while it works wakes it again.

Each line logged while it resolves resets, delivers or runs a job carries the job's
name (``job``), and each about one letter or webhook its row (``outbox_id``,
``webhook_delivery_id``): ``offload.core.logs.log_context``.

Any number of workers, on any number of hosts, may run beside each other and beside
cron's ``flask jobs run``: every outbox row, reset request and periodic job is
claimed in the database before it is worked on, so none is done twice.

``stop()`` (SIGTERM, SIGINT) makes it take no new work: the letter being sent or
the job running finishes, its claim is released, and ``run()`` returns.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterable

import psycopg
from flask import Flask
from sqlalchemy.engine import make_url

from offload.accounts.services import resolve_password_resets
from offload.core.db import db
from offload.core.logs import log_context
from offload.notifications.services import WORK_CHANNEL, deliver_outbox
from offload.webhooks.services import deliver_webhooks

from . import registry
from .runner import run_claimed

log = logging.getLogger("offload.jobs.worker")

BATCH = 50  # mail rows per step: short steps notice stop() and new work sooner
SLICE_SECONDS = 0.1  # how often a waiting worker checks whether it was told to stop
# webhooks sent per step, at most (plus one POST's WEBHOOK_TIMEOUT_SECONDS): then mail
# and resets have their turn, however slow the receivers
WEBHOOK_SLICE_SECONDS = 10.0


class Worker:
    def __init__(self, app: Flask, *, jobs: Iterable[registry.Job] | None = None,
                 poll_seconds: float | None = None):
        self.app = app
        self.jobs = tuple(registry.JOBS if jobs is None else jobs)
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.postgresql = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() \
            == "postgresql"
        self.poll_seconds = poll_seconds if poll_seconds is not None else app.config[
            "WORKER_POLL_SECONDS" if self.postgresql else "WORKER_SQLITE_POLL_SECONDS"]
        self.stopping = False
        self.listening = False  # True once LISTEN is in place (tests wait for it)

    def stop(self, reason: str = "asked to") -> None:
        """Take no new work; ``run()`` returns once the current letter or job is done."""
        if not self.stopping:
            log.info("worker %s stopping (%s): finishing the current work", self.name, reason)
        self.stopping = True

    def keep_going(self) -> bool:
        return not self.stopping

    def run(self) -> None:
        """Work and wait until ``stop()``; needs no app context (it pushes its own)."""
        listener: psycopg.Connection | None = None
        with self.app.app_context():
            if self.postgresql:
                try:  # before the first pass, so no commit during it goes unheard
                    listener = self._listen()
                except psycopg.Error:  # the database is not up yet: the loop retries
                    log.exception("worker %s: LISTEN failed; polling meanwhile", self.name)
            log.info("worker %s started: %s", self.name,
                     f"LISTEN {WORK_CHANNEL}, polling every {self.poll_seconds:g} s"
                     if self.postgresql else f"polling every {self.poll_seconds:g} s")
            try:
                while not self.stopping:
                    try:
                        self.run_once()
                    except Exception:
                        # the database may be away for a moment: log, wait, go on
                        log.exception("worker %s: a pass failed; trying again", self.name)
                    finally:
                        db.session.remove()
                    try:
                        if self.postgresql and listener is None:
                            listener = self._listen()
                        self._wait(listener)
                    except psycopg.Error:
                        # the LISTEN connection broke (a restart): poll, then listen again
                        log.exception("worker %s: LISTEN failed; polling meanwhile", self.name)
                        if listener is not None:
                            listener.close()
                        listener, self.listening = None, False
                        self._wait(None)
            finally:
                if listener is not None:
                    listener.close()
                self.listening = False
        log.info("worker %s stopped", self.name)

    def run_once(self) -> None:
        """One pass over all the work that is due now (inside an app context); a step
        that fails is logged and the others still run."""
        self._deliver_mail_logged()
        for job in self.jobs:
            if self.stopping:
                return
            if job.is_periodic:  # the mail jobs are deliver_mail()
                self._run_periodic(job)
        self._deliver_mail_logged()

    def _deliver_mail_logged(self) -> None:
        try:
            self.deliver_mail()
        except Exception:
            db.session.rollback()
            log.exception("worker %s: delivering mail failed; the jobs still run", self.name)

    def deliver_mail(self) -> None:
        """Resolve reset requests, send due mail and webhooks until none is left (or
        stop()); webhooks in slices of WEBHOOK_SLICE_SECONDS, each POST within its
        deadline, so slow receivers delay mail by seconds, not a whole batch."""
        while not self.stopping:
            with log_context(job="resolve_password_resets"):
                resets = resolve_password_resets(limit=BATCH)
                if resets.queued:
                    log.info("resolve_password_resets: queued %d password reset mails",
                             resets.queued)
            with log_context(job="deliver_outbox"):
                report = deliver_outbox(limit=BATCH, keep_going=self.keep_going)
                if report.sent or report.failed or report.given_up:
                    log.info("deliver_outbox: %s", report)
            with log_context(job="deliver_webhooks"):
                hooks = deliver_webhooks(limit=BATCH,
                                         keep_going=self._for(WEBHOOK_SLICE_SECONDS))
                if hooks.attempted:
                    log.info("deliver_webhooks: %s", hooks)
            mailed = report.sent or report.failed or report.given_up
            # requests for unknown addresses queue nothing, but a full batch means more wait
            # (a failed webhook holds its endpoint back, so it is not tried again at once)
            if not mailed and not resets.queued and resets.handled < BATCH \
                    and not hooks.attempted:
                return

    def _for(self, seconds: float):
        """A ``keep_going`` that also says no once ``seconds`` have passed."""
        until = time.monotonic() + seconds
        return lambda: self.keep_going() and time.monotonic() < until

    def _run_periodic(self, job: registry.Job) -> None:
        with log_context(job=job.name):  # on every line the job logs
            try:
                summary = run_claimed(job)
            except Exception:
                log.exception("job %s failed", job.name)
                return
            if summary is not None:
                log.info("%s: %s", job.name, summary)

    # --- waiting -----------------------------------------------------------------

    def _listen(self) -> psycopg.Connection:
        # a connection of its own, outside the pool: it stays in LISTEN for the worker's life
        conninfo = db.engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        conn = psycopg.connect(conninfo, autocommit=True)
        conn.execute(f"LISTEN {WORK_CHANNEL}")
        self.listening = True
        return conn

    def _wait(self, listener: psycopg.Connection | None) -> None:
        """Until there may be work: a NOTIFY, the poll interval, or stop()."""
        deadline = time.monotonic() + self.poll_seconds
        while not self.stopping:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if listener is None:
                time.sleep(min(SLICE_SECONDS, left))
                continue
            woken = False
            for _ in listener.notifies(timeout=min(SLICE_SECONDS, left)):
                woken = True  # drain: several commits need only one pass
            if woken:
                return
