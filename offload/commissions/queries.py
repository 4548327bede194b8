"""Reading commissions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.gigs.models import Gig
from offload.projects.models import Project

from .models import Commission, CommissionState


def commission_of(project_id: int) -> Commission | None:
    return db.session.scalar(select(Commission).where(Commission.project_id == project_id))


def overdue_commissions(today: date | None = None, limit: int = 1000
                        ) -> list[tuple[Commission, str, str]]:
    """Due commissions past their due day, oldest first, with the payer's username and the
    gig's title; one query."""
    today = today or utcnow().date()
    return [tuple(row) for row in db.session.execute(
        select(Commission, User.username, Gig.title)
        .join(User, User.id == Commission.payer_id)
        .join(Project, Project.id == Commission.project_id)
        .join(Gig, Gig.id == Project.gig_id)
        .where(Commission.state == CommissionState.DUE, Commission.due_on < today)
        .order_by(Commission.due_on, Commission.id).limit(limit))]
