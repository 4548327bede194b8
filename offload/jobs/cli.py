"""``flask jobs ...``: the cron entry point.

``flask jobs run`` runs every job in ``registry.JOBS`` once; a job that raises is
logged and the others still run, and the exit status is 1 so cron reports it. A job
that loses a race on PostgreSQL (serialization failure, deadlock) is re-run, up to
MAX_ATTEMPTS times as a request is: jobs pick up what is due, so a re-run redoes only
what was rolled back. (Jobs whose units of work are ``transactional``, such as the gig
expiry, already retry each unit; this covers the rest.)
"""

from __future__ import annotations

import logging

import click
from flask.cli import AppGroup

from offload.core.db import MAX_ATTEMPTS, db, is_retryable
from offload.notifications.services import deliver_outbox

from . import registry

log = logging.getLogger("offload.jobs")

jobs_cli = AppGroup("jobs", help="Periodic jobs (run `flask jobs run` from cron every minute).")


@jobs_cli.command("run")
def run_command() -> None:
    """Run every periodic job once, printing one line per job."""
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
        summary = _run_retrying(job)
    except Exception:
        # one broken job must not stop the others (mail keeps flowing)
        log.exception("job %s failed", job.name)
        click.echo(f"{job.name}: FAILED (see the log)", err=True)
        return False
    click.echo(f"{job.name}: {summary}")
    return True


def _run_retrying(job: registry.Job) -> str:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return job.run()
        except Exception as error:
            if attempt == MAX_ATTEMPTS or not is_retryable(error):
                raise
            db.session.rollback()
            log.warning("retrying job %s after a serialization failure or deadlock "
                        "(attempt %d)", job.name, attempt)
    raise AssertionError("unreachable")
