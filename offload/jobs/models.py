"""The claim each periodic job takes before it runs, shared by every runner.

Design: one row per job name. A runner (``flask jobs worker`` or ``flask jobs run``)
claims a job with one guarded UPDATE that sets ``locked_until`` (a lease) and, for the
worker, moves ``next_run_at`` on by the job's interval; the UPDATE matches only when
the job is due and nobody holds the lease, so however many runners there are on
however many hosts, one runs it per schedule and never two at once. The runner clears
the lease when the job ends; one that dies leaves it to expire after JOB_LEASE_SECONDS.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db


class JobRun(db.Model):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # the worker runs the job when this has passed (null: at once)
    next_run_at: Mapped[datetime | None]
    # a runner holds the job until then (null: nobody)
    locked_until: Mapped[datetime | None]
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    # when a run last ended without an error: kept through failed runs, so the metrics
    # show how long a job has been failing (``last_finished_at`` moves on every run)
    last_succeeded_at: Mapped[datetime | None]
    # the last run's one-line summary, or why it failed
    last_outcome: Mapped[str | None] = mapped_column(String(300))
