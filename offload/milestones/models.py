"""Milestones of task projects and the escrow behind them.

Design note
- The customer (the gig's poster) adds milestones (title, amount, due day) and funds
  each from their wallet. Funding is a ledger *reservation* of the amount from the
  customer's wallet to the performer's (kind ESCROW, ``Cause("milestone", id)``): the
  customer's available balance drops at once, nothing reaches the performer yet. That
  hold is the escrow; ``hold_transfer_id`` names it.
- Release posts the hold in full (the performer is paid); a refund voids it (the
  customer has the money again); a dispute's split, later, posts part of it and the
  rest returns. The post or void is ``settle_transfer_id``. So per milestone,
  funded = released + refunded + still held (invariant 9), by construction.
- ``MilestoneState``/``MILESTONE_TRANSITIONS`` are the lifecycle. Once delivered, the
  customer can release or ask for a revision (delivered → funded again) but can't take
  the money back: only a dispute can.
- The project's agreed price is the contract. *Paid* toward it is what reached the
  performer: released milestones in full and the performer's part of a split (refunds
  are not paid). *Scheduled* is paid + held in escrow + drafts; it may never exceed the
  price (``add_milestone`` refuses, under the project's row lock). A task project
  completes when paid reaches the price with nothing held or waiting as a draft.
- A ``PriceProposal`` closes a project short by agreement: one side proposes a lower
  price with a reason (not below what is paid and held in escrow, so escrow is
  respected), the other accepts or declines, the proposer may withdraw; at most one is
  pending per project (a partial unique index). Accepting lowers ``projects.price_minor``
  and completes the project when that is then paid in full. The rows are the history.
- A ``Dispute`` freezes a funded milestone (either party opens it with a statement; the
  other may add theirs). An admin resolves it: release, refund, or split (any amount to
  the performer, the rest back), with a written reason both parties see.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

TITLE_MAX = 140
NOTE_MAX = 4000
MILESTONES_MAX = 50


class MilestoneState(StrEnum):
    DRAFT = "draft"  # added, not funded
    FUNDED = "funded"  # the amount is held in escrow
    DELIVERED = "delivered"  # the performer delivered; the customer releases or asks again
    RELEASED = "released"  # paid to the performer
    REFUNDED = "refunded"  # returned to the customer (deadline missed, or a dispute)
    DISPUTED = "disputed"  # frozen until an admin resolves the dispute
    SPLIT = "split"  # a dispute paid part to the performer, the rest back to the customer
    REMOVED = "removed"  # a draft taken off

    @property
    def label(self) -> str:
        return self.value.capitalize()


MILESTONE_TRANSITIONS = {
    MilestoneState.DRAFT: {MilestoneState.FUNDED, MilestoneState.REMOVED},
    MilestoneState.FUNDED: {MilestoneState.DELIVERED, MilestoneState.RELEASED,
                            MilestoneState.REFUNDED, MilestoneState.DISPUTED},
    MilestoneState.DELIVERED: {MilestoneState.RELEASED, MilestoneState.FUNDED,  # revision
                               MilestoneState.DISPUTED},
    MilestoneState.DISPUTED: {MilestoneState.RELEASED, MilestoneState.REFUNDED,
                              MilestoneState.SPLIT},
}
HELD_STATES = (MilestoneState.FUNDED, MilestoneState.DELIVERED, MilestoneState.DISPUTED)
SETTLED_STATES = (MilestoneState.RELEASED, MilestoneState.REFUNDED, MilestoneState.SPLIT,
                  MilestoneState.REMOVED)


class Milestone(db.Model):
    __tablename__ = "milestones"
    __table_args__ = (
        CheckConstraint("state IN (" + ", ".join(repr(s.value) for s in MilestoneState) + ")",
                        name="state"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("(state = 'draft' OR state = 'removed') = (hold_transfer_id IS NULL)",
                        name="held_iff_funded"),
        Index("ix_milestones_project_created", "project_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(12), default=MilestoneState.DRAFT)
    hold_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    settle_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    delivery_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    revision_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                       server_default=func.now())

    @property
    def label(self) -> str:
        return MilestoneState(self.state).label


class DisputeOutcome(StrEnum):
    RELEASE = "release"
    REFUND = "refund"
    SPLIT = "split"


STATEMENT_MAX = 5000


class Dispute(db.Model):
    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint("outcome IS NULL OR outcome IN ('release', 'refund', 'split')",
                        name="outcome"),
        CheckConstraint("(outcome IS NULL) = (resolved_at IS NULL)", name="resolved"),
        # the admin queue: open disputes, oldest first
        Index("ix_disputes_open", "resolved_at", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id"), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    statement: Mapped[str] = mapped_column(Text)
    reply_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reply: Mapped[str] = mapped_column(Text, default="", server_default="")
    outcome: Mapped[str | None] = mapped_column(String(8))
    released_minor: Mapped[int | None] = mapped_column(BigInteger)  # to the performer
    reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    resolved_at: Mapped[datetime | None]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class PriceProposalState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"  # the project ended (completed or cancelled) before an answer


PRICE_PROPOSAL_TRANSITIONS = {
    PriceProposalState.PENDING: {PriceProposalState.ACCEPTED, PriceProposalState.DECLINED,
                                 PriceProposalState.WITHDRAWN, PriceProposalState.LAPSED},
}
REASON_MAX = 2000
_PENDING = text("state = 'pending'")


class PriceProposal(db.Model):
    """One side's proposal to lower a task project's agreed price (to close it short)."""

    __tablename__ = "price_proposals"
    __table_args__ = (
        CheckConstraint("state IN (" + ", ".join(repr(s.value) for s in PriceProposalState)
                        + ")", name="state"),
        CheckConstraint("price_minor > 0 AND price_minor < was_price_minor", name="lower"),
        CheckConstraint("(state = 'pending') = (answered_at IS NULL)", name="answered"),
        # one open proposal per project, whatever the services check first
        Index("uq_price_proposals_pending", "project_id", unique=True,
              sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index("ix_price_proposals_project_created", "project_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price_minor: Mapped[int] = mapped_column(BigInteger)  # the new price proposed
    was_price_minor: Mapped[int] = mapped_column(BigInteger)  # the price when proposed
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(12), default=PriceProposalState.PENDING)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    @property
    def is_pending(self) -> bool:
        return self.state == PriceProposalState.PENDING
