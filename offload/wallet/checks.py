"""Invariant 10 for the wallet: every deposit, withdrawal and chargeback state matches its
transfers.

Each check has the ledger checks' shape, ``() -> list[Failure]``, and is listed in
``offload.health.MONEY_CHECKS`` (so ``flask ledger check``, the admin page and the
test suite's after-test check all run it). Failures name the accounts involved: the
member's wallet and the external account.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cache

from sqlalchemy import Row, and_, exists, or_, select
from sqlalchemy.orm import aliased

from offload.core.db import db
from offload.ledger.checks import Check, Failure, with_hold
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

from .models import (
    Chargeback,
    ChargebackState,
    Deposit,
    DepositState,
    Withdrawal,
    WithdrawalState,
)

INVARIANT = 10


def _external_id() -> int | None:
    return db.session.scalar(select(LedgerAccount.id).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.EXTERNAL))


def _accounts(*ids: int | None) -> tuple[int, ...]:
    return tuple(i for i in ids if i is not None)


@cache
def _withdrawal_rows():
    """Each withdrawal with its wallet, hold and settlement (built once, as above)."""
    wallet = aliased(LedgerAccount)
    return with_hold(
        select(Withdrawal.id, Withdrawal.state, Withdrawal.amount_minor,
               Withdrawal.hold_transfer_id, Withdrawal.settle_transfer_id,
               Withdrawal.return_transfer_id, wallet.id.label("wallet_id"))
        .outerjoin(wallet, and_(wallet.owner_id == Withdrawal.member_id,
                                wallet.kind == AccountKind.WALLET)),
        Withdrawal.hold_transfer_id).order_by(Withdrawal.id)


def _returns() -> dict[int, Row]:
    """Each REVERSAL of a withdrawal's transfer, by the transfer it reverses."""
    return {t.reverses_id: t for t in db.session.execute(
        select(Transfer.id, Transfer.reverses_id, Transfer.state, Transfer.amount_minor)
        .where(Transfer.kind == TransferKind.REVERSAL, Transfer.cause_type == "withdrawal"))}


def check_withdrawals_match_holds() -> list[Failure]:
    """10. A requested (or sending) withdrawal has an open hold of its amount on the
    member's wallet; a paid one has that hold posted in full; a rejected one has it
    voided; a returned one has its posted hold reversed once, by the transfer it names."""
    rows = db.session.execute(_withdrawal_rows()).all()
    returns = _returns()
    external_id = _external_id()
    failures = []
    for r in rows:
        problems = _return_problems(r, returns.get(r.settle_id))
        if r.hold_id is None:
            problems.append("has no hold")
        else:
            if (r.hold_kind, r.hold_state) != (TransferKind.WITHDRAWAL, TransferState.PENDING):
                problems.append(f"its hold {r.hold_id} is a {r.hold_state} {r.hold_kind} "
                                "transfer, not a pending withdrawal")
            if r.held != r.amount_minor:
                problems.append(f"holds {r.held} for an amount of {r.amount_minor}")
            if (r.hold_debit, r.hold_credit) != (r.wallet_id, external_id):
                problems.append(f"its hold moves {r.hold_debit} → {r.hold_credit}, not the "
                                f"member's wallet {r.wallet_id} → external {external_id}")
            if (r.cause_type, r.cause_id) != ("withdrawal", r.id):
                problems.append(f"its hold names {r.cause_type}:{r.cause_id} "
                                "as its cause")
        expected = {WithdrawalState.REQUESTED: None, WithdrawalState.SENDING: None,
                    WithdrawalState.PAID: TransferState.POST_PENDING,
                    WithdrawalState.RETURNING: TransferState.POST_PENDING,
                    WithdrawalState.RETURNED: TransferState.POST_PENDING,
                    WithdrawalState.REJECTED: TransferState.VOID_PENDING}.get(r.state, "?")
        if expected == "?":
            problems.append(f"has an unknown state {r.state!r}")
        elif r.settle_state != expected:
            now = "open" if r.settle_state is None else r.settle_state
            want = "open" if expected is None else expected
            problems.append(f"is {r.state} but its hold is {now} (should be {want})")
        if r.state != WithdrawalState.REJECTED and r.settled is not None \
                and r.settled != r.amount_minor:
            problems.append(f"is paid but only {r.settled} of {r.amount_minor} was posted")
        if r.settle_transfer_id != r.settle_id:
            problems.append(f"names {r.settle_transfer_id} as its settlement, the ledger says "
                            f"{r.settle_id}")
        if problems:
            failures.append(Failure(INVARIANT, "withdrawal matches its hold",
                                    f"withdrawal {r.id} " + "; ".join(problems),
                                    _accounts(r.wallet_id, external_id)))
    return failures


def _return_problems(r: Row, reversal: Row | None) -> list[str]:
    if r.state != WithdrawalState.RETURNED:
        return [] if reversal is None else [f"is {r.state} but its payout was reversed by "
                                            f"{reversal.id}"]
    if reversal is None:
        return ["is returned but its payout was never reversed"]
    problems = []
    if r.return_transfer_id != reversal.id:
        problems.append(f"names {r.return_transfer_id} as its return, the ledger says "
                        f"{reversal.id}")
    if (reversal.state, reversal.amount_minor) != (TransferState.POSTED, r.amount_minor):
        problems.append(f"its return {reversal.id} is {reversal.state} "
                        f"{reversal.amount_minor}, not posted {r.amount_minor}")
    return problems


def check_deposits_match_transfers() -> list[Failure]:
    """10. A completed deposit has exactly one posted DEPOSIT transfer of its amount from
    the external account into the member's wallet; a pending or failed one has none."""
    transfers = defaultdict(list)
    for t in db.session.execute(
            select(Transfer.id, Transfer.cause_id, Transfer.state, Transfer.amount_minor,
                   Transfer.debit_account_id, Transfer.credit_account_id)
            .where(Transfer.kind == TransferKind.DEPOSIT, Transfer.cause_type == "deposit")):
        transfers[t.cause_id].append(t)
    wallet = aliased(LedgerAccount)
    rows = db.session.execute(
        select(Deposit.id, Deposit.state, Deposit.amount_minor, Deposit.transfer_id,
               wallet.id.label("wallet_id"))
        .outerjoin(wallet, and_(wallet.owner_id == Deposit.member_id,
                                wallet.kind == AccountKind.WALLET))
        .order_by(Deposit.id)).all()
    external_id = _external_id()
    failures = []
    for r in rows:
        mine, problems = transfers.get(r.id, []), []
        if r.state == DepositState.COMPLETED:
            if len(mine) != 1:
                problems.append(f"is completed with {len(mine)} deposit transfers, not one")
            for t in mine:
                if t.state != TransferState.POSTED or t.amount_minor != r.amount_minor:
                    problems.append(f"transfer {t.id} is {t.state} {t.amount_minor}, not "
                                    f"posted {r.amount_minor}")
                if (t.debit_account_id, t.credit_account_id) != (external_id, r.wallet_id):
                    problems.append(f"transfer {t.id} moves {t.debit_account_id} → "
                                    f"{t.credit_account_id}, not external {external_id} → "
                                    f"the member's wallet {r.wallet_id}")
            if len(mine) == 1 and r.transfer_id != mine[0].id:
                problems.append(f"names transfer {r.transfer_id}, the ledger has {mine[0].id}")
        elif mine or r.transfer_id is not None:
            problems.append(f"is {r.state} but has transfers "
                            f"{', '.join(str(t.id) for t in mine) or r.transfer_id}")
        if problems:
            failures.append(Failure(INVARIANT, "deposit matches its transfer",
                                    f"deposit {r.id} " + "; ".join(problems),
                                    _accounts(external_id, r.wallet_id)))
    return failures


def check_no_orphan_wallet_transfers() -> list[Failure]:
    """10. Every DEPOSIT transfer belongs to a deposit row, and every WITHDRAWAL transfer
    is the hold of a withdrawal row or that hold's settlement."""
    deposit_row = exists().where(Deposit.id == Transfer.cause_id)
    withdrawal_row = exists().where(
        Withdrawal.id == Transfer.cause_id,
        or_(Withdrawal.hold_transfer_id == Transfer.id,
            Withdrawal.hold_transfer_id == Transfer.pending_id))
    rows = db.session.execute(
        select(Transfer.id, Transfer.kind, Transfer.cause_type, Transfer.cause_id,
               Transfer.debit_account_id, Transfer.credit_account_id)
        .where(or_(and_(Transfer.kind == TransferKind.DEPOSIT,
                        or_(Transfer.cause_type.is_distinct_from("deposit"), ~deposit_row)),
                   and_(Transfer.kind == TransferKind.WITHDRAWAL,
                        or_(Transfer.cause_type.is_distinct_from("withdrawal"),
                            ~withdrawal_row))))
        .order_by(Transfer.id)).all()
    return [Failure(INVARIANT, "wallet transfer has its row",
                    f"{r.kind} transfer {r.id} (cause {r.cause_type}:{r.cause_id}) has no "
                    f"{r.kind} row that it belongs to",
                    (r.debit_account_id, r.credit_account_id)) for r in rows]


CHARGEBACK_KINDS = (TransferKind.CHARGEBACK, TransferKind.CHARGEBACK_RETURN)


def check_chargebacks_match_transfers() -> list[Failure]:
    """10. A chargeback took its amount into the chargebacks account: its covered part
    from the member's wallet, its debt from the member's debt account, as posted
    CHARGEBACK transfers; a returned one gave exactly its amount back to that wallet and
    debt account. What stands taken of a deposit is at most the deposit (chargebacks
    can't create money), and every chargeback, return and repayment transfer has its row
    (a repayment's is the deposit or withdrawal whose member's wallet paid the debt)."""
    accounts = {(r.owner_id, r.kind): r.id for r in db.session.execute(
        select(LedgerAccount.owner_id, LedgerAccount.kind, LedgerAccount.id))}
    chargebacks_id = accounts.get((None, AccountKind.CHARGEBACKS))
    legs = defaultdict(list)
    for t in db.session.execute(
            select(Transfer.id, Transfer.kind, Transfer.state, Transfer.cause_type,
                   Transfer.cause_id, Transfer.amount_minor, Transfer.debit_account_id,
                   Transfer.credit_account_id)
            .where(Transfer.kind.in_(CHARGEBACK_KINDS)).order_by(Transfer.id)):
        legs[(t.cause_type, t.cause_id)].append(t)
    deposits = {r.id: r for r in db.session.execute(
        select(Deposit.id, Deposit.amount_minor, Deposit.state, Deposit.member_id))}
    standing: dict[int, int] = defaultdict(int)
    failures = []
    for c in db.session.execute(select(Chargeback).order_by(Chargeback.id)).scalars():
        mine = legs.pop(("chargeback", c.id), [])
        wallet, debt = accounts.get((c.member_id, AccountKind.WALLET)), accounts.get(
            (c.member_id, AccountKind.DEBT))
        taken = sorted((t.debit_account_id, t.amount_minor) for t in mine
                       if t.kind == TransferKind.CHARGEBACK and t.state == TransferState.POSTED
                       and t.credit_account_id == chargebacks_id)
        want = sorted([(wallet, c.covered_minor)] * bool(c.covered_minor)
                      + [(debt, c.debt_minor)] * bool(c.debt_minor))
        problems = []
        if taken != want or sum(t.kind == TransferKind.CHARGEBACK for t in mine) != len(want):
            problems.append(f"took {taken} (account, amount), not {want}")
        back = [t for t in mine if t.kind == TransferKind.CHARGEBACK_RETURN]
        given = sum(t.amount_minor for t in back)
        if c.state == ChargebackState.RETURNED and given != c.amount_minor:
            problems.append(f"is returned but {given} of {c.amount_minor} came back")
        if c.state != ChargebackState.RETURNED and back:
            problems.append(f"is {c.state} but has returns {[t.id for t in back]}")
        if any(t.state != TransferState.POSTED or t.debit_account_id != chargebacks_id
               or t.credit_account_id not in (wallet, debt) for t in back):
            problems.append("gave back to other accounts than the member's")
        deposit = deposits.get(c.deposit_id)
        if deposit is None or deposit.member_id != c.member_id \
                or deposit.state != DepositState.COMPLETED:
            problems.append(f"takes back deposit {c.deposit_id}, not a completed deposit of "
                            f"member {c.member_id}")
        elif c.state == ChargebackState.TAKEN:
            standing[c.deposit_id] += c.amount_minor
            if standing[c.deposit_id] > deposit.amount_minor:
                problems.append(f"with the others takes {standing[c.deposit_id]} of deposit "
                                f"{c.deposit_id}'s {deposit.amount_minor}")
        if problems:
            failures.append(Failure(INVARIANT, "chargeback matches its transfers",
                                    f"chargeback {c.id} " + "; ".join(problems),
                                    _accounts(wallet, debt, chargebacks_id)))
    for (cause_type, cause_id), orphans in legs.items():
        failures += [Failure(INVARIANT, "wallet transfer has its row",
                             f"{t.kind} transfer {t.id} (cause {cause_type}:{cause_id}) has "
                             "no chargeback row", (t.debit_account_id, t.credit_account_id))
                     for t in orphans]
    withdrawers = dict(db.session.execute(select(Withdrawal.id, Withdrawal.member_id)
                                          .where(Withdrawal.id.in_(
                                              select(Transfer.cause_id).where(
                                                  Transfer.kind == TransferKind.DEBT_REPAYMENT,
                                                  Transfer.cause_type == "withdrawal")))).all())
    for t in db.session.execute(
            select(Transfer.id, Transfer.cause_type, Transfer.cause_id, Transfer.state,
                   Transfer.debit_account_id, Transfer.credit_account_id)
            .where(Transfer.kind == TransferKind.DEBT_REPAYMENT).order_by(Transfer.id)):
        # a deposit pays the debt, or a withdrawal's money coming back (rejected, returned)
        if t.cause_type == "deposit":
            member = deposits[t.cause_id].member_id if t.cause_id in deposits else None
        else:
            member = withdrawers.get(t.cause_id) if t.cause_type == "withdrawal" else None
        if member is None or t.state != TransferState.POSTED or (
                t.debit_account_id, t.credit_account_id) != (
                accounts.get((member, AccountKind.WALLET)),
                accounts.get((member, AccountKind.DEBT))):
            failures.append(Failure(INVARIANT, "wallet transfer has its row",
                                    f"debt repayment {t.id} is not its deposit's or "
                                    "withdrawal's member's wallet paying their debt",
                                    (t.debit_account_id, t.credit_account_id)))
    return failures


WALLET_CHECKS: tuple[Check, ...] = (check_withdrawals_match_holds,
                                    check_deposits_match_transfers,
                                    check_no_orphan_wallet_transfers,
                                    check_chargebacks_match_transfers)
