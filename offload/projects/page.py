"""The project page's read model: every view whose form lives on that page (projects',
milestones', reviews') renders ``project_page``, so none imports another's.

The page shows what six packages know about one project (its timeline, conversation,
milestones, commission, reviews, the performer's wallet), so it sits with the entry
points, above every package it reads (pyproject.toml, the ``page`` modules);
``projects.queries`` keeps the project's own reads, which packages above projects use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, select
from sqlalchemy.orm import aliased

from offload.accounts.models import User
from offload.commissions.policies import why_cannot_complete, why_cannot_pay, why_cannot_review
from offload.commissions.queries import CommissionLine, commission_line
from offload.conversations.policies import why_cannot_message
from offload.conversations.queries import Message, Reading, conversation_page, reading_of
from offload.core.db import db, utcnow
from offload.core.pagination import Page
from offload.core.uploads import FileLine, file_lines_of
from offload.gigs.models import ClientDetails, Gig
from offload.gigs.queries import client_details_for
from offload.milestones.policies import MilestoneRules, why_cannot_reply_to_dispute
from offload.milestones.queries import (
    DisputeLine,
    MilestoneLine,
    PriceProgress,
    ProposalLine,
    milestone_lines,
    pending_proposal_line,
    progress_of,
)
from offload.offers.models import Offer
from offload.reviews.policies import review_closes_at
from offload.reviews.queries import ProjectReviews, project_reviews
from offload.wallet.queries import WalletSummary, wallet_summary

from .models import Project, ProjectEventFile
from .policies import can_view_project, is_stalling, why_cannot_post_event
from .queries import timeline_page


class Party(NamedTuple):
    """One side of a project, as a page names them and links to them."""

    id: int
    username: str
    name: str  # the display name, or the username without one


class GigTerms(NamedTuple):
    """What a project page shows and decides from its gig."""

    id: int
    title: str
    kind: str
    poster_id: int
    performer_id: int | None
    commission_bps: int
    platform_commission_bps: int

    @property
    def referrer_commission_bps(self) -> int:
        return self.commission_bps - self.platform_commission_bps


class OfferTerms(NamedTuple):
    """The offer a project came from: its conversation's state and the agreed price."""

    id: int
    member_id: int
    state: str
    price_minor: int  # before any lowering by agreement


@dataclass(frozen=True, slots=True)
class ProjectHeader:
    """A project with its gig, offer and both parties, read in one query: what its page
    shows at the top and what the policies decide from. It carries the columns of
    ``Project`` that they read, and its ``gig`` and ``offer`` those of ``Gig`` and
    ``Offer``, under the same names, so a policy takes either; services keep the ORM."""

    id: int
    kind: str
    state: str
    price_minor: int
    days_to_deliver: int
    due_on: date
    created_at: datetime
    state_changed_at: datetime
    last_event_at: datetime
    gig: GigTerms
    offer: OfferTerms
    poster: Party
    performer: Party

    @property
    def gig_id(self) -> int:
        return self.gig.id

    @property
    def offer_id(self) -> int:
        return self.offer.id

    @property
    def poster_id(self) -> int:
        return self.poster.id

    @property
    def performer_id(self) -> int:
        return self.performer.id

    def is_party(self, user) -> bool:
        return user is not None and user.id in (self.poster.id, self.performer.id)


@lru_cache(maxsize=1)
def _header_statement() -> Select:
    """The project, its gig, offer and parties; built once. Parameter: project_id."""
    poster, performer = aliased(User), aliased(User)
    return (select(Project.id, Project.kind, Project.state, Project.price_minor,
                   Project.days_to_deliver, Project.due_on, Project.created_at,
                   Project.state_changed_at, Project.last_event_at,
                   Gig.id, Gig.title, Gig.kind, Gig.poster_id, Gig.performer_id,
                   Gig.commission_bps, Gig.platform_commission_bps,
                   Offer.id, Offer.member_id, Offer.state, Offer.price_minor,
                   poster.id, poster.username, poster.display_name,
                   performer.id, performer.username, performer.display_name)
            .join(Gig, Gig.id == Project.gig_id)
            .join(Offer, Offer.id == Project.offer_id)
            .join(poster, poster.id == Project.poster_id)
            .join(performer, performer.id == Project.performer_id)
            .where(Project.id == bindparam("project_id", type_=Integer)))


def project_header(project_id: int) -> ProjectHeader | None:
    """The project's ProjectHeader, None when there is no such project; one query."""
    row = db.session.execute(_header_statement(), {"project_id": project_id}).first()
    if row is None:
        return None
    return ProjectHeader(
        *row[:9], gig=GigTerms(*row[9:16]), offer=OfferTerms(*row[16:20]),
        poster=Party(row[20], row[21], row[22] or row[21]),
        performer=Party(row[23], row[24], row[25] or row[24]))


@dataclass(frozen=True)
class MilestoneRow:
    """A milestone as the page shows it to the viewer: with its files, its dispute and
    the actions the viewer may take on it (milestones.policies decides each)."""

    milestone: MilestoneLine
    files: tuple[FileLine, ...]  # every delivery's, oldest first
    dispute: DisputeLine | None
    can_fund: bool
    can_remove: bool
    can_release: bool
    release_note: str | None  # what releasing does to the project, said before the click
    can_deliver: bool
    can_ask_revision: bool
    can_dispute: bool
    can_reply: bool  # add the other side's statement to its open dispute


@dataclass(frozen=True)
class TaskPlan:
    """A task project's milestones against its agreed price, and what the viewer may do."""

    milestones: tuple[MilestoneRow, ...]  # in the order they were added
    progress: PriceProgress
    agreed_price_minor: int  # the offer's, before any lowering by agreement
    pending_price: ProposalLine | None
    can_add: bool
    can_cancel: bool
    can_propose_price: bool
    can_answer_price: bool
    can_withdraw_price: bool
    drafts_over_price: tuple[MilestoneLine, ...]  # what accepting ``pending_price`` takes off


@dataclass(frozen=True)
class Settlement:
    """A referral project's completion and commission, as the viewer may act on them."""

    commission: CommissionLine | None
    can_complete: bool
    can_pay: bool
    can_review: bool  # the referrer accepts or contests an amount under the price
    wallet: WalletSummary | None  # the performer's, who completes and pays


@dataclass(frozen=True)
class ProjectPage:
    """Everything the project page shows one viewer; the view renders it as it is."""

    project: ProjectHeader
    events: Page  # of TimelineEvent, newest first
    client_details: ClientDetails | None  # referral projects, for those allowed
    is_stalling: bool
    can_post: bool  # on the timeline
    messages: tuple[Message, ...]  # oldest first on this page
    messages_page: Page  # its cursor leads to older messages
    why_cannot_message: str | None
    reading: Reading | None  # the parties' read mark, None for admins
    plan: TaskPlan | None  # task projects
    settlement: Settlement | None  # referral projects
    reviews: ProjectReviews
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


def project_page(project_id: int, viewer: User, cursor: str | None = None,
                 messages_cursor: str | None = None) -> ProjectPage | None:
    """The project page for ``viewer``; None when there is no such project or the viewer
    is neither party nor an admin. A fixed number of queries whatever the page holds:
    the project with its gig, offer and parties, its timeline page and the
    conversation's, reading, reviews; a task project's milestones with their disputes,
    their files, the pending proposal; a referral's client details, commission and the
    performer's wallet."""
    project = project_header(project_id)
    if project is None or not can_view_project(project, viewer):
        return None
    now = utcnow()
    events = timeline_page(project.id, cursor)
    messages = conversation_page(project.offer.id, messages_cursor)
    is_party = project.is_party(viewer)
    return ProjectPage(
        project=project, events=events,
        client_details=client_details_for(project.gig, viewer),
        is_stalling=is_stalling(project, now),
        can_post=why_cannot_post_event(project, viewer) is None,
        messages=tuple(reversed(messages.items)), messages_page=messages,
        why_cannot_message=why_cannot_message(project.offer, project.gig, viewer),
        reading=reading_of(project.offer.id, viewer.id) if is_party else None,
        plan=_task_plan(project, viewer, now) if project.kind == "task" else None,
        settlement=_settlement(project, viewer, now) if project.kind == "referral" else None,
        reviews=_reviews(project, viewer), now=now)


def _reviews(project: ProjectHeader, viewer: User) -> ProjectReviews:
    # reviews open when the project completes: before, there is nothing to read
    if review_closes_at(project) is None:
        return ProjectReviews(closes_at=None, mine=None, theirs=None, skills=[])
    return project_reviews(project, viewer)


def _task_plan(project: ProjectHeader, viewer: User, now: datetime) -> TaskPlan:
    steps = milestone_lines(project.id)
    files = (file_lines_of(ProjectEventFile, "milestone_id", [m.id for m in steps])
             if steps else {})
    progress = progress_of(project, steps)
    pending = pending_proposal_line(project.id)
    rules = MilestoneRules(project, viewer, steps, now.date(), progress, pending)
    rows = []
    for m in steps:
        dispute = m.dispute
        can_release = rules.can_release(m)
        rows.append(MilestoneRow(
            milestone=m, files=tuple(files.get(m.id, ())), dispute=dispute,
            can_fund=rules.can_fund(m), can_remove=rules.can_remove(m),
            can_release=can_release, release_note=rules.release_note(m) if can_release
            else None, can_deliver=rules.can_deliver(m),
            can_ask_revision=rules.can_ask_revision(m), can_dispute=rules.can_dispute(m),
            can_reply=dispute is not None and why_cannot_reply_to_dispute(
                dispute, project, viewer) is None))
    return TaskPlan(milestones=tuple(rows), progress=progress,
                    agreed_price_minor=project.offer.price_minor, pending_price=pending,
                    can_add=rules.can_add, can_cancel=rules.can_cancel,
                    can_propose_price=rules.can_propose_price,
                    can_answer_price=rules.can_answer_price,
                    can_withdraw_price=rules.can_withdraw_price,
                    drafts_over_price=tuple(rules.drafts_over_price))


def _settlement(project: ProjectHeader, viewer: User, now: datetime) -> Settlement:
    commission = commission_line(project.id)
    return Settlement(
        commission=commission,
        can_complete=why_cannot_complete(project, viewer) is None,
        can_pay=commission is not None and why_cannot_pay(commission, viewer) is None,
        can_review=commission is not None and why_cannot_review(commission, viewer,
                                                                now) is None,
        wallet=wallet_summary(viewer.id) if viewer.id == project.performer_id else None)
