"""Reading cases and reports for pages; a fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from offload.accounts.models import User
from offload.commissions.models import Commission
from offload.core.db import db
from offload.core.pagination import Page, newest_first
from offload.projects.models import Project
from offload.wallet.models import Chargeback
from offload.wallet.queries import amount_owed_by

from .models import Case, CaseEvidence, CaseState, Report, ReportState


@dataclass
class CasePage:
    case: Case  # subject, opened_by and resolved_by loaded
    inviter: User | None
    evidence: list[CaseEvidence]
    commission: Commission | None  # the unpaid commission a system case is about
    contested: Commission | None = None  # the commission whose invoiced amount is contested
    agreed_minor: int | None = None  # and its project's agreed price
    chargeback: Chargeback | None = None  # the deposit taken back that left the subject owing
    owed_minor: int | None = None  # and what the subject owes now


def case_page(case_id: int) -> CasePage | None:
    """A case with who is in it and its evidence; three queries (four for a case
    about a commission, five for one contesting an invoiced amount or about a
    chargeback)."""
    case = db.session.scalar(select(Case).where(Case.id == case_id).options(
        joinedload(Case.subject, innerjoin=True), joinedload(Case.opened_by),
        joinedload(Case.resolved_by)))
    if case is None:
        return None
    inviter = (db.session.get(User, case.subject.invited_by_id)
               if case.subject.invited_by_id else None)
    evidence = list(db.session.scalars(select(CaseEvidence).where(
        CaseEvidence.case_id == case.id).order_by(CaseEvidence.id)))
    commission = db.session.get(Commission, case.commission_id) if case.commission_id else None
    contested, agreed = None, None
    if case.contested_commission_id:
        contested = db.session.get(Commission, case.contested_commission_id)
        agreed = db.session.scalar(select(Project.price_minor).where(
            Project.id == contested.project_id))
    chargeback, owed = None, None
    if case.chargeback_id:
        chargeback = db.session.get(Chargeback, case.chargeback_id)
        owed = amount_owed_by(case.subject_id)
    return CasePage(case=case, inviter=inviter, evidence=evidence, commission=commission,
                    contested=contested, agreed_minor=agreed, chargeback=chargeback,
                    owed_minor=owed)


def accountability_counts() -> dict[str, int]:
    """For the admin dashboard: open cases, pending reports, suspended members; one query."""
    open_cases = select(func.count()).select_from(Case).where(Case.state == CaseState.OPEN)
    reports = select(func.count()).select_from(Report).where(Report.state == ReportState.PENDING)
    suspended = select(func.count()).select_from(User).where(User.suspended_at.is_not(None))
    row = db.session.execute(select(open_cases.scalar_subquery(), reports.scalar_subquery(),
                                    suspended.scalar_subquery())).one()
    return {"open_cases": row[0], "pending_reports": row[1], "suspended_members": row[2]}


def cases_page(state: CaseState | None, cursor: str | None) -> Page:
    """Cases newest first, in one state or any, subjects loaded."""
    stmt = select(Case).options(joinedload(Case.subject, innerjoin=True))
    if state:
        stmt = stmt.where(Case.state == state)
    return newest_first(stmt, Case, cursor)


def pending_reports_page(cursor: str | None) -> Page:
    """The triage queue: pending reports, newest first, both members loaded."""
    return newest_first(
        select(Report).where(Report.state == ReportState.PENDING).options(
            joinedload(Report.reporter, innerjoin=True),
            joinedload(Report.subject, innerjoin=True)), Report, cursor)


def cases_of_chargebacks(chargeback_ids: list[int]) -> dict[int, int]:
    """The case each of these chargebacks opened (chargeback id → case id), if any."""
    if not chargeback_ids:
        return {}
    return dict(db.session.execute(select(Case.chargeback_id, Case.id).where(
        Case.chargeback_id.in_(chargeback_ids))).all())
