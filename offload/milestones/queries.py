"""Reading milestones."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import aliased, joinedload, selectinload

from offload.accounts.models import User
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor
from offload.gigs.models import Gig
from offload.offers.models import OfferMessage
from offload.projects.models import Project, ProjectEvent, ProjectEventFile

from .models import Dispute, Milestone


def milestones_of(project_id: int) -> list[Milestone]:
    """A project's milestones in the order they were added; one query (at most
    MILESTONES_MAX rows)."""
    return list(db.session.scalars(select(Milestone).where(Milestone.project_id == project_id)
                                   .order_by(Milestone.created_at, Milestone.id)))


def delivery_files_of(project_id: int) -> dict[int, list[ProjectEventFile]]:
    """The files delivered for each of the project's milestones (every delivery, oldest
    first), by milestone id; one query."""
    files: dict[int, list[ProjectEventFile]] = {}
    for f in db.session.scalars(
            select(ProjectEventFile).join(Milestone, Milestone.id == ProjectEventFile.milestone_id)
            .where(Milestone.project_id == project_id).order_by(ProjectEventFile.id)):
        files.setdefault(f.milestone_id, []).append(f)
    return files


def disputes_of(project_id: int) -> dict[int, Dispute]:
    """The project's disputes by milestone id; one query."""
    return {d.milestone_id: d for d in db.session.scalars(
        select(Dispute).where(Dispute.project_id == project_id))}


class QueuedDispute(NamedTuple):
    """A line of the admin's dispute queue."""

    id: int
    created_at: datetime  # opened: how long it has waited
    project_id: int
    gig_title: str
    milestone_title: str
    amount_minor: int
    poster_name: str  # the customer
    performer_name: str


def open_disputes_page(cursor: str | None = None, size: int | None = None) -> Page:
    """Open disputes, oldest first (the admin queue), with their gig, milestone and both
    parties; one query a page, keyset on (created_at, id) along ix_disputes_open. A
    malformed cursor starts from the oldest."""
    size = size or current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    params = {"limit": size + 1}
    if key:
        params.update(after_at=key[0], after_id=key[1])
    rows = [QueuedDispute(*row) for row in
            db.session.execute(_open_disputes_statement(key is not None), params)]
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, is_first=key is None,
                next_cursor=encode_cursor(rows[-1].created_at, rows[-1].id) if more else None)


def _name(user) -> ColumnElement[str]:
    """User.name in SQL: the display name, else the username."""
    return func.coalesce(func.nullif(user.display_name, ""), user.username)


@lru_cache(maxsize=2)
def _open_disputes_statement(paged: bool) -> Select:
    poster, performer = aliased(User), aliased(User)
    stmt = (select(Dispute.id, Dispute.created_at, Project.id, Gig.title, Milestone.title,
                   Milestone.amount_minor,
                   _name(poster), _name(performer))
            .join(Milestone, Milestone.id == Dispute.milestone_id)
            .join(Project, Project.id == Dispute.project_id)
            .join(Gig, Gig.id == Project.gig_id)
            .join(poster, poster.id == Project.poster_id)
            .join(performer, performer.id == Project.performer_id)
            .where(Dispute.resolved_at.is_(None))
            .order_by(Dispute.created_at, Dispute.id).limit(bindparam("limit")))
    if paged:
        stmt = stmt.where(tuple_(Dispute.created_at, Dispute.id) > tuple_(
            bindparam("after_at", type_=Dispute.created_at.type), bindparam("after_id")))
    return stmt


def dispute_evidence(dispute: Dispute) -> dict:
    """What an admin reads before resolving: the milestone, the project with its parties,
    the whole timeline with its files and the whole conversation (oldest first). Seven
    queries."""
    milestone = db.session.get(Milestone, dispute.milestone_id)
    project = db.session.scalar(
        select(Project).where(Project.id == dispute.project_id)
        .options(joinedload(Project.gig), joinedload(Project.poster),
                 joinedload(Project.performer)))
    events = list(db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id)
        .options(joinedload(ProjectEvent.actor), selectinload(ProjectEvent.files))
        .order_by(ProjectEvent.created_at, ProjectEvent.id)))
    messages = list(db.session.scalars(
        select(OfferMessage).where(OfferMessage.offer_id == project.offer_id)
        .options(joinedload(OfferMessage.sender), selectinload(OfferMessage.attachments))
        .order_by(OfferMessage.created_at, OfferMessage.id)))
    return {"milestone": milestone, "project": project, "events": events,
            "messages": messages}
