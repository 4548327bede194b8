"""Ledger tables: accounts, immutable transfers, idempotency keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    event,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow


class AccountKind(StrEnum):
    WALLET = "wallet"  # a member's money on the site
    PLATFORM_REVENUE = "platform_revenue"  # fees and the platform's commission share
    ESCROW = "escrow"  # money held for milestones
    EXTERNAL = "external"  # the outside world: deposits come from it, payouts go to it
    # deposits the payment provider took back (a dispute, a refund): credited with each
    CHARGEBACKS = "chargebacks"
    # what a member owes the chargebacks account: debit-normal, its balance is never
    # above zero (- owed); debited by a chargeback the wallet didn't cover, credited as
    # the member pays it back
    DEBT = "debt"
    # money that came back from outside for a member who deleted their account (a
    # withdrawal returned, a dispute won): nobody can spend it, so it waits here, each
    # sum with an open case, for an admin to send it on
    UNCLAIMED = "unclaimed"


# Accounts that are not owned by a member; there is one of each.
SYSTEM_KINDS = (AccountKind.PLATFORM_REVENUE, AccountKind.ESCROW, AccountKind.EXTERNAL,
                AccountKind.CHARGEBACKS, AccountKind.UNCLAIMED)
# Accounts a member owns, one of each kind per member.
MEMBER_KINDS = (AccountKind.WALLET, AccountKind.DEBT)


class TransferKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    PREPAID_CLICK = "prepaid_click"
    POSTPAID_CLICK = "postpaid_click"
    ESCROW = "escrow"
    COMMISSION = "commission"
    TRANSFER = "transfer"
    REVERSAL = "reversal"
    CHARGEBACK = "chargeback"  # a deposit taken back: wallet (or debt) → chargebacks
    CHARGEBACK_RETURN = "chargeback_return"  # a dispute won: chargebacks → debt, wallet
    DEBT_REPAYMENT = "debt_repayment"  # a deposit paying a debt first: wallet → debt


class TransferState(StrEnum):
    POSTED = "posted"  # moved at once
    PENDING = "pending"  # reserved: counted in the *_pending counters
    POST_PENDING = "post_pending"  # resolves a pending transfer by posting (part of) it
    VOID_PENDING = "void_pending"  # resolves a pending transfer by releasing it


class LedgerAccount(db.Model):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint("debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
                        "AND credits_posted >= 0", name="counters_not_negative"),
        # the last line of defence; services check first with a guarded UPDATE
        CheckConstraint("NOT no_overdraft OR "
                        "credits_posted - debits_posted - debits_pending >= 0",
                        name="no_overdraft"),
        CheckConstraint(f"(kind IN ({', '.join(repr(k.value) for k in MEMBER_KINDS)})) = "
                        "(owner_id IS NOT NULL)", name="owner_iff_member_kind"),
        Index("uq_ledger_accounts_owner_kind", "owner_id", "kind", unique=True,
              sqlite_where=text("owner_id IS NOT NULL"),
              postgresql_where=text("owner_id IS NOT NULL")),
        Index("uq_ledger_accounts_system_kind", "kind", unique=True,
              sqlite_where=text("owner_id IS NULL"), postgresql_where=text("owner_id IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    currency: Mapped[str] = mapped_column(String(3))
    no_overdraft: Mapped[bool]
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def owed(self) -> int:
        """For a debt account: what the member still owes (its balance is - owed)."""
        return self.debits_posted - self.credits_posted

    @property
    def held(self) -> int:
        return self.debits_pending

    @property
    def available(self) -> int:
        return self.balance - self.debits_pending


class Transfer(db.Model):
    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        CheckConstraint("(state IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
                        name="resolution_names_pending"),
        CheckConstraint("state IN ('posted', 'pending', 'post_pending', 'void_pending')",
                        name="state"),
        Index("ix_transfers_debit_created", "debit_account_id", "created_at", "id"),
        Index("ix_transfers_credit_created", "credit_account_id", "created_at", "id"),
        Index("ix_transfers_cause", "cause_type", "cause_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(32), index=True)
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(24))
    state: Mapped[str] = mapped_column(String(16))
    # a reservation is resolved at most once: the database refuses a second resolution
    pending_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), unique=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"), unique=True)
    cause_type: Mapped[str | None] = mapped_column(String(24))
    cause_id: Mapped[int | None]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class IdempotencyKey(db.Model):
    """One effect per (member, key): the first request's outcome is stored and replayed."""

    __tablename__ = "idempotency_keys"

    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    outcome: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


# Transfers are immutable (invariant 7): the database refuses UPDATE and DELETE.
# (TRUNCATE, used only by the test suite between tests, is not a row event.)
IMMUTABLE_TRANSFERS_SQLITE = [
    "CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers "
    "BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END",
    "CREATE TRIGGER transfers_no_delete BEFORE DELETE ON transfers "
    "BEGIN SELECT RAISE(ABORT, 'transfers are immutable'); END",
]
IMMUTABLE_TRANSFERS_POSTGRESQL = [
    "CREATE FUNCTION transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'transfers are immutable'; END $$",
    "CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers "
    "FOR EACH ROW EXECUTE FUNCTION transfers_immutable()",
]
DROP_IMMUTABLE_TRANSFERS_SQLITE = ["DROP TRIGGER IF EXISTS transfers_no_update",
                                   "DROP TRIGGER IF EXISTS transfers_no_delete"]
DROP_IMMUTABLE_TRANSFERS_POSTGRESQL = [
    "DROP TRIGGER IF EXISTS transfers_immutable ON transfers",
    "DROP FUNCTION IF EXISTS transfers_immutable()"]

for _statement in IMMUTABLE_TRANSFERS_SQLITE:
    event.listen(Transfer.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="sqlite"))
for _statement in IMMUTABLE_TRANSFERS_POSTGRESQL:
    event.listen(Transfer.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
