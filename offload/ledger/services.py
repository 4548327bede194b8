"""Ledger operations: post, reserve, post or void a reservation, reverse, split commission.

Each operation is one transaction (it joins the caller's, or opens its own and retries
on PostgreSQL serialization failures and deadlocks). Amounts are ``int`` minor units.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import and_, or_, select, update

from offload.core.db import (
    db,
    insert_ignoring_conflicts,
    is_postgresql,
    on_commit,
    transactional,
)
from offload.core.errors import Invalid, OffloadError
from offload.core.money import format_money, share
from offload.core.transitions import insert_once

from .idempotency import claim_key, record_outcome
from .models import SYSTEM_KINDS, AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

log = logging.getLogger("offload.ledger")


class InsufficientFunds(OffloadError):
    """The paying account's available balance does not cover the amount."""


@dataclass(frozen=True)
class Leg:
    """One movement of a batch: ``amount`` minor units from ``debit_id`` to ``credit_id``."""

    debit_id: int
    credit_id: int
    amount: int
    kind: TransferKind
    memo: str = ""


@dataclass(frozen=True)
class Cause:
    """What a transfer is for: the business row it belongs to (``"withdrawal"``, 7)."""

    type: str
    id: int | None = None


@dataclass(frozen=True)
class Idempotency:
    """A member's one-time key and the request it was sent with."""

    member_id: int
    key: str
    request: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    batch_id: str
    transfer_ids: tuple[int, ...]
    replayed: bool = False

    def outcome(self) -> dict:
        return {"batch_id": self.batch_id, "transfer_ids": list(self.transfer_ids)}


# --- accounts ---------------------------------------------------------------------

def _currency() -> str:
    return current_app.config["CURRENCY"]


def wallet_account(member_id: int) -> LedgerAccount:
    """The member's wallet account, created on first use (joins the caller's transaction)."""
    return _account_created_on_first_use(
        (LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.WALLET),
        kind=AccountKind.WALLET, owner_id=member_id, no_overdraft=True)


def system_account(kind: AccountKind) -> LedgerAccount:
    """The platform's revenue, escrow or external account, created on first use."""
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"{kind} is not a system account")
    return _account_created_on_first_use(
        (LedgerAccount.owner_id.is_(None), LedgerAccount.kind == kind),
        kind=kind, owner_id=None, no_overdraft=kind != AccountKind.EXTERNAL)


def debt_account(member_id: int) -> LedgerAccount:
    """The member's debt account (what they owe the chargebacks account), created on
    first use: it may go below zero (``no_overdraft`` off), never above (a check)."""
    return _account_created_on_first_use(
        (LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.DEBT),
        kind=AccountKind.DEBT, owner_id=member_id, no_overdraft=False)


def existing_debt_account(member_id: int) -> LedgerAccount | None:
    """The member's debt account read fresh, or None if they never owed; creates nothing."""
    return db.session.scalars(select(LedgerAccount).where(
        LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.DEBT)
        .execution_options(populate_existing=True)).one_or_none()


def wallet_and_system_ids(member_id: int, kind: AccountKind) -> tuple[int, int]:
    """The ids of the member's wallet and of a system account, read in one query (a fee
    moves between them); either is created on first use (joins the caller's transaction)."""
    wallet_id, system_id = existing_wallet_and_system_ids(member_id, kind)
    return (wallet_id or wallet_account(member_id).id, system_id or system_account(kind).id)


def existing_wallet_and_system_ids(member_id: int, kind: AccountKind
                                   ) -> tuple[int | None, int | None]:
    """``wallet_and_system_ids`` without creating either: None for one not made yet.
    Reads only, so a service may ask before its write transaction (an account, once
    made, is never removed and keeps its id)."""
    if kind not in SYSTEM_KINDS:
        raise ValueError(f"{kind} is not a system account")
    found = dict(db.session.execute(select(LedgerAccount.kind, LedgerAccount.id).where(or_(
        and_(LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.WALLET),
        and_(LedgerAccount.owner_id.is_(None), LedgerAccount.kind == kind)))).all())
    return found.get(AccountKind.WALLET), found.get(kind)


def _account_created_on_first_use(where: tuple, **values) -> LedgerAccount:
    # Read first: the account nearly always exists. Two first uses at once both insert;
    # the unique index keeps one row and the conflict is ignored, then both read it.
    found = select(LedgerAccount).where(*where).execution_options(populate_existing=True)
    account = db.session.scalars(found).one_or_none()
    if account is None:
        db.session.execute(insert_ignoring_conflicts(LedgerAccount).values(
            currency=_currency(), debits_pending=0, debits_posted=0, credits_pending=0,
            credits_posted=0, **values))
        account = db.session.scalars(found).one()
    return account


def lock_accounts(account_ids: Iterable[int]) -> None:
    """Row-lock every account the caller's transaction will touch, before it moves money.

    One transaction that moves money in several steps (an expiry releasing many holds,
    an award charging one fee and releasing the others) must take all its account locks
    at once, in one ascending order: taken step by step, it holds platform revenue and
    then reaches for a wallet with a lower id, while an offer holding that wallet waits
    for revenue, and one of the two dies in a deadlock. Later steps touching only these
    accounts take no new lock. Joins the caller's transaction.
    """
    _lock_accounts(set(account_ids))


def _held_locks() -> set[int]:
    """The accounts locked so far in the session's current (outermost) transaction."""
    session = db.session()  # the Session behind the scoped proxy
    root = session.get_transaction()
    held = session.info.get("ledger_locked_accounts")
    if held is None or held[0] is not root:
        held = (root, set())
        session.info["ledger_locked_accounts"] = held
    return held[1]


def _lock_accounts(account_ids: set[int]) -> None:
    """Row-lock the accounts in ascending id order so that two batches never deadlock.

    ``FOR NO KEY UPDATE`` (not ``FOR UPDATE``): inserting a transfer takes a KEY SHARE
    lock on both accounts through its foreign keys, which FOR UPDATE would conflict
    with, deadlocking two operations that each inserted first. SQLite has no row
    locks; its writers are already serialised by BEGIN IMMEDIATE.

    The order must hold across the whole transaction, not only within one call: an
    account below one already locked is a deadlock waiting to happen (the caller
    should have called ``lock_accounts`` up front). It is logged, and refused when
    ``LEDGER_STRICT_LOCK_ORDER`` is set (the tests set it), on both databases.
    """
    held = _held_locks()
    new = account_ids - held
    if not new:
        return
    if held and min(new) < max(held):
        message = (f"ledger accounts {sorted(new)} locked after {sorted(held)}: lock every "
                   "account up front with lock_accounts()")
        if current_app.config.get("LEDGER_STRICT_LOCK_ORDER"):
            raise RuntimeError(message)
        log.warning(message)
    if is_postgresql():
        # all of them again, not only the new ones: a savepoint rolled back since may
        # have released some (relocking one already held costs nothing)
        db.session.execute(select(LedgerAccount.id).where(LedgerAccount.id.in_(account_ids))
                           .order_by(LedgerAccount.id).with_for_update(key_share=True))
    held |= new


def accounts_of(transfer_ids: Iterable[int]) -> set[int]:
    """Both accounts of each of these transfers (to lock them up front); reads only."""
    ids = set(transfer_ids)
    if not ids:
        return set()
    rows = db.session.execute(select(Transfer.debit_account_id, Transfer.credit_account_id)
                              .where(Transfer.id.in_(ids))).all()
    return {a for row in rows for a in row}


def _change(account_id: int, guard=None, **deltas: int) -> bool:
    """Add ``deltas`` to the account's counters, only where ``guard`` holds; True if done."""
    values = {name: getattr(LedgerAccount, name) + delta for name, delta in deltas.items()}
    stmt = update(LedgerAccount).where(LedgerAccount.id == account_id)
    if guard is not None:
        stmt = stmt.where(guard)
    return db.session.execute(
        stmt.values(values).execution_options(synchronize_session=False)).rowcount == 1


def _covers(amount: int):
    return or_(LedgerAccount.no_overdraft.is_(False),
               LedgerAccount.credits_posted - LedgerAccount.debits_posted
               - LedgerAccount.debits_pending >= amount)


def _refuse_insufficient(account_id: int, amount: int) -> None:
    account = db.session.get(LedgerAccount, account_id, populate_existing=True)
    raise InsufficientFunds(
        f"The available balance ({format_money(account.available, account.currency)}) "
        f"doesn't cover {format_money(amount, account.currency)}.")


def first_uncovered(legs: list[Leg]) -> Leg | None:
    """The first leg whose paying account wouldn't cover it if ``legs`` were posted in
    this order, or None when all are covered; moves nothing.

    Locks every account the legs touch (ascending id order, as every operation here
    does) until the caller's transaction ends, so the answer holds for the postings
    and reversals the caller then makes in it: check up front, then move.
    """
    ids = {a for leg in legs for a in (leg.debit_id, leg.credit_id)}
    _lock_accounts(ids)
    accounts = db.session.scalars(select(LedgerAccount).where(LedgerAccount.id.in_(ids))
                                  .execution_options(populate_existing=True)).all()
    available = {a.id: a.available for a in accounts}
    may_overdraw = {a.id for a in accounts if not a.no_overdraft}
    for leg in legs:
        if leg.debit_id not in may_overdraw and available[leg.debit_id] < leg.amount:
            return leg
        available[leg.debit_id] -= leg.amount
        available[leg.credit_id] += leg.amount
    return None


# --- posting and reserving ----------------------------------------------------------

@transactional
def post_batch(legs: list[Leg], *, cause: Cause, actor_id: int | None,
               idempotency: Idempotency | None = None, pending: bool = False) -> Batch:
    """Post (or, with ``pending``, reserve) every leg, all or none.

    Money: each leg's debit account pays; a ``no_overdraft`` account never goes below
    zero available. Refuses: a leg that isn't positive or moves money to itself.
    """
    for leg in legs:
        if leg.amount <= 0 or leg.debit_id == leg.credit_id:
            raise Invalid("A transfer needs a positive amount between two accounts.")
    if len(legs) == 1 and idempotency is None:
        # one leg refused has written nothing (its guarded debit is its first write), so
        # there is no half batch to undo: no savepoint
        return _post_batch(legs, cause=cause, actor_id=actor_id, idempotency=None,
                           pending=pending)
    # a savepoint: a caller that catches a refusal and carries on keeps no half batch
    with db.session.begin_nested():
        return _post_batch(legs, cause=cause, actor_id=actor_id, idempotency=idempotency,
                           pending=pending)


def _post_batch(legs: list[Leg], *, cause: Cause, actor_id: int | None,
                idempotency: Idempotency | None, pending: bool) -> Batch:
    if idempotency:
        # the movement itself is part of the fingerprint: a key reused for other legs is refused
        stored = claim_key(idempotency.member_id, idempotency.key, {
            "op": "post_batch", "pending": pending, **idempotency.request,
            "legs": [[leg.debit_id, leg.credit_id, leg.amount, str(leg.kind)] for leg in legs]})
        if stored is not None:
            return Batch(stored["batch_id"], tuple(stored["transfer_ids"]), replayed=True)
    _lock_accounts({a for leg in legs for a in (leg.debit_id, leg.credit_id)})
    debit_col, credit_col = ("debits_pending", "credits_pending") if pending else \
        ("debits_posted", "credits_posted")
    batch_id = uuid.uuid4().hex
    transfers = []
    for leg in legs:
        if not _change(leg.debit_id, _covers(leg.amount), **{debit_col: leg.amount}):
            _refuse_insufficient(leg.debit_id, leg.amount)
        _change(leg.credit_id, **{credit_col: leg.amount})
        transfers.append(Transfer(
            batch_id=batch_id, debit_account_id=leg.debit_id, credit_account_id=leg.credit_id,
            amount_minor=leg.amount, currency=_currency(), kind=leg.kind,
            state=TransferState.PENDING if pending else TransferState.POSTED,
            cause_type=cause.type, cause_id=cause.id, actor_id=actor_id, memo=leg.memo))
    db.session.add_all(transfers)
    db.session.flush()
    batch = Batch(batch_id, tuple(t.id for t in transfers))
    if idempotency:
        record_outcome(idempotency.member_id, idempotency.key, batch.outcome(), batch_id)
    # logged once committed: a batch rolled back (a lost race, a deadlock) moved nothing
    facts = {"batch_id": batch_id, "cause": f"{cause.type}:{cause.id}", "pending": pending,
             "legs": len(legs), "total_minor": sum(leg.amount for leg in legs)}
    on_commit(lambda: log.info("ledger batch", extra=facts))
    return batch


def post_transfer(leg: Leg, *, cause: Cause, actor_id: int | None,
                  idempotency: Idempotency | None = None) -> Transfer:
    """Post one leg at once (deposits, prepaid fees, payouts of posted money)."""
    batch = post_batch([leg], cause=cause, actor_id=actor_id, idempotency=idempotency)
    return db.session.get(Transfer, batch.transfer_ids[0])


def reserve(leg: Leg, *, cause: Cause, actor_id: int | None,
            idempotency: Idempotency | None = None) -> Transfer:
    """Reserve one leg: the debit account's available balance drops, its balance does not."""
    batch = post_batch([leg], cause=cause, actor_id=actor_id, idempotency=idempotency,
                       pending=True)
    return db.session.get(Transfer, batch.transfer_ids[0])


def reserve_covered(leg: Leg, *, cause: Cause, actor_id: int | None,
                    refused: Callable[[int], Exception]) -> Transfer:
    """``reserve``; when the paying account can't cover the leg, raises what
    ``refused`` makes of its available balance (read again: it is what just fell short),
    for a refusal in the member's words."""
    try:
        return reserve(leg, cause=cause, actor_id=actor_id)
    except InsufficientFunds:
        available = db.session.get(LedgerAccount, leg.debit_id, populate_existing=True).available
        raise refused(available) from None


# --- resolving reservations ---------------------------------------------------------

@transactional
def post_reservation(pending_id: int, *, amount: int | None = None,
                     actor_id: int | None) -> Transfer:
    """Charge a reservation, all of it or ``amount`` of it; the rest returns to the payer.

    Refuses: a reservation already posted or voided; an amount above the reserved one.
    """
    with db.session.begin_nested():
        return _resolve(pending_id, amount=amount, void=False, actor_id=actor_id)


@transactional
def void_reservation(pending_id: int, *, actor_id: int | None) -> Transfer:
    """Release a reservation in full. Refuses one already posted or voided."""
    with db.session.begin_nested():
        return _resolve(pending_id, amount=None, void=True, actor_id=actor_id)


def _resolve(pending_id: int, *, amount: int | None, void: bool,
             actor_id: int | None) -> Transfer:
    pending = db.session.get(Transfer, pending_id)
    if pending is None or pending.state != TransferState.PENDING:
        raise Invalid("That is not a reservation.")
    posted = 0 if void else (pending.amount_minor if amount is None else amount)
    if not void and not 0 < posted <= pending.amount_minor:
        raise Invalid("The amount charged must be positive and at most the amount reserved.")
    resolution = Transfer(
        batch_id=uuid.uuid4().hex, debit_account_id=pending.debit_account_id,
        credit_account_id=pending.credit_account_id,
        amount_minor=pending.amount_minor if void else posted, currency=pending.currency,
        kind=pending.kind, state=TransferState.VOID_PENDING if void else TransferState.POST_PENDING,
        pending_id=pending.id, cause_type=pending.cause_type, cause_id=pending.cause_id,
        actor_id=actor_id)
    # first, so that a second resolution fails on the unique index before any counter moves
    insert_once(resolution, refused="This reservation has already been settled.")
    _lock_accounts({pending.debit_account_id, pending.credit_account_id})
    held = pending.amount_minor
    _change(pending.debit_account_id, debits_pending=-held, debits_posted=posted)
    _change(pending.credit_account_id, credits_pending=-held, credits_posted=posted)
    facts = {"pending_id": pending.id, "void": void, "posted_minor": posted}
    on_commit(lambda: log.info("ledger reservation settled", extra=facts))
    return resolution


@transactional
def reverse_transfer(transfer_id: int, *, actor_id: int | None, memo: str) -> Transfer:
    """Correct a posted transfer with an opposite one that references it (once).

    Refuses: pending or void transfers, a second reversal, and a reversal the
    original receiver can no longer cover.
    """
    original = db.session.get(Transfer, transfer_id)
    if original is None or original.state not in (TransferState.POSTED,
                                                  TransferState.POST_PENDING):
        raise Invalid("Only posted transfers can be reversed.")
    reversal = Transfer(
        batch_id=uuid.uuid4().hex, debit_account_id=original.credit_account_id,
        credit_account_id=original.debit_account_id, amount_minor=original.amount_minor,
        currency=original.currency, kind=TransferKind.REVERSAL, state=TransferState.POSTED,
        reverses_id=original.id, cause_type=original.cause_type, cause_id=original.cause_id,
        actor_id=actor_id, memo=memo[:200])
    with db.session.begin_nested():
        # first, so that "already reversed" is refused before any counter moves
        insert_once(reversal, refused="This transfer has already been reversed.")
        payer, payee, amount = reversal.debit_account_id, reversal.credit_account_id, \
            reversal.amount_minor
        _lock_accounts({payer, payee})
        if not _change(payer, _covers(amount), debits_posted=amount):
            _refuse_insufficient(payer, amount)
        _change(payee, credits_posted=amount)
    return reversal


# --- commission -------------------------------------------------------------------------

@dataclass(frozen=True)
class CommissionParts:
    commission: int
    platform: int
    referrer: int


def commission_split(invoiced_minor: int, *, commission_bps: int,
                     platform_bps: int) -> CommissionParts:
    """The commission on an invoiced amount and its two parts, which add up exactly.

    ``commission = g × rate`` and ``platform = g × platform rate``, each rounded down;
    the referrer gets the rest of the commission.
    """
    if invoiced_minor < 0 or not 0 <= platform_bps <= commission_bps <= 10_000:
        raise Invalid("The invoiced amount and the rates must be sensible.")
    commission = share(invoiced_minor, commission_bps)
    platform = share(invoiced_minor, platform_bps)
    return CommissionParts(commission, platform, commission - platform)
