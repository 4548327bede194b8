"""Running one job: its claim (``JobRun``), its retries, its outcome.

Shared by ``flask jobs run`` (cron) and ``flask jobs worker``. A periodic job runs
only under its claim, so two runners never run it at once; the worker's claim also
moves the job's next run on by its interval, so it runs once per interval however
many workers there are. The mail jobs need no job claim: each row they send or
resolve is claimed on its own.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, update

from offload.core.db import (
    MAX_ATTEMPTS,
    atomic,
    db,
    insert_ignoring_conflicts,
    is_retryable,
    utcnow,
)

from .models import JobRun
from .registry import Job

log = logging.getLogger("offload.jobs")

OUTCOME_MAX = 300


def claim_job(job: Job, *, now: datetime | None = None,
              on_schedule: bool = True) -> datetime | None:
    """Take the job's claim: the lease's end (this runner's token for ``release_job``)
    when this runner may run it now, else None.

    ``on_schedule`` (the worker): only when its next run is due. Otherwise (cron):
    whenever nobody else is running it. Either way the next run moves on by
    ``job.every``, so a cron run and a worker don't both run it in one interval.
    """
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["JOB_LEASE_SECONDS"])
    with atomic() as session:
        session.execute(insert_ignoring_conflicts(JobRun).values(name=job.name))
        until = now + lease
        claim = (update(JobRun).where(JobRun.name == job.name,
                                      or_(JobRun.locked_until.is_(None),
                                          JobRun.locked_until <= now))
                 .values(locked_until=until, last_started_at=now,
                         next_run_at=now + job.every))
        if on_schedule:
            claim = claim.where(or_(JobRun.next_run_at.is_(None), JobRun.next_run_at <= now))
        result = session.execute(claim.execution_options(synchronize_session=False))
        return until if result.rowcount == 1 else None


def release_job(job: Job, outcome: str, lease: datetime, *, succeeded: bool = False) -> None:
    """Give the claim back, noting how the run ended (and when, if ``succeeded``); only
    while it is still this runner's (``lease`` from ``claim_job``): a run that outlived
    its lease must not free the claim another runner has taken since."""
    now = utcnow()
    ended = {"last_succeeded_at": now} if succeeded else {}
    with atomic() as session:
        session.execute(update(JobRun).where(JobRun.name == job.name,
                                             JobRun.locked_until == lease)
                        .values(locked_until=None, last_finished_at=now,
                                last_outcome=outcome[:OUTCOME_MAX], **ended)
                        .execution_options(synchronize_session=False))


def run_job(job: Job) -> str:
    """Run the job, re-running it when it loses a race on PostgreSQL (serialization
    failure, deadlock) up to MAX_ATTEMPTS times as a request is: jobs pick up what is
    due, so a re-run redoes only what was rolled back. Returns its summary line."""
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


def run_claimed(job: Job, *, now: datetime | None = None, on_schedule: bool = True) -> str | None:
    """Run a periodic job under its claim; its summary, or None when it was not ours
    to run (not due, or running elsewhere). Raises what the job raised, claim released."""
    lease = claim_job(job, now=now, on_schedule=on_schedule)
    if lease is None:
        return None
    outcome = "FAILED: interrupted"  # a BaseException (KeyboardInterrupt) also releases
    succeeded = False
    try:
        summary = run_job(job)
        outcome, succeeded = summary, True
        return summary
    except Exception as error:
        outcome = f"FAILED: {type(error).__name__}: {error}"
        raise
    finally:
        db.session.rollback()
        release_job(job, outcome, lease, succeeded=succeeded)
