"""Reading milestones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, case, func, select, tuple_
from sqlalchemy.orm import aliased, joinedload, selectinload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.conversations.queries import whole_conversation
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor
from offload.gigs.models import Gig
from offload.projects.models import Project, ProjectEvent
from offload.projects.policies import can_view_project

from .models import (
    HELD_STATES,
    Dispute,
    Milestone,
    MilestoneState,
    PriceProposal,
    PriceProposalState,
)


@dataclass(frozen=True)
class PriceProgress:
    """Where a task project's milestones stand against its agreed price.

    paid: released milestones in full and the performer's part of a split (refunds and
    a split's returned part are not paid, and free that much to schedule again);
    held: funded, delivered or disputed (in escrow); draft: added, not funded.
    """

    price_minor: int
    paid_minor: int = 0
    held_minor: int = 0
    draft_minor: int = 0

    @property
    def scheduled_minor(self) -> int:
        return self.paid_minor + self.held_minor + self.draft_minor

    @property
    def unscheduled_minor(self) -> int:
        return max(0, self.price_minor - self.scheduled_minor)

    @property
    def floor_minor(self) -> int:
        """The lowest price the two sides may agree on: what is paid or in escrow."""
        return self.paid_minor + self.held_minor

    @property
    def is_paid_in_full(self) -> bool:
        """Paid reaches the price with nothing held or waiting: the project completes."""
        return (self.paid_minor >= self.price_minor and not self.held_minor
                and not self.draft_minor)


def _progress(price_minor: int, amounts: Iterable[tuple[str, int]]) -> PriceProgress:
    paid = held = draft = 0
    for state, amount in amounts:
        if state in (MilestoneState.RELEASED, MilestoneState.SPLIT):
            paid += amount
        elif state in HELD_STATES:
            held += amount
        elif state == MilestoneState.DRAFT:
            draft += amount
    return PriceProgress(price_minor, paid, held, draft)


def progress_of(project: Project, milestones: Iterable[Milestone],
                disputes: Mapping[int, Dispute]) -> PriceProgress:
    """The progress from milestones and disputes already loaded (the project page)."""
    return _progress(project.price_minor, (
        (m.state, disputes[m.id].released_minor if m.state == MilestoneState.SPLIT
         else m.amount_minor) for m in milestones))


def price_progress(project: Project) -> PriceProgress:
    """The progress of ``project`` against its current price; one query."""
    amount = case((Milestone.state == MilestoneState.SPLIT, Dispute.released_minor),
                  else_=Milestone.amount_minor)
    rows = db.session.execute(
        select(Milestone.state, func.coalesce(func.sum(amount), 0))
        .outerjoin(Dispute, Dispute.milestone_id == Milestone.id)
        .where(Milestone.project_id == project.id).group_by(Milestone.state)).all()
    return _progress(project.price_minor, ((state, int(total)) for state, total in rows))


def pending_price_proposal(project_id: int) -> PriceProposal | None:
    """The project's proposal of a lower price waiting for an answer (at most one)."""
    return db.session.scalar(select(PriceProposal).where(
        PriceProposal.project_id == project_id,
        PriceProposal.state == PriceProposalState.PENDING))


def milestone_for(viewer: User, milestone_id: int) -> Milestone:
    """The milestone, if ``viewer`` may see its project (a party or an admin); else
    NotFound, as for the project."""
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or not can_view_project(
            db.session.get(Project, milestone.project_id), viewer):
        raise NotFound()
    return milestone


def dispute_for(viewer: User, dispute_id: int) -> Dispute:
    """The dispute, if ``viewer`` may see its project; else NotFound."""
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not can_view_project(
            db.session.get(Project, dispute.project_id), viewer):
        raise NotFound()
    return dispute


def price_proposal_of(project_id: int, proposal_id: int) -> PriceProposal | None:
    """One of the project's price proposals, whatever its state; None if not the
    project's."""
    proposal = db.session.get(PriceProposal, proposal_id)
    return proposal if proposal is not None and proposal.project_id == project_id else None


def milestones_of(project_id: int) -> list[Milestone]:
    """A project's milestones in the order they were added; one query (at most
    MILESTONES_MAX rows)."""
    return list(db.session.scalars(select(Milestone).where(Milestone.project_id == project_id)
                                   .order_by(Milestone.created_at, Milestone.id)))


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
    """What an admin reads before resolving: the milestone, the project with its parties
    and its price progress, the whole timeline with its files and the whole conversation
    (oldest first). Eight queries."""
    milestone = db.session.get(Milestone, dispute.milestone_id)
    project = db.session.scalar(
        select(Project).where(Project.id == dispute.project_id)
        .options(joinedload(Project.gig), joinedload(Project.poster),
                 joinedload(Project.performer)))
    events = list(db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id)
        .options(joinedload(ProjectEvent.actor), selectinload(ProjectEvent.files))
        .order_by(ProjectEvent.created_at, ProjectEvent.id)))
    messages = whole_conversation(project.offer_id)
    return {"milestone": milestone, "project": project, "events": events,
            "messages": messages, "progress": price_progress(project)}
