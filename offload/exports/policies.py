"""Whether a member may ask for an export now, and if not, why, said plainly."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from offload.core.db import db

from .models import RUNNING_STATES, DataExport
from .queries import next_request_at

RUNNING = ("Your export is being prepared already: we e-mail you a link as soon as it "
           "is ready.")


def why_cannot_request_export(member_id: int) -> str | None:
    """None when the member may ask for an export now; otherwise why not: one of theirs
    still waiting or being built, or the limit of one per EXPORT_EVERY_MINUTES (with
    when they may ask again). ``request_export`` asks again inside its transaction."""
    if db.session.scalar(select(DataExport.id).where(
            DataExport.user_id == member_id, DataExport.state.in_(RUNNING_STATES))):
        return RUNNING
    every = timedelta(minutes=current_app.config["EXPORT_EVERY_MINUTES"])
    allowed_at = next_request_at(member_id, every)
    return None if allowed_at is None else _too_soon(allowed_at, every)


def _too_soon(allowed_at: datetime, every: timedelta) -> str:
    minutes = int(every.total_seconds() // 60)
    period = "an hour" if minutes == 60 else f"every {minutes} minutes"
    return (f"You can ask for one export {period}. You can ask for the next one at "
            f"{allowed_at:%H:%M} UTC.")
