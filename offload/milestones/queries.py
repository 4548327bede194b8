"""Reading milestones."""

from __future__ import annotations

from sqlalchemy import select

from offload.core.db import db

from .models import Milestone


def milestones_of(project_id: int) -> list[Milestone]:
    """A project's milestones in the order they were added; one query (at most
    MILESTONES_MAX rows)."""
    return list(db.session.scalars(select(Milestone).where(Milestone.project_id == project_id)
                                   .order_by(Milestone.created_at, Milestone.id)))
