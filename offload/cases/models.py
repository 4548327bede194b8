"""Accountability cases: a member's conduct under review, and the reports that lead to them.

Design note
- A ``Case`` is about one *subject* member. While it is open the subject and the
  member who invited them are *on the hook* (``offload.cases.hook``): neither may send
  invites, post gigs or make offers. "Who invited them" is read from the subject's
  current ``invited_by_id`` when asked, so a reparent moves the hook with the edge.
  A case that contests an invoiced amount is the exception: a disagreement about money
  for an admin to settle, not misconduct, so it holds nobody.
- ``CaseState`` and ``CASE_TRANSITIONS`` are the lifecycle: open → resolved, once,
  with a ``CaseResolution`` (cleared, warned, suspended) and a written reason. Services
  move it with an UPDATE guarded by the state it leaves, so two admins resolving at
  once give one resolution.
- ``source`` says who opened it: an admin, a member's report (accepted from the
  triage queue), or the system. The system opens one per overdue commission:
  ``commission_id`` is unique, so however often (or concurrently) the job runs, a
  commission has at most one case. A referrer who contests an invoiced amount opens
  one too (``contested_commission_id``, unique as well: one contest per commission);
  resolving it may correct the amount (``offload.cases.invoices``); if the corrected
  commission then goes unpaid, the overdue job opens an ordinary case about it. The
  payment provider's word opens one per deposit taken back (a dispute, a refund) that
  the wallet didn't cover, leaving the member owing (``chargeback_id``, unique).
- ``CaseEvidence`` rows link the case to what it is about: projects, offers (their
  conversations), disputes, gigs, deposits. Admins add them; they are never edited.
- A ``Report`` is a member's "report this member": it waits in a triage queue until
  an admin opens a case from it (``case_id``) or dismisses it with a reason.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.links import site_path

SUMMARY_MAX = 2000  # it is the moderation entry's reason too (REASON_MAX there)
REASON_MAX = 2000
REPORT_MAX = 4000
NOTE_MAX = 500


class CaseKind(StrEnum):
    UNPAID_COMMISSION = "unpaid_commission"
    DISPUTE_CONDUCT = "dispute_conduct"
    MEMBER_REPORT = "member_report"
    CHARGEBACK = "chargeback"  # a deposit taken back that the wallet didn't cover
    OTHER = "other"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class CaseState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.OPEN: frozenset({CaseState.RESOLVED}),
    CaseState.RESOLVED: frozenset(),
}


class CaseResolution(StrEnum):
    CLEARED = "cleared"
    WARNED = "warned"
    SUSPENDED = "suspended"


class CaseSource(StrEnum):
    ADMIN = "admin"
    REPORT = "report"
    SYSTEM = "system"


class EvidenceKind(StrEnum):
    PROJECT = "project"
    OFFER = "offer"  # its conversation
    DISPUTE = "dispute"
    GIG = "gig"
    DEPOSIT = "deposit"  # its page lists what was taken back of it


# where each kind of evidence is seen: endpoint, its id argument, anchor
_EVIDENCE_LINKS = {EvidenceKind.PROJECT: ("projects.show", "project_id", None),
                   EvidenceKind.OFFER: ("offers.show", "offer_id", "messages"),
                   EvidenceKind.DISPUTE: ("admin.dispute", "dispute_id", None),
                   EvidenceKind.GIG: ("gigs.show", "gig_id", None),
                   EvidenceKind.DEPOSIT: ("wallet.deposit", "deposit_id", "chargebacks")}


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(repr(v.value) for v in enum)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(CaseKind)})", name="kind"),
        CheckConstraint(f"state IN ({_values(CaseState)})", name="state"),
        CheckConstraint(f"source IN ({_values(CaseSource)})", name="source"),
        CheckConstraint(f"resolution IS NULL OR resolution IN ({_values(CaseResolution)})",
                        name="resolution"),
        # resolved ⇔ a resolution with its reason
        CheckConstraint("(state = 'resolved') = (resolution IS NOT NULL "
                        "AND resolution_reason IS NOT NULL)", name="resolved_with_reason"),
        # the hook: open cases by subject (few rows, so the partial index stays small)
        Index("ix_cases_open_subject", "subject_id",
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        # the queue and a member's history, newest first
        Index("ix_cases_state_created", "state", "created_at", "id"),
        Index("ix_cases_subject_created", "subject_id", "created_at", "id"),
        Index("ix_cases_created", "created_at", "id"),
        # one case per chargeback (an index, not a constraint: SQLite adds it in place)
        Index("uq_cases_chargeback_id", "chargeback_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16), default=CaseState.OPEN)
    source: Mapped[str] = mapped_column(String(16))
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: system
    summary: Mapped[str] = mapped_column(Text)
    commission_id: Mapped[int | None] = mapped_column(ForeignKey("commissions.id"),
                                                      unique=True)
    # the commission whose invoiced amount the referrer contests (offload.cases.invoices)
    contested_commission_id: Mapped[int | None] = mapped_column(
        ForeignKey("commissions.id"), unique=True)
    # the deposit taken back that left the subject owing (offload.payments.chargebacks)
    chargeback_id: Mapped[int | None] = mapped_column(ForeignKey("chargebacks.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="raise")
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id], lazy="raise")
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id], lazy="raise")

    @property
    def is_open(self) -> bool:
        return self.state == CaseState.OPEN

    @property
    def kind_label(self) -> str:
        return CaseKind(self.kind).label

    def __repr__(self) -> str:
        return f"<Case {self.id} {self.state} {self.kind} subject={self.subject_id}>"


class CaseEvidence(db.Model):
    __tablename__ = "case_evidence"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_values(EvidenceKind)})", name="kind"),
        Index("uq_case_evidence_target", "case_id", "kind", "target_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="", server_default="")
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: system
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    @property
    def url(self) -> str:
        endpoint, key, anchor = _EVIDENCE_LINKS[EvidenceKind(self.kind)]
        return site_path(endpoint, _anchor=anchor, **{key: self.target_id})

    @property
    def label(self) -> str:
        return f"{self.kind.capitalize()} #{self.target_id}"


class ReportState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"  # a case was opened from it
    DISMISSED = "dismissed"


REPORT_TRANSITIONS: dict[ReportState, frozenset[ReportState]] = {
    ReportState.PENDING: frozenset({ReportState.ACCEPTED, ReportState.DISMISSED}),
    ReportState.ACCEPTED: frozenset(),
    ReportState.DISMISSED: frozenset(),
}


class Report(db.Model):
    __tablename__ = "member_reports"
    __table_args__ = (
        CheckConstraint(f"state IN ({_values(ReportState)})", name="state"),
        CheckConstraint("reporter_id <> subject_id", name="not_oneself"),
        Index("ix_member_reports_state_created", "state", "created_at", "id"),
        # one report waiting per reporter and subject, whatever arrives at once
        Index("uq_member_reports_pending", "reporter_id", "subject_id", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ReportState.PENDING)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    handled_reason: Mapped[str | None] = mapped_column(Text)
    handled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="raise")
    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="raise")
