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
  past due an ``overdue_at`` flag, for which a job opens a case
  (``cases.services.open_overdue_commission_cases``).
- ``CommissionState``/``COMMISSION_TRANSITIONS`` are the lifecycle: due → paid.
  ``offload.commissions.checks`` verifies every commission against its transfers.
- The invoice review: an invoiced amount under the project's agreed price needs the
  performer's written reason (``invoice_reason``) and opens a review window for the
  referrer, who earns a share of it: ``InvoiceReview``/``INVOICE_REVIEW_TRANSITIONS``,
  awaiting → accepted or contested until ``review_due_at`` (INVOICE_REVIEW_DAYS after
  completion; past it the invoice counts as accepted, and a job records that). A
  contest opens a case about the performer (``offload.cases.invoices``); the admin who
  resolves it may correct the invoiced amount: the commission is then recomputed, and
  a paid one is corrected through the ledger only: a new batch posted from the
  performer's wallet, then the old batch reversed (REVERSAL transfers referencing each
  leg), so the referrer repays the old share out of the new one; when the performer's
  wallet doesn't cover the new batch, the old one is reversed first, then the new one
  posted if the refund covers it, else the commission is due again with ``batch_id``
  cleared. ``corrected_from_minor`` keeps what the performer entered.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow


class CommissionState(StrEnum):
    DUE = "due"
    PAID = "paid"


# paid → due: only when an admin's invoice correction reversed the batch and the
# performer's wallet doesn't cover the corrected commission
COMMISSION_TRANSITIONS = {CommissionState.DUE: {CommissionState.PAID},
                          CommissionState.PAID: {CommissionState.DUE}}


class InvoiceReview(StrEnum):
    NONE = "none"  # invoiced at or above the agreed price: nothing to review
    AWAITING = "awaiting"  # under the price: the referrer may accept or contest
    ACCEPTED = "accepted"  # by the referrer, or the window lapsed
    CONTESTED = "contested"  # a case about the performer is open
    UPHELD = "upheld"  # the case closed and the invoiced amount stands
    CORRECTED = "corrected"  # the case closed with a corrected invoiced amount

    @property
    def label(self) -> str:
        return {"none": "Not needed", "awaiting": "Awaiting the referrer",
                "accepted": "Accepted", "contested": "Contested",
                "upheld": "Upheld by an admin", "corrected": "Corrected by an admin"}[self.value]


INVOICE_REVIEW_TRANSITIONS = {
    InvoiceReview.AWAITING: {InvoiceReview.ACCEPTED, InvoiceReview.CONTESTED},
    InvoiceReview.CONTESTED: {InvoiceReview.UPHELD, InvoiceReview.CORRECTED},
}
INVOICE_REASON_MAX = 1000  # the case summary carries it and the contest statement


class CommissionTerms:
    """What a commission's review and due day say, read from its columns (state, due_on,
    review_state, review_due_at): shared by the row (``Commission``) and the page's read
    model (``queries.CommissionLine``)."""

    __slots__ = ()

    def review_as_of(self, now: datetime) -> InvoiceReview:
        """The review state, with a lapsed window counted as accepted (before the job
        records it)."""
        if self.review_state == InvoiceReview.AWAITING and self.review_due_at is not None \
                and self.review_due_at <= now:
            return InvoiceReview.ACCEPTED
        return InvoiceReview(self.review_state)

    def is_overdue(self, today: date) -> bool:
        return self.state == CommissionState.DUE and self.due_on < today


class Commission(CommissionTerms, db.Model):
    __tablename__ = "commissions"
    __table_args__ = (
        CheckConstraint("state IN ('due', 'paid')", name="state"),
        CheckConstraint("invoiced_minor > 0", name="invoiced_positive"),
        CheckConstraint("platform_minor > 0 AND referrer_minor > 0 AND "
                        "platform_minor + referrer_minor = commission_minor", name="parts"),
        CheckConstraint("(state = 'paid') = (paid_at IS NOT NULL AND batch_id IS NOT NULL)",
                        name="paid"),
        CheckConstraint("review_state IN ('none', 'awaiting', 'accepted', 'contested', "
                        "'upheld', 'corrected')", name="review_state"),
        # a review only for an amount explained by the performer, with its deadline
        CheckConstraint("review_state = 'none' OR (invoice_reason IS NOT NULL "
                        "AND review_due_at IS NOT NULL)", name="review_explained"),
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
    invoice_reason: Mapped[str | None] = mapped_column(Text)  # why under the agreed price
    review_state: Mapped[str] = mapped_column(String(12), default=InvoiceReview.NONE,
                                              server_default=InvoiceReview.NONE.value)
    review_due_at: Mapped[datetime | None]  # the referrer accepts or contests until then
    reviewed_at: Mapped[datetime | None]
    contest_statement: Mapped[str | None] = mapped_column(Text)  # the referrer's
    corrected_from_minor: Mapped[int | None] = mapped_column(BigInteger)
