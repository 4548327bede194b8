"""The commission on a completed referral project.

Design note
- When the performer marks a referral project complete they enter the invoiced amount
  (what they billed the client, outside the site). The commission is computed from the
  rates recorded on the gig when it was posted (``ledger.commission_split``: the parts
  add up exactly) and stored with them, so a later change of rates changes nothing.
- It is paid from the performer's wallet as one ledger batch of two COMMISSION legs,
  ``Cause("commission", id)``: the platform's part to platform revenue, the referrer's
  to the referrer's wallet. Paid at once when the wallet covers it; otherwise *due*
  until ``due_on`` (COMMISSION_DUE_DAYS), with a "pay now" button, a reminder, and once
  past due an ``overdue_at`` flag that the accountability work picks up.
- ``CommissionState``/``COMMISSION_TRANSITIONS`` are the lifecycle: due → paid.
  ``offload.commissions.checks`` verifies every commission against its transfers.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow


class CommissionState(StrEnum):
    DUE = "due"
    PAID = "paid"


COMMISSION_TRANSITIONS = {CommissionState.DUE: {CommissionState.PAID}}


class Commission(db.Model):
    __tablename__ = "commissions"
    __table_args__ = (
        CheckConstraint("state IN ('due', 'paid')", name="state"),
        CheckConstraint("invoiced_minor > 0", name="invoiced_positive"),
        CheckConstraint("platform_minor > 0 AND referrer_minor > 0 AND "
                        "platform_minor + referrer_minor = commission_minor", name="parts"),
        CheckConstraint("(state = 'paid') = (paid_at IS NOT NULL AND batch_id IS NOT NULL)",
                        name="paid"),
        # the reminder and overdue jobs: due commissions by due day
        Index("ix_commissions_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), unique=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the performer
    referrer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # the gig's poster
    invoiced_minor: Mapped[int] = mapped_column(BigInteger)
    commission_minor: Mapped[int] = mapped_column(BigInteger)
    platform_minor: Mapped[int] = mapped_column(BigInteger)
    referrer_minor: Mapped[int] = mapped_column(BigInteger)
    commission_bps: Mapped[int]
    platform_commission_bps: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(8), default=CommissionState.DUE)
    due_on: Mapped[date]
    batch_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    paid_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    overdue_at: Mapped[datetime | None]  # flagged overdue (for the accountability work)

    def is_overdue(self, today: date) -> bool:
        return self.state == CommissionState.DUE and self.due_on < today
