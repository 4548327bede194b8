"""``flask jobs ...``: the worker, and the cron entry point.

``flask jobs worker`` is the long-running process that sends mail as soon as it is
committed and runs the periodic jobs on their schedule (``worker.py``); SIGTERM or
SIGINT stops it cleanly, with exit status 0.

``flask jobs run`` runs every job in ``registry.JOBS`` once, for cron; each periodic
job under its claim, so a job a worker (or another cron host) is running is skipped.
A job that raises is logged and the others still run, and the exit status is 1 so
cron reports it. A job that loses a race on PostgreSQL is re-run (``runner.run_job``).
"""

from __future__ import annotations

import logging
import signal

import click
from flask import current_app
from flask.cli import AppGroup

from offload.core.logs import log_context
from offload.notifications.services import deliver_outbox

from . import registry
from .runner import run_claimed, run_job
from .worker import Worker

log = logging.getLogger("offload.jobs")

jobs_cli = AppGroup("jobs", help="The mail worker and the periodic jobs.")


@jobs_cli.command("worker")
@click.option("--poll", type=float, default=None,
              help="Seconds between looks for work when not woken "
                   "(default: WORKER_POLL_SECONDS, on SQLite WORKER_SQLITE_POLL_SECONDS).")
def worker_command(poll: float | None) -> None:
    """Send mail as it is queued and run the periodic jobs, until SIGTERM or SIGINT."""
    worker = Worker(current_app._get_current_object(), poll_seconds=poll)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda number, _frame: worker.stop(signal.Signals(number).name))
    worker.run()


@jobs_cli.command("run")
def run_command() -> None:
    """Run every job once, printing one line per job."""
    failed = [job.name for job in registry.JOBS if not _run(job)]
    if failed:
        raise click.exceptions.Exit(1)


@jobs_cli.command("deliver-mail")
@click.option("--limit", default=100, show_default=True, help="Most e-mails to send.")
def deliver_mail_command(limit: int) -> None:
    """Send the outbox e-mails that are due."""
    click.echo(f"deliver_outbox: {deliver_outbox(limit=limit)}")


def _run(job: registry.Job) -> bool:
    try:
        with log_context(job=job.name):  # on every line the job logs
            summary = run_claimed(job, on_schedule=False) if job.is_periodic else run_job(job)
    except Exception:
        # one broken job must not stop the others (mail keeps flowing)
        log.exception("job %s failed", job.name, extra={"job": job.name})
        click.echo(f"{job.name}: FAILED (see the log)", err=True)
        return False
    click.echo(f"{job.name}: {summary if summary is not None else 'skipped, running elsewhere'}")
    return True
