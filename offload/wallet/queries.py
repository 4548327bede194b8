"""Reads for the wallet and the admin pages: balances, history, withdrawals, revenue.

Read-only. Each page read runs a fixed number of queries whatever its number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Integer,
    Row,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.orm import aliased, joinedload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.accounts.queries import SignedIn
from offload.core.csv_export import csv_amount, csv_cell, csv_time
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor, keyset_page
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

from .models import (
    PROVIDER_REFERENCE_MAX,
    Chargeback,
    Deposit,
    PayoutAccount,
    Withdrawal,
    WithdrawalState,
)
from .policies import can_view

RECENT_WITHDRAWALS = 10
RECENT_DEPOSITS = 10

KIND_LABELS = {
    TransferKind.DEPOSIT: "Deposit",
    TransferKind.WITHDRAWAL: "Withdrawal",
    TransferKind.PREPAID_CLICK: "Offer fee (prepaid click)",
    TransferKind.POSTPAID_CLICK: "Offer fee (postpaid click)",
    TransferKind.ESCROW: "Escrow",
    TransferKind.COMMISSION: "Commission",
    TransferKind.TRANSFER: "Transfer",
    TransferKind.REVERSAL: "Correction",
    TransferKind.CHARGEBACK: "Deposit taken back",
    TransferKind.CHARGEBACK_RETURN: "Deposit given back",
    TransferKind.DEBT_REPAYMENT: "Paid what you owed",
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
    owed: int = 0  # what a deposit taken back left them owing: no withdrawals meanwhile


@lru_cache(maxsize=1)
def _owed_statement() -> Select:
    # built once; parameter: member_id
    a = LedgerAccount
    return select(a.debits_posted - a.credits_posted).where(
        a.owner_id == bindparam("member_id", type_=Integer), a.kind == AccountKind.DEBT)


@lru_cache(maxsize=1)
def _summary_statement() -> Select:
    # built once; parameter: member_id
    a = LedgerAccount
    return select(a.credits_posted - a.debits_posted - a.debits_pending, a.debits_pending,
                  a.credits_posted - a.debits_posted,
                  func.coalesce(_owed_statement().scalar_subquery(), 0)).where(
        a.owner_id == bindparam("member_id", type_=Integer), a.kind == AccountKind.WALLET)


def wallet_summary(member_id: int) -> WalletSummary:
    """The member's balances in minor units, and what they owe; zeros before their
    wallet exists."""
    row = db.session.execute(_summary_statement(), {"member_id": member_id}).first()
    return WalletSummary(*row) if row else WalletSummary(0, 0, 0)


def amount_owed_by(member_id: int) -> int:
    """What the member owes from deposits taken back (a dispute, a refund); 0 if nothing."""
    return db.session.scalar(_owed_statement(), {"member_id": member_id}) or 0


def platform_revenue() -> int:
    """The balance of the platform's revenue account (fees and commission shares)."""
    account = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.PLATFORM_REVENUE))
    return account.balance if account else 0


# --- history ----------------------------------------------------------------------------
#
# Every transfer on the wallet is a line, in the order (created_at, id): money posted at
# once, a reservation (a hold), and later that reservation's post ("hold charged") or
# void ("hold released"), each its own line because each changes the balances when it
# happens. Each line carries the available and held balances just after it.
#
# Balances after each line of any page, without replaying the history: the page's
# statement also reads the wallet's counters and one aggregate, the effect of every
# line newer than the page (nothing on the first page); the newest line's balances are
# the counters minus that effect, and each older line's are the line above's minus the
# line above's own effect. The counters, the aggregate and the page come from one
# statement, so one snapshot: the lines and the balances agree even while money moves.
#
# A line's effect, as the ledger moves the counters (available = credits_posted −
# debits_posted − debits_pending; held = debits_pending), for amount a and, for a post,
# the reserved amount r:
#
#   the wallet pays (debit)   posted −a | hold −a, held +a | charged +(r − a), held −r
#                             | released +a, held −a
#   the wallet is paid        posted +a | charged +a | a hold or its release: nothing
#   (credit)                  (money promised to the wallet isn't available until posted)

class LineState(StrEnum):
    HELD = "held"  # a reservation still open
    CHARGED = "charged"  # money out, posted (a fee, or a reservation posted)
    PAID = "paid"  # money in, posted; or a withdrawal paid out
    RELEASED = "released"  # a reservation voided: the money came back


class LineStep(StrEnum):
    POSTED = "posted"  # moved at once
    HOLD = "hold"  # reserved
    CHARGE = "charge"  # a reservation posted (all or part)
    RELEASE = "release"  # a reservation voided


_STEPS = {TransferState.POSTED: LineStep.POSTED, TransferState.PENDING: LineStep.HOLD,
          TransferState.POST_PENDING: LineStep.CHARGE,
          TransferState.VOID_PENDING: LineStep.RELEASE}


@dataclass(frozen=True)
class HistoryLine:
    transfer_id: int
    at: datetime
    kind: str
    step: LineStep
    label: str  # what: "Deposit", "Withdrawal", "Withdrawal: hold released"...
    amount_minor: int  # signed from the member's side: + came in (or back), - went out
    state: LineState  # for a hold, what became of it
    reserved_minor: int | None  # for a hold and its post or release: the amount held
    settled_at: datetime | None  # for a hold: when it was posted or released
    cause_type: str | None
    cause_id: int | None
    memo: str
    available_after: int  # the wallet's available balance just after this line
    held_after: int  # and its held balance

    @property
    def cause_link(self) -> tuple[str, str] | None:
        """(endpoint, its one argument, which takes ``cause_id``) of the cause's own page,
        if it has one."""
        return None if self.cause_id is None else CAUSE_PAGES.get(self.cause_type)

    @property
    def cause_page(self) -> tuple[str, dict] | None:
        """(endpoint, URL values) of the cause's own page, if it has one."""
        link = self.cause_link
        return None if link is None else (link[0], {link[1]: self.cause_id})

    @property
    def cause_text(self) -> str:
        if not self.cause_type:
            return ""
        name = self.cause_type.replace("_", " ").capitalize()
        return f"{name} #{self.cause_id}" if self.cause_id is not None else name

    @property
    def receipt(self) -> tuple[str, int] | None:
        """(cause type, cause id) of this line's receipt: a line that moved money (posted
        at once, or a hold charged) for a cause that has receipts."""
        if self.step in (LineStep.POSTED, LineStep.CHARGE) and self.cause_id is not None \
                and self.cause_type in RECEIPT_CAUSES:
            return self.cause_type, self.cause_id
        return None

    @property
    def partly_charged(self) -> bool:
        """A post of part of a hold (the rest went back to the available balance)."""
        return (self.step == LineStep.CHARGE and self.reserved_minor is not None
                and abs(self.amount_minor) < self.reserved_minor)

    @property
    def released_minor(self) -> int:
        """What a partial post gave back to the available balance."""
        return (self.reserved_minor or 0) - abs(self.amount_minor)


def wallet_history_page(member_id: int, cursor: str | None, size: int | None = None) -> Page:
    """The member's wallet transfers, newest first, as ``HistoryLine`` items (``size``,
    default PAGE_SIZE), each with the balances just after it.

    One line per transfer: posted transfers, reservations, and each reservation's post
    or void. A reservation's line also says what became of it. Runs three queries
    whatever the page size or depth: the account, the page (with the balances it
    starts from), the reservations its lines resolve and the resolutions of its holds.
    """
    account_id = db.session.scalar(_account_statement(), {"member_id": member_id})
    if account_id is None:
        return Page(items=[], next_cursor=None, is_first=decode_cursor(cursor) is None)
    key = decode_cursor(cursor)
    size = size or current_app.config["PAGE_SIZE"]
    params = {"account_id": account_id}
    if key:
        params.update(before_at=key[0], before_id=key[1])
    rows = db.session.execute(_history_statement(size + 1, bool(key)), params).all()
    page = keyset_page(rows, size, key is None)
    if not page.items:
        return page
    holds = [t.id for t in page.items if t.state == TransferState.PENDING]
    held_by = [t.pending_id for t in page.items if t.pending_id is not None]
    # (an empty IN list is left out: as a condition that is never true it made SQLite's
    # OR scan the whole table instead of probing the two indexes)
    wanted = ([Transfer.pending_id.in_(holds)] if holds else []) + (
        [Transfer.id.in_(held_by)] if held_by else [])
    related = db.session.execute(select(*_TRANSFER).where(or_(*wanted))).all() if wanted else []
    resolutions = {t.pending_id: t for t in related if t.pending_id is not None}
    reserved = {t.id: t.amount_minor for t in related if t.state == TransferState.PENDING}
    available, held = rows[0].available, rows[0].held  # just after the page's newest line
    lines = []
    for transfer in page.items:
        lines.append(_line(transfer, account_id, resolutions.get(transfer.id),
                           reserved.get(transfer.pending_id), available, held))
        change = _effect(transfer, account_id, reserved.get(transfer.pending_id))
        available, held = available - change[0], held - change[1]
    return Page(items=lines, next_cursor=page.next_cursor, is_first=page.is_first)


# the wallet history's CSV (the download on the wallet page, the statement in a data
# export): one header and one way to write a line, wherever it is written
HISTORY_CSV_HEADER = ("date", "what", "for", "memo", "amount", "currency", "state",
                      "available after", "held after", "transfer id")


def history_csv_row(line: HistoryLine) -> tuple[str, ...]:
    """A history line as the cells of its CSV row (``HISTORY_CSV_HEADER``)."""
    return (csv_time(line.at), csv_cell(line.label), csv_cell(line.cause_text),
            csv_cell(line.memo), csv_amount(line.amount_minor), current_app.config["CURRENCY"],
            line.state,
            csv_amount(line.available_after), csv_amount(line.held_after),
            str(line.transfer_id))


def _effect(transfer: Row, account_id: int, reserved: int | None) -> tuple[int, int]:
    """(available, held) change of one line (the table at the top of this section)."""
    a = transfer.amount_minor
    if transfer.debit_account_id == account_id:
        return {TransferState.POSTED: (-a, 0), TransferState.PENDING: (-a, a),
                TransferState.POST_PENDING: ((reserved or 0) - a, -(reserved or 0)),
                TransferState.VOID_PENDING: (a, -a)}[transfer.state]
    return (a, 0) if transfer.state in (TransferState.POSTED,
                                        TransferState.POST_PENDING) else (0, 0)


def _effect_columns(t, paying: bool) -> tuple:
    """The same effect as SQL over transfers ``t`` on one side of the wallet."""
    a = t.amount_minor
    if not paying:
        posted = t.state.in_((TransferState.POSTED, TransferState.POST_PENDING))
        return case((posted, a), else_=0), literal(0, BigInteger)
    held = aliased(Transfer)
    # read only for a post (CASE evaluates lazily): the amount its reservation held
    reserved = select(held.amount_minor).where(held.id == t.pending_id).scalar_subquery()
    available = case((t.state.in_((TransferState.POSTED, TransferState.PENDING)), -a),
                     (t.state == TransferState.POST_PENDING, reserved - a), else_=a)
    held_change = case((t.state == TransferState.PENDING, a),
                       (t.state == TransferState.POST_PENDING, -reserved),
                       (t.state == TransferState.VOID_PENDING, -a), else_=0)
    return available, held_change


# a transfer's columns: the history reads rows, not ORM objects (attributes by the same names)
_TRANSFER = tuple(Transfer.__table__.c)


@lru_cache(maxsize=1)
def _account_statement() -> Select:
    return select(LedgerAccount.id).where(
        LedgerAccount.owner_id == bindparam("member_id", type_=Integer),
        LedgerAccount.kind == AccountKind.WALLET)


@lru_cache(maxsize=8)
def _history_statement(size: int, paged: bool) -> Select:
    """The account's ``size`` newest transfers (before a cursor when ``paged``), each
    row with the ``available`` and ``held`` balances just after the newest of them.

    The transfers: the newest ``size`` of the account's debits and of its credits, each
    walked backwards on its (account, created_at, id) index, merged; a transfer is
    never both. (One ``debit = a OR credit = a`` sorted every movement the account ever
    had.) The balances: the account's counters less the effect of every transfer from
    the cursor on (two forward walks of the same indexes, one aggregate). Built once: a
    union of subqueries costs more to put together than to run. Parameters:
    account_id, and before_at, before_id when ``paged``."""
    before = tuple_(bindparam("before_at", type_=Transfer.created_at.type),
                    bindparam("before_id", type_=Integer))

    def side(account_column) -> Select:
        stmt = select(Transfer.id, Transfer.created_at).where(
            account_column == bindparam("account_id"))
        if paged:
            stmt = stmt.where(tuple_(Transfer.created_at, Transfer.id) < before)
        return (stmt.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(size)
                .subquery().select())

    both = union_all(side(Transfer.debit_account_id), side(Transfer.credit_account_id)).subquery()
    ids = select(both.c.id).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(size)

    account = LedgerAccount
    available = account.credits_posted - account.debits_posted - account.debits_pending
    held = account.debits_pending
    if paged:
        def newer(paying: bool) -> Select:
            t = aliased(Transfer)
            column = t.debit_account_id if paying else t.credit_account_id
            change_available, change_held = _effect_columns(t, paying)
            return select(change_available.label("available"),
                          change_held.label("held")).where(
                column == bindparam("account_id"), tuple_(t.created_at, t.id) >= before)

        changes = union_all(newer(True), newer(False)).subquery("changes")
        # (PostgreSQL sums bigints as numeric: back to bigint, whole cents either way)
        newer_sums = select(
            cast(func.coalesce(func.sum(changes.c.available), 0), BigInteger).label("available"),
            cast(func.coalesce(func.sum(changes.c.held), 0), BigInteger).label("held")
        ).subquery("newer")
        balances = (select((available - newer_sums.c.available).label("available"),
                           (held - newer_sums.c.held).label("held"))
                    .select_from(account).join(newer_sums, true())
                    .where(account.id == bindparam("account_id")).subquery("balances"))
    else:
        balances = (select(available.label("available"), held.label("held"))
                    .where(account.id == bindparam("account_id")).subquery("balances"))
    return (select(*_TRANSFER, balances.c.available, balances.c.held)
            .join(balances, true()).where(Transfer.id.in_(ids))
            .order_by(Transfer.created_at.desc(), Transfer.id.desc()))


_STEP_LABELS = {LineStep.CHARGE: "hold charged", LineStep.RELEASE: "hold released"}


def _line(transfer: Row, account_id: int, resolution: Row | None,
          reserved: int | None, available_after: int, held_after: int) -> HistoryLine:
    incoming = transfer.credit_account_id == account_id
    sign = 1 if incoming else -1
    posted_state = (LineState.PAID if incoming or transfer.kind == TransferKind.WITHDRAWAL
                    else LineState.CHARGED)
    step = _STEPS[TransferState(transfer.state)]
    label = KIND_LABELS.get(transfer.kind, transfer.kind.replace("_", " ").capitalize())
    amount, settled_at = sign * transfer.amount_minor, None
    if step == LineStep.POSTED:
        state = posted_state
    elif step == LineStep.HOLD:
        reserved = transfer.amount_minor
        if resolution is None:
            state = LineState.HELD
        else:
            settled_at = resolution.created_at
            state = (LineState.RELEASED if resolution.state == TransferState.VOID_PENDING
                     else posted_state)
    elif step == LineStep.CHARGE:
        what = "paid out" if transfer.kind == TransferKind.WITHDRAWAL else _STEP_LABELS[step]
        state, label = posted_state, f"{label}: {what}"
    else:  # the hold comes back: + from the member's side when they were paying
        state, label, amount = LineState.RELEASED, f"{label}: {_STEP_LABELS[step]}", -amount
    return HistoryLine(
        transfer_id=transfer.id, at=transfer.created_at, kind=transfer.kind, step=step,
        label=label, amount_minor=amount, state=state, reserved_minor=reserved,
        settled_at=settled_at, cause_type=transfer.cause_type, cause_id=transfer.cause_id,
        memo=transfer.memo, available_after=available_after, held_after=held_after)


# --- withdrawals ----------------------------------------------------------------

class WithdrawalLine(NamedTuple):
    """A withdrawal as the member's wallet lists it."""

    id: int
    amount_minor: int
    state: str
    created_at: datetime
    decided_at: datetime | None
    reason: str | None  # why it was rejected


@lru_cache(maxsize=1)
def _recent_withdrawals_statement() -> Select:
    # built once; parameters: member_id, limit
    return (select(Withdrawal.id, Withdrawal.amount_minor, Withdrawal.state,
                   Withdrawal.created_at, Withdrawal.decided_at, Withdrawal.reason)
            .where(Withdrawal.member_id == bindparam("member_id", type_=Integer))
            .order_by(Withdrawal.created_at.desc(), Withdrawal.id.desc())
            .limit(bindparam("limit", type_=Integer)))


def recent_withdrawals(member_id: int, limit: int = RECENT_WITHDRAWALS
                       ) -> list[WithdrawalLine]:
    """The member's latest withdrawals, newest first (every one is also in the history)."""
    return [WithdrawalLine(*row) for row in db.session.execute(
        _recent_withdrawals_statement(), {"member_id": member_id, "limit": limit})]


# waiting for an admin: requested, or being sent through Stripe (retry or reject)
_WAITING = (WithdrawalState.REQUESTED, WithdrawalState.SENDING)


def pending_withdrawals_page(cursor: str | None) -> Page:
    """Requested withdrawals for the admins' queue, oldest first (first come, first paid),
    with those whose Stripe transfer is being sent or failed."""
    stmt = (select(Withdrawal).where(Withdrawal.state.in_(_WAITING))
            .options(joinedload(Withdrawal.member)))
    return _oldest_first(stmt, Withdrawal, cursor)


def count_pending_withdrawals() -> int:
    return db.session.scalar(select(func.count()).select_from(Withdrawal)
                             .where(Withdrawal.state.in_(_WAITING)))


def refused_reversals(refusals_max: int) -> list[Withdrawal]:
    """Withdrawals whose payout failed and whose Transfer's reversal Stripe refused
    ``refusals_max`` times, oldest first: the job stopped asking, a person must act."""
    return list(db.session.scalars(
        select(Withdrawal).where(Withdrawal.state == WithdrawalState.RETURNING,
                                 Withdrawal.send_refusals >= refusals_max)
        .options(joinedload(Withdrawal.member))
        .order_by(Withdrawal.created_at, Withdrawal.id)))


# --- payout accounts -----------------------------------------------------------------

class PayoutAccountStatus(StrEnum):
    NOT_CONNECTED = "not connected"
    MORE_NEEDED = "more information needed"
    READY = "ready"


class PayoutAccountView(NamedTuple):
    """A member's connected payout account as their pages show it."""

    status: PayoutAccountStatus
    account_reference: str | None
    requirements_due: int
    refreshed_at: datetime | None


def payout_account_of(member_id: int) -> PayoutAccountView:
    """The member's payout account and what it needs ("not connected" without one)."""
    row = db.session.execute(
        select(PayoutAccount.account_reference, PayoutAccount.is_payouts_enabled,
               PayoutAccount.requirements_due,
               func.coalesce(PayoutAccount.refreshed_at, PayoutAccount.created_at))
        .where(PayoutAccount.member_id == member_id)).first()
    if row is None:
        return PayoutAccountView(PayoutAccountStatus.NOT_CONNECTED, None, 0, None)
    reference, enabled, due, at = row
    return PayoutAccountView(PayoutAccountStatus.READY if enabled else
                             PayoutAccountStatus.MORE_NEEDED, reference, due, at)


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



# --- one deposit or withdrawal ------------------------------------------------------------

class DepositItem(NamedTuple):
    """A deposit as its page shows it."""

    id: int
    member_id: int
    amount_minor: int
    state: str
    provider: str
    provider_reference: str
    created_at: datetime
    completed_at: datetime | None
    redirect_url: str | None  # where the member pays, for a provider that needs it


class WithdrawalItem(NamedTuple):
    """A withdrawal as its page shows it."""

    id: int
    member_id: int
    amount_minor: int
    state: str
    payout_details: str
    created_at: datetime
    decided_at: datetime | None
    reason: str | None  # why it was rejected
    transfer_reference: str | None  # Stripe's Transfer, once paid through Stripe
    send_failure: str | None  # the last Stripe attempt's failure, while sending


@lru_cache(maxsize=1)
def _recent_deposits_statement() -> Select:
    # built once; parameters: member_id, limit
    return (_item_select(DepositItem, Deposit)
            .where(Deposit.member_id == bindparam("member_id", type_=Integer))
            .order_by(Deposit.created_at.desc(), Deposit.id.desc())
            .limit(bindparam("limit", type_=Integer)))


def recent_deposits(member_id: int, limit: int = RECENT_DEPOSITS) -> list[DepositItem]:
    """The member's latest deposits, newest first: a pending or failed one is nowhere
    else on the wallet (only a credited one has a transfer in the history)."""
    return [DepositItem(*row) for row in db.session.execute(
        _recent_deposits_statement(), {"member_id": member_id, "limit": limit})]


def checkout_deposit(member_id: int, reference: str | None) -> DepositItem | None:
    """The member's deposit whose provider reference is ``reference`` (the checkout
    session named by the address the provider sends the member back to); None for
    another member's or an unknown one. The address says which deposit, never its state."""
    if not reference or len(reference) > PROVIDER_REFERENCE_MAX:
        return None
    row = db.session.execute(_item_select(DepositItem, Deposit).where(
        Deposit.member_id == member_id, Deposit.provider_reference == reference)).first()
    return None if row is None else DepositItem(*row)


def _item_select(item: type[NamedTuple], model: type) -> Select:
    """The columns of ``model`` that read model ``item`` holds, in its order."""
    return select(*(getattr(model, name) for name in item._fields))


def deposit_for(viewer: User | SignedIn, deposit_id: int) -> DepositItem:
    """The viewer's own deposit (any, for an admin); NotFound for anyone else's."""
    return _visible(DepositItem, Deposit, viewer, deposit_id)


def withdrawal_for(viewer: User | SignedIn, withdrawal_id: int) -> WithdrawalItem:
    """The viewer's own withdrawal (any, for an admin); NotFound for anyone else's."""
    return _visible(WithdrawalItem, Withdrawal, viewer, withdrawal_id)


def _visible(item: type[NamedTuple], model: type, viewer, row_id: int):
    row = db.session.execute(_item_select(item, model).where(model.id == row_id)).first()
    if row is None or not can_view(viewer, row):
        raise NotFound()
    return item(*row)


class ChargebackLine(NamedTuple):
    """What was taken back of a deposit, as its page shows it."""

    id: int
    kind: str  # dispute or refund
    state: str  # taken or returned
    amount_minor: int
    covered_minor: int  # from the available balance
    debt_minor: int  # owed
    provider_reference: str
    reason: str
    created_at: datetime
    returned_at: datetime | None


class AdminChargebackLine(NamedTuple):
    """A chargeback in the admins' list: what was taken back of whose deposit."""

    id: int
    deposit_id: int
    member_id: int
    username: str
    kind: str
    state: str
    amount_minor: int
    covered_minor: int
    debt_minor: int
    provider_reference: str
    created_at: datetime


def chargebacks_page(cursor: str | None) -> Page:
    """Every chargeback, newest first (the admins' list), with its member; one query."""
    stmt = (select(Chargeback.id, Chargeback.deposit_id, Chargeback.member_id, User.username,
                   Chargeback.kind, Chargeback.state, Chargeback.amount_minor,
                   Chargeback.covered_minor, Chargeback.debt_minor,
                   Chargeback.provider_reference, Chargeback.created_at)
            .join(User, User.id == Chargeback.member_id))
    key = decode_cursor(cursor)
    if key:
        stmt = stmt.where(tuple_(Chargeback.created_at, Chargeback.id) < key)
    size = current_app.config["PAGE_SIZE"]
    rows = [AdminChargebackLine(*row) for row in db.session.execute(
        stmt.order_by(Chargeback.created_at.desc(), Chargeback.id.desc()).limit(size + 1))]
    return keyset_page(rows, size, key is None)


def chargebacks_of(deposit_id: int) -> list[ChargebackLine]:
    """The disputes and refunds of a deposit, oldest first (the caller has authorized
    the deposit with ``deposit_for``)."""
    return [ChargebackLine(*row) for row in db.session.execute(
        select(*(getattr(Chargeback, name) for name in ChargebackLine._fields))
        .where(Chargeback.deposit_id == deposit_id).order_by(Chargeback.id))]


# --- receipts -----------------------------------------------------------------------------
#
# A receipt is for one cause (a deposit, a withdrawal, an offer's fee, a commission) as it
# concerns one member: every transfer of that cause that moved money (posted, or the post
# of a reservation) to or from their wallet. A hold not yet charged and a released one
# moved nothing and have no receipt; a commission's two legs, and any correction of it
# (its reversals carry the same cause), are lines of one receipt.

RECEIPT_CAUSES = ("deposit", "withdrawal", "offer", "commission")
_CAUSE_TITLES = {"deposit": "Deposit", "withdrawal": "Withdrawal", "offer": "Offer fee",
                 "commission": "Commission"}
_MOVED = (TransferState.POSTED, TransferState.POST_PENDING)


@dataclass(frozen=True)
class ReceiptLine:
    transfer_id: int
    batch_id: str
    at: datetime
    what: str  # "Commission (referrer share)"
    amount_minor: int  # signed from the member's side: + received, - paid
    counterparty: str  # who the money came from or went to


@dataclass(frozen=True)
class Receipt:
    cause_type: str
    cause_id: int
    member_id: int  # the member it concerns (the viewer, or for an admin its payer)
    member_username: str
    member_name: str
    lines: tuple[ReceiptLine, ...]
    # the provider's side, (label, value): a deposit's checkout and payment references,
    # a withdrawal's payout details
    details: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return f"{_CAUSE_TITLES[self.cause_type]} #{self.cause_id}"

    @property
    def total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines)

    @property
    def at(self) -> datetime:
        """When the money last moved."""
        return self.lines[-1].at


@lru_cache(maxsize=1)
def _receipt_statement() -> Select:
    """Every transfer of a cause that moved money, oldest first, with both accounts'
    kinds and owners. Built once; parameters: cause_type, cause_id."""
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    payer, payee = aliased(User), aliased(User)
    return (select(Transfer.id, Transfer.batch_id, Transfer.created_at, Transfer.kind,
                   Transfer.memo, Transfer.amount_minor,
                   debit.kind.label("debit_kind"), debit.owner_id.label("debit_owner"),
                   payer.username.label("payer_username"),
                   payer.display_name.label("payer_name"),
                   credit.kind.label("credit_kind"), credit.owner_id.label("credit_owner"),
                   payee.username.label("payee_username"),
                   payee.display_name.label("payee_name"))
            .join(debit, debit.id == Transfer.debit_account_id)
            .join(credit, credit.id == Transfer.credit_account_id)
            .outerjoin(payer, payer.id == debit.owner_id)
            .outerjoin(payee, payee.id == credit.owner_id)
            .where(Transfer.cause_type == bindparam("cause_type", type_=String),
                   Transfer.cause_id == bindparam("cause_id", type_=Integer),
                   Transfer.state.in_(_MOVED))
            .order_by(Transfer.created_at, Transfer.id))


def receipt_for(viewer: User | SignedIn, cause_type: str, cause_id: int) -> Receipt:
    """The receipt of a cause for the viewer, who paid or received money by it; for an
    admin, any cause's, as it concerns the member who paid (or, for a deposit, was paid).
    NotFound for anyone else, and when the cause moved no money (yet). Two queries."""
    if cause_type not in RECEIPT_CAUSES:
        raise NotFound()
    rows = db.session.execute(_receipt_statement(),
                              {"cause_type": cause_type, "cause_id": cause_id}).all()
    parties = [owner for row in rows for owner in (row.debit_owner, row.credit_owner)
               if owner is not None]
    if viewer.id in parties:
        member_id = viewer.id
    elif viewer.is_admin and parties:
        member_id = parties[0]
    else:
        raise NotFound()
    lines, names = [], {}
    for row in rows:
        paying = row.debit_owner == member_id
        if not paying and row.credit_owner != member_id:
            continue  # a leg between others (the platform's share of a commission)
        names[row.debit_owner] = (row.payer_username, row.payer_name)
        names[row.credit_owner] = (row.payee_username, row.payee_name)
        other = (row.credit_kind, row.payee_username, row.payee_name) if paying else (
            row.debit_kind, row.payer_username, row.payer_name)
        what = KIND_LABELS.get(row.kind, row.kind.replace("_", " ").capitalize())
        lines.append(ReceiptLine(
            transfer_id=row.id, batch_id=row.batch_id, at=row.created_at,
            what=f"{what} ({row.memo})" if row.memo else what,
            amount_minor=-row.amount_minor if paying else row.amount_minor,
            counterparty=_counterparty(*other)))
    username, name = names[member_id]
    details = _RECEIPT_DETAILS.get(cause_type, lambda _id: ())(cause_id)
    return Receipt(cause_type=cause_type, cause_id=cause_id, member_id=member_id,
                   member_username=username, member_name=name, lines=tuple(lines),
                   details=details)


def _counterparty(kind: str, username: str | None, name: str | None) -> str:
    if kind == AccountKind.WALLET:
        return f"{name} (@{username})"
    site = current_app.config["SITE_NAME"]
    return {AccountKind.PLATFORM_REVENUE: f"{site} (platform revenue)",
            AccountKind.ESCROW: f"{site} (escrow)",
            AccountKind.EXTERNAL: "Outside the site (the payment provider)",
            AccountKind.DEBT: "Your debt for a deposit taken back"}.get(kind, kind)


def _deposit_details(deposit_id: int) -> tuple[tuple[str, str], ...]:
    row = db.session.execute(select(Deposit.provider, Deposit.provider_reference,
                                    Deposit.payment_reference)
                             .where(Deposit.id == deposit_id)).one()
    paid_through = ("the sandbox (no real money)" if row.provider == "sandbox"
                    else row.provider.capitalize())
    details = [("Paid through", paid_through), ("Provider's reference", row.provider_reference)]
    if row.payment_reference:
        details.append(("Provider's payment", row.payment_reference))
    return tuple(details)


def _withdrawal_details(withdrawal_id: int) -> tuple[tuple[str, str], ...]:
    details = db.session.scalar(select(Withdrawal.payout_details)
                                .where(Withdrawal.id == withdrawal_id))
    return (("Paid to", details),)


# cause type -> the provider's side of its receipt (one query), for causes that have one
_RECEIPT_DETAILS = {"deposit": _deposit_details, "withdrawal": _withdrawal_details}


# --- the platform's revenue ----------------------------------------------------------------

class RevenueLine(NamedTuple):
    """A movement of the platform's revenue account (the admins' CSV)."""

    id: int
    created_at: datetime
    kind: str
    amount_minor: int  # + into the platform's revenue, - out of it (a correction)
    member_username: str | None  # whose wallet paid it (or was paid)
    member_name: str | None
    cause_type: str | None
    cause_id: int | None
    memo: str
    batch_id: str

    @property
    def what(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())


@lru_cache(maxsize=4)
def _revenue_statement(size: int, paged: bool) -> Select:
    """The revenue account's ``size`` newest movements that moved money (before a
    cursor when ``paged``): its credits and its debits, each walked backwards on its
    (account, created_at, id) index, merged (as the history does). Parameters:
    account_id, and before_at, before_id when ``paged``."""
    before = tuple_(bindparam("before_at", type_=Transfer.created_at.type),
                    bindparam("before_id", type_=Integer))

    def side(incoming: bool) -> Select:
        ours, theirs = ((Transfer.credit_account_id, Transfer.debit_account_id) if incoming
                        else (Transfer.debit_account_id, Transfer.credit_account_id))
        other, member = aliased(LedgerAccount), aliased(User)
        amount = Transfer.amount_minor if incoming else -Transfer.amount_minor
        stmt = (select(Transfer.id, Transfer.created_at, Transfer.kind,
                       amount.label("amount_minor"), member.username.label("member_username"),
                       member.display_name.label("member_name"), Transfer.cause_type,
                       Transfer.cause_id, Transfer.memo, Transfer.batch_id)
                .join(other, other.id == theirs).outerjoin(member, member.id == other.owner_id)
                .where(ours == bindparam("account_id", type_=Integer),
                       Transfer.state.in_(_MOVED)))
        if paged:
            stmt = stmt.where(tuple_(Transfer.created_at, Transfer.id) < before)
        return (stmt.order_by(Transfer.created_at.desc(), Transfer.id.desc()).limit(size)
                .subquery().select())

    both = union_all(side(True), side(False)).subquery()
    return select(both).order_by(both.c.created_at.desc(), both.c.id.desc()).limit(size)


def revenue_page(cursor: str | None, size: int | None = None) -> Page:
    """The platform revenue account's movements, newest first, as ``RevenueLine`` items
    (fees and commission shares in, corrections out); two queries."""
    account_id = db.session.scalar(select(LedgerAccount.id).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.PLATFORM_REVENUE))
    key = decode_cursor(cursor)
    if account_id is None:
        return Page(items=[], next_cursor=None, is_first=key is None)
    size = size or current_app.config["PAGE_SIZE"]
    params = {"account_id": account_id}
    if key:
        params.update(before_at=key[0], before_id=key[1])
    rows = db.session.execute(_revenue_statement(size + 1, bool(key)), params).all()
    return keyset_page([RevenueLine(*row) for row in rows], size, key is None)
