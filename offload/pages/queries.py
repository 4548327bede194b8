"""What the dashboard shows of a member's own work, as small read-only records.

Every member sees both sides (everyone may pass work on and take it on); their
``work_role`` only decides which side leads. Each list is the newest few, with a
link to the full "My ..." page; two statements in all, each bounded: the five lists
as one union of index walks, and the member's rating with their projects completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    Date,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    literal,
    null,
    select,
    union_all,
)

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
    """The member's work in two statements: every list at once (each its newest
    ``SHOWN``), then the rating and the projects completed."""
    connection = db.session.connection()
    params = {"member_id": member.id, "limit": SHOWN}
    lists: dict[str, list] = {name: [] for name in _LISTS}
    for name, row_id, title, state, at, due_on in connection.execute(_lists_statement(),
                                                                      params):
        lists[name].append((at, row_id, title, state, due_on))
    for rows in lists.values():  # each branch's order (a union keeps none)
        rows.sort(key=lambda row: (row[0], row[1]), reverse=True)
    gigs = {name: [GigLine(row_id, title, state, at) for at, row_id, title, state, _ in rows]
            for name, rows in lists.items()}
    completed, stars_sum, reviews = connection.execute(_standing_statement(), params).one()
    rating = Rating.of(_Stars(stars_sum, reviews) if reviews is not None else None)
    return Dashboard(
        role=member.work,
        passing_on=PassingOn(in_progress=gigs["in_progress"], requested=gigs["requested"],
                             completed=gigs["completed"]),
        taking_on=TakingOn(
            offers=[OfferLine(row_id, title, state, at)
                    for at, row_id, title, state, _ in lists["offers"]],
            projects=[ProjectLine(row_id, title, due_on)
                      for _, row_id, title, _, due_on in lists["projects"]],
            rating=rating, projects_completed=completed))


class _Stars(NamedTuple):  # what Rating.of reads of a member's rating row
    stars_sum: int
    reviews: int


# the lists, in the union's order: the poster's gigs by state, then offers and projects
_LISTS = ("in_progress", "requested", "completed", "offers", "projects")


@lru_cache(maxsize=1)
def _lists_statement() -> Select:
    # Built once; parameters: member_id, limit. One branch per list, each walking its
    # own index for the newest ``limit``; rows (list, id, title, state, at, due_on),
    # ``at`` being what the list is ordered by (with id).
    member = bindparam("member_id", type_=Integer)
    limit = bindparam("limit", type_=Integer)
    # typed NULLs: PostgreSQL takes a bare NULL in a subquery for text, which no date
    # column unites with
    no_date = cast(null(), Date)

    def gigs(name: str, *states: GigState) -> Select:
        return (select(literal(name, String), Gig.id, Gig.title, Gig.state,
                       Gig.state_changed_at, no_date)
                .where(Gig.poster_id == member, Gig.state.in_(states))
                .order_by(Gig.state_changed_at.desc(), Gig.id.desc()).limit(limit))

    offers = (select(literal("offers", String), Offer.id, Gig.title, Offer.state,
                     Offer.created_at, no_date)
              .join(Gig, Gig.id == Offer.gig_id)
              .where(Offer.member_id == member, Offer.state.in_(LIVE_STATES))
              .order_by(Offer.created_at.desc(), Offer.id.desc()).limit(limit))
    projects = (select(literal("projects", String), Project.id, Gig.title,
                       cast(null(), String), Project.created_at, Project.due_on)
                .join(Gig, Gig.id == Project.gig_id)
                .where(Project.performer_id == member, Project.state == ProjectState.ACTIVE)
                .order_by(Project.created_at.desc(), Project.id.desc()).limit(limit))
    branches = (gigs("in_progress", GigState.AWARDED, GigState.IN_PROGRESS),
                gigs("requested", GigState.OPEN), gigs("completed", GigState.COMPLETED),
                offers, projects)
    return union_all(*(branch.subquery().select() for branch in branches))


@lru_cache(maxsize=1)
def _standing_statement() -> Select:
    # built once; parameter: member_id. The rating's columns are NULL without reviews.
    member = bindparam("member_id", type_=Integer)
    users = User.__table__
    return (select(users.c.projects_completed, MemberRating.stars_sum, MemberRating.reviews)
            .outerjoin(MemberRating, MemberRating.member_id == users.c.id)
            .where(users.c.id == member))
