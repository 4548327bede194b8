"""Reading the job claims (``JobRun``): for the operator's metrics."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from offload.core.db import db

from .models import JobRun


def job_successes() -> dict[str, datetime]:
    """Each job that has ever run without an error, and when that last ended."""
    return dict(db.session.execute(
        select(JobRun.name, JobRun.last_succeeded_at)
        .where(JobRun.last_succeeded_at.is_not(None))).all())
