"""Reads for the admin pages that no feature serves: the dashboard's numbers (a handful
of grouped counts, whatever the size) and finding members by username."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from offload.accounts.models import User
from offload.accounts.queries import member_named  # noqa: F401  (admin views look members up here)
from offload.cases.models import Case, CaseState, Report
from offload.commissions.models import Commission, CommissionState
from offload.core.db import db
from offload.gigs.models import Gig
from offload.ledger.models import AccountKind, LedgerAccount, TransferKind
from offload.milestones.models import HELD_STATES, Milestone
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
    """Seven small queries: counts grouped by state, and the ledger's own counters."""
    members = db.session.execute(select(
        func.count(), func.count(User.email_confirmed_at), func.count(User.suspended_at))).one()
    gigs = dict(db.session.execute(
        select(Gig.state, func.count()).group_by(Gig.state)).all())
    projects = dict(db.session.execute(
        select(Project.state, func.count()).group_by(Project.state)).all())
    # open holds, read from what the ledger keeps rather than summed over its history:
    # postpaid clicks are held toward revenue, withdrawals toward the outside world
    # (those accounts' pending credits), escrow is what funded milestones hold
    pending = dict(db.session.execute(
        select(LedgerAccount.kind, LedgerAccount.credits_pending)
        .where(LedgerAccount.owner_id.is_(None),
               LedgerAccount.kind.in_((AccountKind.PLATFORM_REVENUE,
                                       AccountKind.EXTERNAL)))).all())
    escrow = db.session.scalar(select(func.coalesce(func.sum(Milestone.amount_minor), 0))
                               .where(Milestone.state.in_(HELD_STATES)))
    held = {TransferKind.POSTPAID_CLICK: pending.get(AccountKind.PLATFORM_REVENUE, 0),
            TransferKind.WITHDRAWAL: pending.get(AccountKind.EXTERNAL, 0),
            TransferKind.ESCROW: escrow}
    overdue = db.session.execute(
        select(func.count(), func.coalesce(func.sum(Commission.commission_minor), 0))
        .where(Commission.state == CommissionState.DUE,
               Commission.overdue_at.is_not(None))).one()
    return SiteNumbers(members=members[0], confirmed=members[1], suspended=members[2],
                       gigs_by_state=gigs, projects_by_state=projects,
                       held_by_kind={k: int(v) for k, v in held.items()},
                       overdue_commissions=overdue[0], overdue_minor=int(overdue[1]))


def members_starting(prefix: str, limit: int = 20) -> list[User]:
    """Members whose username or display name starts with ``prefix``, by username."""
    pattern = prefix.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
    return list(db.session.scalars(select(User).where(
        (User.username.like(pattern)) | (User.display_name.ilike(pattern)))
        .order_by(User.username).limit(limit)))


def open_case_count(subject_id: int) -> int:
    """How many open cases there are about a member."""
    return db.session.scalar(select(func.count()).select_from(Case).where(
        Case.subject_id == subject_id, Case.state == CaseState.OPEN))


def report_for_queue(report_id: int) -> Report | None:
    """One report with both members loaded, as the triage queue shows it."""
    return db.session.scalar(select(Report).where(Report.id == report_id).options(
        joinedload(Report.reporter), joinedload(Report.subject)))
