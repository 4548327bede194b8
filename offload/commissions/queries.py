"""Reading commissions."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.pagination import Page, decode_cursor, keyset_page
from offload.gigs.models import Gig
from offload.projects.models import Project
from offload.projects.policies import can_view_project

from .models import Commission, CommissionState, CommissionTerms


@dataclass(frozen=True)
class CommissionLine(CommissionTerms):
    """A referral project's commission as its page shows it, with the columns of
    ``Commission`` that the page and the policies read, under the same names."""

    id: int
    payer_id: int  # the performer
    referrer_id: int
    invoiced_minor: int
    commission_minor: int
    platform_minor: int
    referrer_minor: int
    commission_bps: int
    state: str
    due_on: date
    paid_at: datetime | None
    invoice_reason: str | None
    review_state: str
    review_due_at: datetime | None
    contest_statement: str | None
    corrected_from_minor: int | None


@lru_cache(maxsize=1)
def _line_statement() -> Select:
    """The project's commission, built once. Parameter: project_id."""
    return select(*(getattr(Commission, f.name) for f in fields(CommissionLine))).where(
        Commission.project_id == bindparam("project_id", type_=Integer))


def commission_line(project_id: int) -> CommissionLine | None:
    """The project's commission as a CommissionLine (the project page); one query."""
    row = db.session.execute(_line_statement(), {"project_id": project_id}).first()
    return None if row is None else CommissionLine(*row)


def commission_of(project_id: int) -> Commission | None:
    return db.session.scalar(select(Commission).where(Commission.project_id == project_id))


def commission_for(viewer: User, commission_id: int) -> Commission:
    """The commission, if ``viewer`` may see its project (a party or an admin); else
    NotFound, as for the project."""
    commission = db.session.get(Commission, commission_id)
    if commission is None or not can_view_project(
            db.session.get(Project, commission.project_id), viewer):
        raise NotFound()
    return commission


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


def overdue_commission_count(today: date | None = None) -> int:
    """How many due commissions are past their due day (the operator's metrics); along
    ix_commissions_state_due."""
    today = today or utcnow().date()
    return db.session.scalar(
        select(func.count()).select_from(Commission)
        .where(Commission.state == CommissionState.DUE, Commission.due_on < today)) or 0


class CommissionRow(NamedTuple):
    """A commission as the admins' CSV lists it."""

    id: int
    created_at: datetime
    project_id: int
    gig_title: str
    payer_username: str  # the performer
    referrer_username: str
    invoiced_minor: int
    commission_minor: int
    platform_minor: int
    referrer_minor: int
    state: str
    due_on: date
    paid_at: datetime | None
    review_state: str


def commissions_page(cursor: str | None, size: int) -> Page:
    """Every commission, newest first (keyset on created_at, id), as ``CommissionRow``
    items; one query."""
    payer, referrer = aliased(User), aliased(User)
    stmt = (select(Commission.id, Commission.created_at, Commission.project_id, Gig.title,
                   payer.username, referrer.username, Commission.invoiced_minor,
                   Commission.commission_minor, Commission.platform_minor,
                   Commission.referrer_minor, Commission.state, Commission.due_on,
                   Commission.paid_at, Commission.review_state)
            .join(Project, Project.id == Commission.project_id)
            .join(Gig, Gig.id == Project.gig_id)
            .join(payer, payer.id == Commission.payer_id)
            .join(referrer, referrer.id == Commission.referrer_id))
    key = decode_cursor(cursor)
    if key:
        stmt = stmt.where(tuple_(Commission.created_at, Commission.id) < key)
    rows = db.session.execute(stmt.order_by(Commission.created_at.desc(),
                                            Commission.id.desc()).limit(size + 1)).all()
    return keyset_page([CommissionRow(*row) for row in rows], size, key is None)
