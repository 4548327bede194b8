"""Deposits and withdrawals: the business rows behind money entering and leaving the site.

Design: the ledger (``offload.ledger``) holds the money; these rows say why it moved
and where each request stands. Each row names its transfers, each transfer names its
row as its cause (``Cause("deposit", id)``, ``Cause("withdrawal", id)``), and
``offload.wallet.checks`` verifies that the two agree (invariant 10).

- A deposit is started with the payment provider *before* any transaction (no network
  call inside one), then recorded: the sandbox completes at once, so the deposit is
  written and completed in one transaction with its DEPOSIT transfer (external →
  wallet). A real provider answers "pending"; the deposit waits and its webhook
  completes (or fails) it later with the same service.
- A withdrawal reserves its amount at once (a pending WITHDRAWAL transfer wallet →
  external, the *hold*): the member's available balance drops, the balance does not.
  An admin who has paid it out posts the hold in full; one who rejects it voids the
  hold and the money is available again. The post or void is the *settle* transfer.
- With Stripe, a withdrawal goes to the member's connected payout account (a
  ``PayoutAccount``, Stripe Connect Express): the admin's approval moves it to
  *sending*, a Stripe Transfer is made outside any transaction, and the hold is posted
  when Stripe answers with the transfer (*paid*). Money that comes back (the transfer
  reversed, or the payout to the bank failed and we reversed the transfer) is a
  REVERSAL of the settle transfer into the wallet (*returned*).

- A chargeback is a completed deposit (or part of one) that the provider took back: a
  dispute or a refund, one row per provider id. Its CHARGEBACK transfers move what the
  available balance covers from the wallet, and the rest from the member's debt
  account, into the chargebacks account; a dispute won returns it (CHARGEBACK_RETURN),
  paying the debt first, and a deposit pays a debt before anything else
  (DEBT_REPAYMENT).

Lifecycles are the transition tables below; services move a row only with an UPDATE
guarded by the state it is leaving, so a race has one winner. CHECK constraints are
the backstop for what a single row can say about itself.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow

PAYOUT_DETAILS_MAX = 200
PROVIDER_REFERENCE_MAX = 100
REDIRECT_URL_MAX = 2000


class DepositState(StrEnum):
    PENDING = "pending"  # started with the provider, not yet paid
    COMPLETED = "completed"  # paid: the DEPOSIT transfer is posted
    FAILED = "failed"  # the provider gave up; nothing moved


DEPOSIT_TRANSITIONS: dict[DepositState, set[DepositState]] = {
    DepositState.PENDING: {DepositState.COMPLETED, DepositState.FAILED},
    DepositState.COMPLETED: set(),
    DepositState.FAILED: set(),
}


class WithdrawalState(StrEnum):
    REQUESTED = "requested"  # the amount is held, waiting for an admin
    # approved by an admin; the Stripe transfer is being made, or failed and may be
    # retried (``send_failure``): the hold is still open
    SENDING = "sending"
    PAID = "paid"  # paid out (by hand, or Stripe made the transfer): the hold is posted
    REJECTED = "rejected"  # an admin refused it, with a reason: the hold is voided
    # the payout to the member's bank failed: the transfer is being reversed at Stripe
    RETURNING = "returning"
    RETURNED = "returned"  # the money came back: the settle transfer is reversed


WITHDRAWAL_TRANSITIONS: dict[WithdrawalState, set[WithdrawalState]] = {
    WithdrawalState.REQUESTED: {WithdrawalState.PAID, WithdrawalState.REJECTED,
                                WithdrawalState.SENDING},
    # rejected only after Stripe refused the transfer, never when unsure (services)
    WithdrawalState.SENDING: {WithdrawalState.PAID, WithdrawalState.REJECTED},
    WithdrawalState.PAID: {WithdrawalState.RETURNING, WithdrawalState.RETURNED},
    WithdrawalState.RETURNING: {WithdrawalState.RETURNED},
    WithdrawalState.REJECTED: set(),
    WithdrawalState.RETURNED: set(),
}


class SendFailure(StrEnum):
    """How the last attempt at a withdrawal's Stripe transfer failed."""

    REFUSED = "refused"  # Stripe answered 4xx: no transfer was made
    UNSURE = "unsure"  # a timeout or 5xx: the transfer may have been made


class Deposit(db.Model):
    __tablename__ = "deposits"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("state IN ('pending', 'completed', 'failed')", name="state"),
        # the transfer id is stored right after the guarded state change, in the same
        # transaction; the full "completed ⇔ one posted transfer" is invariant 10's check
        CheckConstraint("state = 'completed' OR transfer_id IS NULL",
                        name="transfer_only_when_completed"),
        CheckConstraint("(state = 'completed') = (completed_at IS NOT NULL)",
                        name="completed_at_iff_completed"),
        Index("ix_deposits_member_created", "member_id", "created_at", "id"),
        # a provider's webhook finds its deposit by reference
        Index("uq_deposits_provider_reference", "provider", "provider_reference", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    provider: Mapped[str] = mapped_column(String(24))
    provider_reference: Mapped[str] = mapped_column(String(PROVIDER_REFERENCE_MAX))
    # where the member pays, for a provider that confirms later (a checkout page)
    redirect_url: Mapped[str | None] = mapped_column(String(REDIRECT_URL_MAX))
    # the provider's id of the payment itself (Stripe's payment intent), once it is paid
    payment_reference: Mapped[str | None] = mapped_column(String(PROVIDER_REFERENCE_MAX))
    state: Mapped[str] = mapped_column(String(16), default=DepositState.PENDING)
    transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    completed_at: Mapped[datetime | None]

    member: Mapped[User] = relationship(lazy="raise")

    def __repr__(self) -> str:
        return f"<Deposit {self.id} {self.state} {self.amount_minor}>"


class PayoutAccount(db.Model):
    """A member's connected payout account at the provider (a Stripe Connect Express
    account), one per member, and its state as the provider last told us (the return
    page reads it from the API, ``account.updated`` events refresh it)."""

    __tablename__ = "payout_accounts"
    __table_args__ = (
        Index("uq_payout_accounts_provider_account", "provider", "account_reference",
              unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    provider: Mapped[str] = mapped_column(String(24))
    account_reference: Mapped[str] = mapped_column(String(PROVIDER_REFERENCE_MAX))
    is_details_submitted: Mapped[bool] = mapped_column(default=False)
    is_payouts_enabled: Mapped[bool] = mapped_column(default=False)
    requirements_due: Mapped[int] = mapped_column(default=0)  # how many items are due
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    refreshed_at: Mapped[datetime | None]

    @property
    def is_ready(self) -> bool:
        return self.is_payouts_enabled

    def __repr__(self) -> str:
        return f"<PayoutAccount {self.member_id} {self.account_reference}>"


class Withdrawal(db.Model):
    __tablename__ = "withdrawals"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("state IN ('requested', 'sending', 'paid', 'rejected', 'returning', "
                        "'returned')", name="state"),
        CheckConstraint("length(trim(payout_details)) > 0", name="payout_details_given"),
        CheckConstraint("state NOT IN ('requested', 'sending') OR settle_transfer_id IS NULL",
                        name="settled_only_when_decided"),
        CheckConstraint("state IN ('paid', 'returning', 'returned') "
                        "OR transfer_reference IS NULL", name="transfer_only_when_paid"),
        CheckConstraint("(state = 'returned') = (return_transfer_id IS NOT NULL)",
                        name="return_iff_returned"),
        CheckConstraint("(state = 'requested') = (decided_at IS NULL)", name="decided_at"),
        CheckConstraint("(state = 'rejected') = (reason IS NOT NULL)",
                        name="reason_iff_rejected"),
        Index("ix_withdrawals_member_created", "member_id", "created_at", "id"),
        Index("ix_withdrawals_state_created", "state", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    # where to pay: free text the member typed (an IBAN, a PayPal address...)
    payout_details: Mapped[str] = mapped_column(String(PAYOUT_DETAILS_MAX))
    state: Mapped[str] = mapped_column(String(16), default=WithdrawalState.REQUESTED)
    # the pending reservation; NULL only inside the transaction that creates both,
    # since the transfer's cause needs this row's id first
    hold_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), unique=True)
    # the post (paid) or void (rejected) of the hold
    settle_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"),
                                                           unique=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)  # why it was rejected; the member sees it
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # with Stripe: the connected account it goes to, and the Transfer once made
    payout_account_id: Mapped[int | None] = mapped_column(ForeignKey("payout_accounts.id"))
    transfer_reference: Mapped[str | None] = mapped_column(String(PROVIDER_REFERENCE_MAX),
                                                           unique=True)
    # Stripe refusals so far: part of the transfer's idempotency key, since Stripe keeps
    # a refused request's answer for its key (a retry after a refusal needs a new key;
    # a retry after a timeout or 5xx must reuse the old one)
    send_refusals: Mapped[int] = mapped_column(default=0, server_default="0")
    send_failure: Mapped[str | None] = mapped_column(String(16))  # a SendFailure
    send_error: Mapped[str | None] = mapped_column(Text)  # what Stripe said, for the admin
    # the REVERSAL of the settle transfer that brought the money back
    return_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"),
                                                           unique=True)

    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="raise")

    def __repr__(self) -> str:
        return f"<Withdrawal {self.id} {self.state} {self.amount_minor}>"


class ChargebackKind(StrEnum):
    DISPUTE = "dispute"  # the card holder disputed the payment with their bank
    REFUND = "refund"  # the payment was refunded (from the provider's dashboard)


class ChargebackState(StrEnum):
    TAKEN = "taken"  # the amount left the wallet (and what it lacked is owed)
    RETURNED = "returned"  # a dispute won or a refund failed: the amount came back


CHARGEBACK_TRANSITIONS: dict[ChargebackState, set[ChargebackState]] = {
    ChargebackState.TAKEN: {ChargebackState.RETURNED},
    ChargebackState.RETURNED: set(),
}


class Chargeback(db.Model):
    """A completed deposit (part of one) that the provider took back: a dispute or a refund.

    Its amount moved wallet → chargebacks as far as the available balance went
    (``covered_minor``); the rest (``debt_minor``) moved from the member's debt account,
    which they pay back from their next deposits. One row per provider object (the
    dispute's or refund's id, unique), so a second event about it moves nothing. A
    return (dispute won) moves the amount back, paying the member's debt first.
    """

    __tablename__ = "chargebacks"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in ChargebackKind)})",
                        name="kind"),
        CheckConstraint(f"state IN ({', '.join(repr(s.value) for s in ChargebackState)})",
                        name="state"),
        CheckConstraint("amount_minor >= 0 AND covered_minor >= 0 AND debt_minor >= 0",
                        name="amounts_not_negative"),
        CheckConstraint("covered_minor + debt_minor = amount_minor", name="parts_add_up"),
        CheckConstraint("(state = 'returned') = (returned_at IS NOT NULL)",
                        name="returned_at_iff_returned"),
        Index("uq_chargebacks_provider_reference", "provider", "provider_reference",
              unique=True),
        Index("ix_chargebacks_deposit", "deposit_id"),
        Index("ix_chargebacks_member_created", "member_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_id: Mapped[int] = mapped_column(ForeignKey("deposits.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(24))
    # the provider's id of the dispute or refund (Stripe's dp_…, re_…)
    provider_reference: Mapped[str] = mapped_column(String(PROVIDER_REFERENCE_MAX))
    reason: Mapped[str] = mapped_column(String(100), default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=ChargebackState.TAKEN)
    # taken back in all; 0 for a dispute closed before we heard it was opened
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    covered_minor: Mapped[int] = mapped_column(BigInteger)  # from the available balance
    debt_minor: Mapped[int] = mapped_column(BigInteger)  # the shortfall, owed
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    returned_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Chargeback {self.id} {self.kind} {self.state} {self.amount_minor}>"


# One transition table per stateful model, looked up by the services' ``_move``.
TRANSITIONS: dict[type, dict] = {Deposit: DEPOSIT_TRANSITIONS, Withdrawal: WITHDRAWAL_TRANSITIONS,
                                 Chargeback: CHARGEBACK_TRANSITIONS}
STATES: dict[type, type[StrEnum]] = {Deposit: DepositState, Withdrawal: WithdrawalState,
                                     Chargeback: ChargebackState}
