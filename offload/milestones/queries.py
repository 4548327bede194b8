"""Reading milestones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from offload.core.db import db
from offload.core.pagination import Page
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


def open_disputes_page(cursor_id: int | None = None, size: int = 20) -> Page:
    """Open disputes, oldest first (the admin queue); a page at a time by id."""
    stmt = select(Dispute).where(Dispute.resolved_at.is_(None)).order_by(Dispute.id)
    if cursor_id:
        stmt = stmt.where(Dispute.id > cursor_id)
    rows = list(db.session.scalars(stmt.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, next_cursor=str(rows[-1].id) if more else None,
                is_first=not cursor_id)


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
