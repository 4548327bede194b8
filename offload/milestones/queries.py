"""Reading milestones."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    func,
    select,
    tuple_,
)
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


def progress_of(project: Project, milestones: Iterable[MilestoneLine]) -> PriceProgress:
    """The progress from milestone lines already read, with their disputes (the page)."""
    return _progress(project.price_minor, (
        (m.state, m.dispute.released_minor if m.state == MilestoneState.SPLIT
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


# --- the project page's plan ---------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DisputeLine:
    """A milestone's dispute as the project page shows it, with the columns of
    ``Dispute`` that the policies read, under the same names."""

    id: int
    opened_by_id: int
    statement: str
    reply_by_id: int | None
    reply: str
    outcome: str | None
    released_minor: int | None  # to the performer, once decided
    reason: str
    created_at: datetime
    resolved_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


@dataclass(frozen=True, slots=True)
class MilestoneLine:
    """A milestone as the project page shows it, with its dispute if it has one; the
    columns of ``Milestone`` that the policies read, under the same names."""

    id: int
    title: str
    amount_minor: int
    due_on: date
    state: str
    delivery_note: str
    revision_note: str
    created_at: datetime
    dispute: DisputeLine | None

    @property
    def label(self) -> str:
        return MilestoneState(self.state).label


@dataclass(frozen=True, slots=True)
class ProposalLine:
    """A proposal of a lower price, with the columns of ``PriceProposal`` that the page
    and the policies read."""

    id: int
    proposer_id: int
    price_minor: int
    was_price_minor: int
    reason: str
    state: str
    created_at: datetime

    @property
    def is_pending(self) -> bool:
        return self.state == PriceProposalState.PENDING


_MILESTONE_COLUMNS = (Milestone.id, Milestone.title, Milestone.amount_minor, Milestone.due_on,
                      Milestone.state, Milestone.delivery_note, Milestone.revision_note,
                      Milestone.created_at)
_DISPUTE_COLUMNS = (Dispute.id, Dispute.opened_by_id, Dispute.statement, Dispute.reply_by_id,
                    Dispute.reply, Dispute.outcome, Dispute.released_minor, Dispute.reason,
                    Dispute.created_at, Dispute.resolved_at)


@lru_cache(maxsize=1)
def _plan_statement() -> Select:
    """A project's milestones, oldest first, each with its dispute; built once.
    Parameter: project_id."""
    return (select(*_MILESTONE_COLUMNS, *_DISPUTE_COLUMNS)
            .outerjoin(Dispute, Dispute.milestone_id == Milestone.id)
            .where(Milestone.project_id == bindparam("project_id", type_=Integer))
            .order_by(Milestone.created_at, Milestone.id))


@lru_cache(maxsize=1)
def _pending_statement() -> Select:
    """The project's pending price proposal; built once. Parameter: project_id."""
    return (select(PriceProposal.id, PriceProposal.proposer_id, PriceProposal.price_minor,
                   PriceProposal.was_price_minor, PriceProposal.reason, PriceProposal.state,
                   PriceProposal.created_at)
            .where(PriceProposal.project_id == bindparam("project_id", type_=Integer),
                   PriceProposal.state == PriceProposalState.PENDING))


def milestone_lines(project_id: int) -> list[MilestoneLine]:
    """A project's MilestoneLines in the order they were added, with their disputes; one
    query (at most MILESTONES_MAX rows)."""
    width = len(_MILESTONE_COLUMNS)
    return [MilestoneLine(*row[:width], dispute=DisputeLine(*row[width:])
                          if row[width] is not None else None)
            for row in db.session.execute(_plan_statement(), {"project_id": project_id})]


def pending_proposal_line(project_id: int) -> ProposalLine | None:
    """``pending_price_proposal`` as a ProposalLine, for the page; one query."""
    row = db.session.execute(_pending_statement(), {"project_id": project_id}).first()
    return None if row is None else ProposalLine(*row)


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


def open_dispute_count() -> int:
    """How many disputes wait for an admin (the operator's metrics); along ix_disputes_open."""
    return db.session.scalar(select(func.count()).select_from(Dispute)
                             .where(Dispute.resolved_at.is_(None))) or 0


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
