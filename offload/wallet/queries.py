"""Reads for the wallet and the admin pages: balances, history, withdrawals, revenue.

Read-only. Each page read runs a fixed number of queries whatever its number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, func, select, tuple_, union_all
from sqlalchemy.orm import joinedload

from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor, keyset_page
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

from .models import Withdrawal, WithdrawalState

RECENT_WITHDRAWALS = 10

KIND_LABELS = {
    TransferKind.DEPOSIT: "Deposit",
    TransferKind.WITHDRAWAL: "Withdrawal",
    TransferKind.PREPAID_CLICK: "Offer fee (prepaid click)",
    TransferKind.POSTPAID_CLICK: "Offer fee (postpaid click)",
    TransferKind.ESCROW: "Escrow",
    TransferKind.COMMISSION: "Commission",
    TransferKind.TRANSFER: "Transfer",
    TransferKind.REVERSAL: "Correction",
}

# Causes that have a page of their own: (endpoint, URL argument name).
CAUSE_PAGES = {"deposit": ("wallet.deposit", "deposit_id"),
               "withdrawal": ("wallet.withdrawal", "withdrawal_id"),
               "offer": ("offers.show", "offer_id")}


@dataclass(frozen=True)
class WalletSummary:
    available: int  # what the member can spend or withdraw now
    held: int  # reserved for withdrawals and postpaid fees not yet settled
    total: int  # the balance: available + held


def wallet_summary(member_id: int) -> WalletSummary:
    """The member's balances in minor units; zeros before their wallet exists."""
    account = _wallet(member_id)
    if account is None:
        return WalletSummary(0, 0, 0)
    return WalletSummary(available=account.available, held=account.held, total=account.balance)


def platform_revenue() -> int:
    """The balance of the platform's revenue account (fees and commission shares)."""
    account = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.PLATFORM_REVENUE))
    return account.balance if account else 0


# --- history ----------------------------------------------------------------------------

class LineState(StrEnum):
    HELD = "held"  # a reservation still open
    CHARGED = "charged"  # money out, posted (a fee, or a reservation posted)
    PAID = "paid"  # money in, posted; or a withdrawal paid out
    RELEASED = "released"  # a reservation voided: the money came back


@dataclass(frozen=True)
class HistoryLine:
    transfer_id: int
    at: datetime
    kind: str
    label: str  # what: "Deposit", "Withdrawal"...
    amount_minor: int  # signed from the member's side: + came in, - went out
    state: LineState
    reserved_minor: int | None  # for a reservation: the amount first held
    settled_at: datetime | None  # when a reservation was posted or released
    cause_type: str | None
    cause_id: int | None
    memo: str

    @property
    def cause_page(self) -> tuple[str, dict] | None:
        """(endpoint, URL values) of the cause's own page, if it has one."""
        if self.cause_id is None or self.cause_type not in CAUSE_PAGES:
            return None
        endpoint, argument = CAUSE_PAGES[self.cause_type]
        return endpoint, {argument: self.cause_id}

    @property
    def cause_text(self) -> str:
        if not self.cause_type:
            return ""
        name = self.cause_type.replace("_", " ").capitalize()
        return f"{name} #{self.cause_id}" if self.cause_id is not None else name

    @property
    def partly_charged(self) -> bool:
        return self.reserved_minor is not None and abs(self.amount_minor) < self.reserved_minor


def wallet_history_page(member_id: int, cursor: str | None) -> Page:
    """The member's wallet transfers, newest first, as ``HistoryLine`` items.

    One line per movement: posted transfers and reservations. A reservation's later
    post or void is not a line of its own; it sets the reservation's state (held,
    charged or paid, released). Runs at most three queries whatever the page size.
    """
    account_id = db.session.scalar(select(LedgerAccount.id).where(
        LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.WALLET))
    if account_id is None:
        return Page(items=[], next_cursor=None, is_first=decode_cursor(cursor) is None)
    key = decode_cursor(cursor)
    size = current_app.config["PAGE_SIZE"]
    params = {"account_id": account_id}
    if key:
        params.update(before_at=key[0], before_id=key[1])
    page = keyset_page(list(db.session.scalars(_history_statement(size + 1, bool(key)), params)),
                       size, key is None)
    pending_ids = [t.id for t in page.items if t.state == TransferState.PENDING]
    resolutions = {r.pending_id: r for r in db.session.scalars(
        select(Transfer).where(Transfer.pending_id.in_(pending_ids)))} if pending_ids else {}
    lines = [_line(t, account_id, resolutions.get(t.id)) for t in page.items]
    return Page(items=lines, next_cursor=page.next_cursor, is_first=page.is_first)


@lru_cache(maxsize=8)
def _history_statement(size: int, paged: bool) -> Select:
    """The account's ``size`` newest movements (before a cursor when ``paged``): the
    newest ``size`` of its debits and of its credits, each walked backwards on its
    (account, created_at, id) index, merged; a transfer is never both. (One
    ``debit = a OR credit = a`` sorted every movement the account ever had.) Built once:
    a union of subqueries costs more to put together than to run. Parameters:
    account_id, and before_at, before_id when ``paged``."""
    def side(account_column) -> Select:
        stmt = select(Transfer.id, Transfer.created_at).where(
            account_column == bindparam("account_id"),
            Transfer.state.in_((TransferState.POSTED, TransferState.PENDING)))
        if paged:
            stmt = stmt.where(tuple_(Transfer.created_at, Transfer.id) < tuple_(
                bindparam("before_at", type_=Transfer.created_at.type),
                bindparam("before_id", type_=Integer)))
        return (stmt.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(size)
                .subquery().select())

    both = union_all(side(Transfer.debit_account_id), side(Transfer.credit_account_id)).subquery()
    ids = select(both.c.id).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(size)
    return (select(Transfer).where(Transfer.id.in_(ids))
            .order_by(Transfer.created_at.desc(), Transfer.id.desc()))


def _line(transfer: Transfer, account_id: int, resolution: Transfer | None) -> HistoryLine:
    incoming = transfer.credit_account_id == account_id
    sign = 1 if incoming else -1
    posted_state = (LineState.PAID if incoming or transfer.kind == TransferKind.WITHDRAWAL
                    else LineState.CHARGED)
    amount, reserved, settled_at = transfer.amount_minor, None, None
    if transfer.state == TransferState.POSTED:
        state = posted_state
    else:
        reserved = transfer.amount_minor
        if resolution is None:
            state = LineState.HELD
        elif resolution.state == TransferState.VOID_PENDING:
            state, settled_at = LineState.RELEASED, resolution.created_at
        else:
            state, settled_at = posted_state, resolution.created_at
            amount = resolution.amount_minor
    return HistoryLine(
        transfer_id=transfer.id, at=transfer.created_at, kind=transfer.kind,
        label=KIND_LABELS.get(transfer.kind, transfer.kind.replace("_", " ").capitalize()),
        amount_minor=sign * amount, state=state, reserved_minor=reserved, settled_at=settled_at,
        cause_type=transfer.cause_type, cause_id=transfer.cause_id, memo=transfer.memo)


# --- withdrawals ----------------------------------------------------------------

def recent_withdrawals(member_id: int, limit: int = RECENT_WITHDRAWALS) -> list[Withdrawal]:
    """The member's latest withdrawals, newest first (every one is also in the history)."""
    return list(db.session.scalars(
        select(Withdrawal).where(Withdrawal.member_id == member_id)
        .order_by(Withdrawal.created_at.desc(), Withdrawal.id.desc()).limit(limit)))


def pending_withdrawals_page(cursor: str | None) -> Page:
    """Requested withdrawals for the admins' queue, oldest first (first come, first paid)."""
    stmt = (select(Withdrawal).where(Withdrawal.state == WithdrawalState.REQUESTED)
            .options(joinedload(Withdrawal.member)))
    return _oldest_first(stmt, Withdrawal, cursor)


def count_pending_withdrawals() -> int:
    return db.session.scalar(select(func.count()).select_from(Withdrawal)
                             .where(Withdrawal.state == WithdrawalState.REQUESTED))


def _oldest_first(stmt: Select, model, cursor: str | None) -> Page:
    """Keyset pagination on (created_at, id) ascending; the cursor is the last row's key."""
    size = current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    if key:
        stmt = stmt.where(tuple_(model.created_at, model.id) > key)
    stmt = stmt.order_by(model.created_at, model.id).limit(size + 1)
    rows = list(db.session.scalars(stmt).unique())
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id) if more else None
    return Page(items=rows, next_cursor=next_cursor, is_first=key is None)


def _wallet(member_id: int) -> LedgerAccount | None:
    return db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.owner_id == member_id, LedgerAccount.kind == AccountKind.WALLET))
