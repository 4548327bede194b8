"""The ledger's invariants (shared/ledger.md), recomputed from the transfer rows.

``run_checks`` returns the failures; ``flask ledger check`` prints them and exits
non-zero. Features add checks of their own (their states against their transfers)
as functions with the same shape: () -> list[Failure], reading through ``db.session``.

All the checks of one run read one snapshot (``read_snapshot``): each reads in
several statements, and under load a business event committing between two of
them made the check report broken invariants that were not broken.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, text
from sqlalchemy.orm import aliased

from offload.core.db import db, is_postgresql, read_snapshot

from .models import (
    AccountKind,
    IdempotencyKey,
    LedgerAccount,
    Transfer,
    TransferKind,
    TransferState,
)


def with_hold(stmt: Select, hold_transfer_id: ColumnElement[int | None]) -> Select:
    """``stmt`` (a feature's rows, for its check against the ledger) with the hold
    ``hold_transfer_id`` points at and the transfer that settled it, as the columns
    hold_id, hold_kind, hold_state, held, hold_debit, hold_credit, cause_type, cause_id,
    settle_id, settle_state, settled (None where there is no such transfer)."""
    hold, settle = aliased(Transfer), aliased(Transfer)
    return (stmt.add_columns(
        hold.id.label("hold_id"), hold.kind.label("hold_kind"),
        hold.state.label("hold_state"), hold.amount_minor.label("held"),
        hold.debit_account_id.label("hold_debit"), hold.credit_account_id.label("hold_credit"),
        hold.cause_type.label("cause_type"), hold.cause_id.label("cause_id"),
        settle.id.label("settle_id"), settle.state.label("settle_state"),
        settle.amount_minor.label("settled"))
        .outerjoin(hold, hold.id == hold_transfer_id)
        .outerjoin(settle, settle.pending_id == hold_transfer_id))


@dataclass(frozen=True)
class Failure:
    invariant: int
    name: str
    detail: str
    account_ids: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        ids = ", ".join(map(str, self.account_ids))
        accounts = f" [accounts {ids}]" if ids else ""
        return f"invariant {self.invariant} ({self.name}): {self.detail}{accounts}"


Check = Callable[[], list[Failure]]


def check_transfer_shape() -> list[Failure]:
    """1. Each transfer: amount > 0, two different accounts, one currency."""
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    rows = db.session.execute(
        select(Transfer.id, Transfer.debit_account_id, Transfer.credit_account_id)
        .join(debit, debit.id == Transfer.debit_account_id)
        .join(credit, credit.id == Transfer.credit_account_id)
        .where((Transfer.amount_minor <= 0)
               | (Transfer.debit_account_id == Transfer.credit_account_id)
               | (debit.currency != Transfer.currency) | (credit.currency != Transfer.currency))
    ).all()
    return [Failure(1, "transfer shape", f"transfer {r.id} is malformed",
                    (r.debit_account_id, r.credit_account_id)) for r in rows]


def check_zero_sum() -> list[Failure]:
    """2. Across all accounts the posted sums and the pending sums are each zero."""
    sums = db.session.execute(select(
        func.coalesce(func.sum(LedgerAccount.debits_posted), 0),
        func.coalesce(func.sum(LedgerAccount.credits_posted), 0),
        func.coalesce(func.sum(LedgerAccount.debits_pending), 0),
        func.coalesce(func.sum(LedgerAccount.credits_pending), 0))).one()
    failures = []
    if sums[0] != sums[1]:
        failures.append(Failure(2, "zero sum", f"posted debits {sums[0]} != credits {sums[1]}"))
    if sums[2] != sums[3]:
        failures.append(Failure(2, "zero sum", f"pending debits {sums[2]} != credits {sums[3]}"))
    return failures


def recomputed_counters() -> dict[int, dict[str, int]]:
    """Every account's four counters as the transfer rows say they should be."""
    resolution = aliased(Transfer)
    open_pending = and_(Transfer.state == TransferState.PENDING,
                        ~exists().where(resolution.pending_id == Transfer.id))
    posted = Transfer.state.in_((TransferState.POSTED, TransferState.POST_PENDING))
    counters: dict[int, dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("debits_pending", "debits_posted", "credits_pending",
                               "credits_posted"), 0))
    for side, column in (("debits", Transfer.debit_account_id),
                         ("credits", Transfer.credit_account_id)):
        for suffix, condition in (("posted", posted), ("pending", open_pending)):
            for account_id, total in db.session.execute(
                    select(column, func.sum(Transfer.amount_minor)).where(condition)
                    .group_by(column)):
                counters[account_id][f"{side}_{suffix}"] = int(total)
    return counters


def check_counters() -> list[Failure]:
    """3. Stored counters equal a full recomputation from the transfer rows."""
    expected = recomputed_counters()
    failures = []
    for account in db.session.scalars(select(LedgerAccount).order_by(LedgerAccount.id)):
        want = expected.get(account.id) or dict.fromkeys(
            ("debits_pending", "debits_posted", "credits_pending", "credits_posted"), 0)
        wrong = [f"{name} is {getattr(account, name)}, transfers say {value}"
                 for name, value in want.items() if getattr(account, name) != value]
        if wrong:
            failures.append(Failure(3, "counters match transfers", "; ".join(wrong),
                                    (account.id,)))
    return failures


def check_no_overdraft() -> list[Failure]:
    """4. No ``no_overdraft`` account is overdrawn."""
    rows = db.session.execute(select(LedgerAccount.id).where(
        LedgerAccount.no_overdraft.is_(True),
        LedgerAccount.credits_posted - LedgerAccount.debits_posted
        - LedgerAccount.debits_pending < 0)).scalars().all()
    return [Failure(4, "no overdraft", "available balance below zero", (i,)) for i in rows]


def check_reservations() -> list[Failure]:
    """5. A reservation is resolved at most once; the posted part is at most the reserved."""
    pending = aliased(Transfer)
    rows = db.session.execute(
        select(Transfer.id, Transfer.pending_id, Transfer.state, Transfer.amount_minor,
               pending.state.label("pending_state"), pending.amount_minor.label("reserved"),
               Transfer.debit_account_id, Transfer.credit_account_id,
               pending.debit_account_id.label("p_debit"),
               pending.credit_account_id.label("p_credit"))
        .join(pending, pending.id == Transfer.pending_id)).all()
    failures, seen = [], set()
    for r in rows:
        problems = []
        if r.pending_id in seen:
            problems.append("resolved twice")
        seen.add(r.pending_id)
        if r.pending_state != TransferState.PENDING:
            problems.append("resolves a transfer that was not a reservation")
        if r.state == TransferState.POST_PENDING and r.amount_minor > r.reserved:
            problems.append(f"posts {r.amount_minor} of {r.reserved} reserved")
        if r.state == TransferState.VOID_PENDING and r.amount_minor != r.reserved:
            problems.append(f"voids {r.amount_minor} of {r.reserved} reserved")
        if (r.debit_account_id, r.credit_account_id) != (r.p_debit, r.p_credit):
            problems.append("moves between other accounts than its reservation")
        if problems:
            failures.append(Failure(5, "reservations resolved once",
                                    f"transfer {r.id} (of reservation {r.pending_id}): "
                                    + ", ".join(problems),
                                    (r.debit_account_id, r.credit_account_id)))
    return failures


def check_idempotency() -> list[Failure]:
    """6. One effect per idempotency key: each key's batch exists, and no batch has two keys."""
    missing = db.session.execute(
        select(IdempotencyKey.member_id, IdempotencyKey.key).where(
            IdempotencyKey.batch_id.is_not(None),
            ~exists().where(Transfer.batch_id == IdempotencyKey.batch_id))).all()
    shared = db.session.execute(
        select(IdempotencyKey.batch_id).where(IdempotencyKey.batch_id.is_not(None))
        .group_by(IdempotencyKey.batch_id).having(func.count() > 1)).scalars().all()
    return [Failure(6, "one effect per key",
                    f"key of member {m.member_id} names a batch that does not exist")
            for m in missing] + [
        Failure(6, "one effect per key", f"batch {batch} is the effect of several keys")
        for batch in shared]


def check_immutability() -> list[Failure]:
    """7. Transfers are never updated or deleted: the refusing triggers are in place,
    enabled, and still refuse (their body raises)."""
    if is_postgresql():
        rows = db.session.execute(text(
            "SELECT t.tgname, t.tgenabled, p.prosrc FROM pg_trigger t "
            "JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE t.tgrelid = 'transfers'::regclass AND NOT t.tgisinternal")).all()
        working = {r.tgname for r in rows
                   if r.tgenabled in ("O", "A") and "RAISE EXCEPTION" in r.prosrc.upper()}
        wanted = {"transfers_immutable"}
    else:
        rows = db.session.execute(text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'transfers'")).all()
        working = {r.name for r in rows if "RAISE(ABORT" in r.sql.upper().replace(" ", "")}
        wanted = {"transfers_no_update", "transfers_no_delete"}
    if wanted - working:
        return [Failure(7, "transfers immutable", "missing, disabled or harmless triggers: "
                        + ", ".join(sorted(wanted - working)))]
    return []


def check_commissions() -> list[Failure]:
    """8. Commission parts add up: each commission batch is one payer's two parts.

    (The parts are computed by ``commission_split``; the invoiced amount lives with the
    project, whose own check compares them once projects exist.)
    """
    legs: dict[str, list] = defaultdict(list)
    for row in db.session.execute(select(Transfer.batch_id, Transfer.debit_account_id,
                                         Transfer.amount_minor)
                                  .where(Transfer.kind == TransferKind.COMMISSION,
                                         Transfer.state == TransferState.POSTED)):
        legs[row.batch_id].append(row)
    return [Failure(8, "commission parts", f"commission batch {batch} has {len(rows)} legs "
                    "or several payers", tuple({r.debit_account_id for r in rows}))
            for batch, rows in legs.items()
            if len(rows) != 2 or len({r.debit_account_id for r in rows}) != 1]


# which transfers may touch a debt account, and on which side
DEBT_DEBITS = (TransferKind.CHARGEBACK,)  # a shortfall owed
DEBT_CREDITS = (TransferKind.DEBT_REPAYMENT, TransferKind.CHARGEBACK_RETURN)  # paid back


def check_debts() -> list[Failure]:
    """12. A member's debt is never negative: a debt account's balance is at most zero
    (nobody is owed through it), it holds nothing pending, and only a chargeback's
    shortfall debits it, only a repayment or a dispute won credits it."""
    accounts = db.session.execute(select(
        LedgerAccount.id, LedgerAccount.owner_id, LedgerAccount.debits_posted,
        LedgerAccount.credits_posted, LedgerAccount.debits_pending,
        LedgerAccount.credits_pending).where(LedgerAccount.kind == AccountKind.DEBT)
        .order_by(LedgerAccount.id)).all()
    failures = [Failure(12, "debts not negative", f"debt account of member {a.owner_id} "
                        f"is credited {a.credits_posted} for {a.debits_posted} owed"
                        + (" and holds pending money" if a.debits_pending or a.credits_pending
                           else ""), (a.id,))
                for a in accounts if a.credits_posted > a.debits_posted
                or a.debits_pending or a.credits_pending]
    ids = [a.id for a in accounts]
    if ids:
        wrong = db.session.execute(
            select(Transfer.id, Transfer.kind, Transfer.debit_account_id,
                   Transfer.credit_account_id)
            .where(or_(and_(Transfer.debit_account_id.in_(ids),
                            Transfer.kind.not_in(DEBT_DEBITS)),
                       and_(Transfer.credit_account_id.in_(ids),
                            Transfer.kind.not_in(DEBT_CREDITS))))
            .order_by(Transfer.id)).all()
        failures += [Failure(12, "debts not negative", f"a {r.kind} transfer {r.id} moves a "
                             "debt account", (r.debit_account_id, r.credit_account_id))
                     for r in wrong]
    return failures


LEDGER_CHECKS: tuple[Check, ...] = (
    check_transfer_shape, check_zero_sum, check_counters, check_no_overdraft,
    check_reservations, check_idempotency, check_immutability, check_commissions,
    check_debts)


def run_checks(checks: Iterable[Check] = LEDGER_CHECKS, *,
               in_current_transaction: bool = False) -> list[Failure]:
    """Run ``checks`` in one read-only snapshot of committed data, on a connection of
    their own (never the caller's transaction), and return their failures.

    ``in_current_transaction=True`` runs them in the caller's transaction instead, with
    its unfinished writes: only for tests that corrupt the ledger in a transaction they
    roll back.
    """
    if in_current_transaction:
        return [failure for check in checks for failure in check()]
    with read_snapshot():
        return [failure for check in checks for failure in check()]
