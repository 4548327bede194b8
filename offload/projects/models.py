"""A project: the awarded work between the gig's poster and its performer.

Design note
- One project per gig and per accepted offer (unique columns). It copies the terms
  agreed on the offer (price, days to deliver) when the award is accepted, so later
  changes to the offer's rows can't change what was agreed; ``due_on`` is the day the
  work is due (accepted day + days to deliver, UTC).
- ``ProjectState`` and ``PROJECT_TRANSITIONS`` are the lifecycle: a referral project
  completes when the performer settles it (``commissions``), a task project when its
  released milestones add up to the price or it closes short; a task project is
  cancelled when it is called off, or when an admin's dispute decision ends it with
  nothing paid (``milestones``).
- The timeline is ``ProjectEvent`` rows, never edited: automatic ones (awarded,
  accepted, ...) with no note, and ones a party posts with a note.
  ``last_event_at`` repeats the newest event's time on the project, so "no event for
  N days" (stalling) is one indexed comparison; ``stall_notified_at`` is when the
  referrer was last told, so they are told once per stall.
- ``ProjectEventFile`` rows are files that came with an event (the work handed over
  with a milestone delivery), kept like the event itself.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.uploads import StoredFileColumns
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
        # the stalling job: active projects by the time of their newest event
        Index("ix_projects_state_last_event", "state", "last_event_at"),
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
    last_event_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    stall_notified_at: Mapped[datetime | None]

    gig: Mapped[Gig] = relationship(lazy="raise")
    poster: Mapped[User] = relationship(foreign_keys=[poster_id], lazy="raise")
    performer: Mapped[User] = relationship(foreign_keys=[performer_id], lazy="raise")

    def is_party(self, user: User | None) -> bool:
        return user is not None and user.id in (self.poster_id, self.performer_id)

    def other_party_id(self, user: User) -> int:
        """The party who isn't ``user`` (the poster, unless ``user`` is the poster)."""
        return self.performer_id if user.id == self.poster_id else self.poster_id


class EventKind(StrEnum):
    # automatic
    AWARDED = "awarded"
    ACCEPTED = "accepted"
    COMPLETED = "completed"
    INVOICED = "invoiced"
    COMMISSION_PAID = "commission_paid"
    MILESTONE_FUNDED = "milestone_funded"
    DELIVERED = "delivered"
    RELEASED = "released"
    REVISION_REQUESTED = "revision_requested"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    DISPUTE_OPENED = "dispute_opened"
    DISPUTE_RESOLVED = "dispute_resolved"
    PRICE_PROPOSED = "price_proposed"  # a lower price, to close a task project short
    PRICE_ACCEPTED = "price_accepted"
    PRICE_DECLINED = "price_declined"
    PRICE_WITHDRAWN = "price_withdrawn"
    # posted by either party, with a note
    CLIENT_CONTACTED = "client_contacted"
    WORK_STARTED = "work_started"
    UPDATE = "update"
    ISSUE_RAISED = "issue_raised"
    ISSUE_RESOLVED = "issue_resolved"
    DEADLINE_CHANGED = "deadline_changed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# what a party may post on the timeline (the rest the services write)
POSTED_KINDS = (EventKind.CLIENT_CONTACTED, EventKind.WORK_STARTED, EventKind.UPDATE,
                EventKind.ISSUE_RAISED, EventKind.ISSUE_RESOLVED, EventKind.DEADLINE_CHANGED)
EVENT_NOTE_MAX = 4000
EVENT_FILES_MAX = 5  # files with one delivery


class ProjectEvent(db.Model):
    __tablename__ = "project_events"
    __table_args__ = (
        CheckConstraint("kind IN (" + ", ".join(repr(k.value) for k in EventKind) + ")",
                        name="kind"),
        # the timeline, newest first, a page at a time
        Index("ix_project_events_project_created", "project_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the site
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    actor: Mapped[User | None] = relationship(lazy="raise")
    files: Mapped[list[ProjectEventFile]] = relationship(
        order_by="ProjectEventFile.id", lazy="raise", viewonly=True)

    @property
    def label(self) -> str:
        return EventKind(self.kind).label


class ProjectEventFile(StoredFileColumns, db.Model):
    """A file handed over with a timeline event (the document upload limits)."""

    __tablename__ = "project_event_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("project_events.id"), index=True)
    # the milestone the files were delivered for, so its card can list them
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
