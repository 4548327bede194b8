"""The numbers on the admin dashboard: a handful of grouped counts, whatever the size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import aliased

from offload.accounts.models import User
from offload.commissions.models import Commission, CommissionState
from offload.core.db import db
from offload.gigs.models import Gig
from offload.ledger.models import Transfer, TransferKind, TransferState
from offload.projects.models import Project


@dataclass(frozen=True)
class SiteNumbers:
    members: int
    confirmed: int
    suspended: int
    gigs_by_state: dict[str, int]
    projects_by_state: dict[str, int]
    held_by_kind: dict[str, int]  # open reservations (escrow, postpaid clicks, withdrawals)
    overdue_commissions: int
    overdue_minor: int

    @property
    def escrow_minor(self) -> int:
        return self.held_by_kind.get(TransferKind.ESCROW, 0)

    @property
    def reserved_minor(self) -> int:
        return sum(v for k, v in self.held_by_kind.items() if k != TransferKind.ESCROW)


def site_numbers() -> SiteNumbers:
    """Six queries."""
    members = db.session.execute(select(
        func.count(), func.count(User.email_confirmed_at), func.count(User.suspended_at))).one()
    gigs = dict(db.session.execute(
        select(Gig.state, func.count()).group_by(Gig.state)).all())
    projects = dict(db.session.execute(
        select(Project.state, func.count()).group_by(Project.state)).all())
    resolution = aliased(Transfer)
    held = dict(db.session.execute(
        select(Transfer.kind, func.sum(Transfer.amount_minor))
        .where(Transfer.state == TransferState.PENDING,
               ~exists().where(resolution.pending_id == Transfer.id))
        .group_by(Transfer.kind)).all())
    overdue = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Commission.commission_minor), 0))
        .where(Commission.state == CommissionState.DUE,
               Commission.overdue_at.is_not(None))).one()
    return SiteNumbers(members=members[0], confirmed=members[1], suspended=members[2],
                       gigs_by_state=gigs, projects_by_state=projects,
                       held_by_kind={k: int(v) for k, v in held.items()},
                       overdue_commissions=overdue[0], overdue_minor=int(overdue[1]))
