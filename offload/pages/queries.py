"""What the dashboard shows of a member's own work, as small read-only records.

Every member sees both sides (everyone may pass work on and take it on); their
``work_role`` only decides which side leads. Each list is the newest few, with a
link to the full "My ..." page; six queries in all, each bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, select

from offload.accounts.models import User, WorkRole
from offload.core.db import db
from offload.gigs.models import Gig, GigState
from offload.offers.models import LIVE_STATES, Offer
from offload.projects.models import Project, ProjectState
from offload.reviews.models import MemberRating
from offload.reviews.queries import Rating

SHOWN = 5  # rows per list; the "My ..." pages have the rest


class GigLine(NamedTuple):
    id: int
    title: str
    state: str
    state_changed_at: datetime


class OfferLine(NamedTuple):
    id: int
    gig_title: str
    state: str
    created_at: datetime


class ProjectLine(NamedTuple):
    id: int
    gig_title: str
    due_on: date


@dataclass(frozen=True)
class PassingOn:
    """The gigs a member posted, by where they stand."""

    in_progress: list[GigLine]  # awarded (waiting for the performer) or in progress
    requested: list[GigLine]  # open for offers
    completed: list[GigLine]


@dataclass(frozen=True)
class TakingOn:
    """The work a member takes on: live offers, active projects, the stars earned."""

    offers: list[OfferLine]
    projects: list[ProjectLine]
    rating: Rating
    projects_completed: int


@dataclass(frozen=True)
class Dashboard:
    role: WorkRole
    passing_on: PassingOn
    taking_on: TakingOn

    @property
    def leads_with_taking_on(self) -> bool:
        return self.role == WorkRole.TAKE_ON


def dashboard_for(member: User) -> Dashboard:
    return Dashboard(role=member.work, passing_on=_passing_on(member.id),
                     taking_on=_taking_on(member))


@lru_cache(maxsize=4)
def _gigs_statement(states: tuple[GigState, ...]) -> Select:
    # built once per list; parameters: member_id, limit
    return (select(Gig.id, Gig.title, Gig.state, Gig.state_changed_at)
            .where(Gig.poster_id == bindparam("member_id", type_=Integer),
                   Gig.state.in_(states))
            .order_by(Gig.state_changed_at.desc(), Gig.id.desc())
            .limit(bindparam("limit", type_=Integer)))


def _gigs(member_id: int, states: tuple[GigState, ...]) -> list[GigLine]:
    return [GigLine(*row) for row in db.session.execute(
        _gigs_statement(states), {"member_id": member_id, "limit": SHOWN})]


def _passing_on(member_id: int) -> PassingOn:
    return PassingOn(in_progress=_gigs(member_id, (GigState.AWARDED, GigState.IN_PROGRESS)),
                     requested=_gigs(member_id, (GigState.OPEN,)),
                     completed=_gigs(member_id, (GigState.COMPLETED,)))


@lru_cache(maxsize=1)
def _taking_on_statements() -> tuple[Select, Select, Select]:
    # built once: live offers, active projects, the member's rating; parameters:
    # member_id, limit
    member = bindparam("member_id", type_=Integer)
    limit = bindparam("limit", type_=Integer)
    offers = (select(Offer.id, Gig.title, Offer.state, Offer.created_at)
              .join(Gig, Gig.id == Offer.gig_id)
              .where(Offer.member_id == member, Offer.state.in_(LIVE_STATES))
              .order_by(Offer.created_at.desc(), Offer.id.desc()).limit(limit))
    projects = (select(Project.id, Gig.title, Project.due_on)
                .join(Gig, Gig.id == Project.gig_id)
                .where(Project.performer_id == member, Project.state == ProjectState.ACTIVE)
                .order_by(Project.created_at.desc(), Project.id.desc()).limit(limit))
    rating = select(MemberRating.stars_sum, MemberRating.reviews).where(
        MemberRating.member_id == member)
    return offers, projects, rating


def _taking_on(member: User) -> TakingOn:
    offers, projects, rating = _taking_on_statements()
    params = {"member_id": member.id, "limit": SHOWN}
    return TakingOn(offers=[OfferLine(*row) for row in db.session.execute(offers, params)],
                    projects=[ProjectLine(*row) for row in db.session.execute(projects, params)],
                    rating=Rating.of(db.session.execute(rating, params).first()),
                    projects_completed=member.projects_completed)
