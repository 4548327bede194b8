"""A project: the awarded work between the gig's poster and its performer.

Design note
- One project per gig and per accepted offer (unique columns). It copies the terms
  agreed on the offer (price, days to deliver) when the award is accepted, so later
  changes to the offer's rows can't change what was agreed; ``due_on`` is the day the
  work is due (accepted day + days to deliver, UTC).
- ``ProjectState`` and ``PROJECT_TRANSITIONS`` are the lifecycle; the projects issue
  adds the moves (completion, cancellation) and the timeline.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.gigs.models import Gig


class ProjectState(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


PROJECT_TRANSITIONS = {
    ProjectState.ACTIVE: {ProjectState.COMPLETED, ProjectState.CANCELLED},
}


class Project(db.Model):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("state IN ('active', 'completed', 'cancelled')", name="state"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint("poster_id <> performer_id", name="two_parties"),
        Index("ix_projects_performer_created", "performer_id", "created_at", "id"),
        Index("ix_projects_poster_created", "poster_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"), unique=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), unique=True)
    poster_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    performer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # the gig's kind: referral or task
    state: Mapped[str] = mapped_column(String(16), default=ProjectState.ACTIVE)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    days_to_deliver: Mapped[int]
    due_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                       server_default=func.now())

    gig: Mapped[Gig] = relationship(lazy="raise")
    performer: Mapped[User] = relationship(foreign_keys=[performer_id], lazy="raise")
