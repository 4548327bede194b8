"""Reads for reconciliation: the ledger's movements through Stripe, one source per kind.

A source is a function ``since -> Iterable[LedgerItem]`` (``reconcile.SOURCES`` lists
them; the matching keys are described there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BigInteger, cast, func, select
from sqlalchemy.orm import aliased

from offload.core.db import db
from offload.ledger.models import Transfer, TransferKind
from offload.wallet.models import (
    Chargeback,
    Deposit,
    DepositState,
    Withdrawal,
)
from offload.wallet.providers import StripeProvider

CHARGEBACK_CAUSE = "chargeback"  # the cause_type of a chargeback's transfers
# a chargeback's transfers, by kind: the sign of what they moved, as Stripe's balance counts it
CHARGEBACK_SIGNS = {TransferKind.CHARGEBACK: -1, TransferKind.CHARGEBACK_RETURN: +1}


class LedgerItem(NamedTuple):
    """One movement of the ledger through Stripe."""

    stripe_id: str  # the key its balance transaction is found by (see ``reconcile``)
    amount_minor: int  # + into the platform's Stripe balance, - out of it
    what: str  # "deposit #12", for the report
    at: datetime  # when the ledger recorded it


def stripe_deposit_items(since: datetime) -> Iterator[LedgerItem]:
    """Deposits paid through Stripe and credited since ``since``: + their amount, keyed by
    their payment intent (``payment_reference``; a completed deposit without one, which
    Stripe's events should never leave, is keyed by its checkout session and so never
    matches)."""
    rows = db.session.execute(
        select(Deposit.id, Deposit.amount_minor, Deposit.payment_reference,
               Deposit.provider_reference, Deposit.completed_at)
        .where(Deposit.provider == StripeProvider.name,
               Deposit.state == DepositState.COMPLETED, Deposit.completed_at >= since)
        .order_by(Deposit.completed_at, Deposit.id))
    for row in rows:
        yield LedgerItem(stripe_id=row.payment_reference or row.provider_reference,
                         amount_minor=row.amount_minor, what=f"deposit #{row.id}",
                         at=row.completed_at)


def stripe_chargeback_items(since: datetime) -> Iterator[LedgerItem]:
    """Disputes and refunds of Stripe deposits: - what was taken back, and + the same
    again when it came back (a dispute won, a refund that failed), both keyed by the
    dispute's or refund's id (Stripe's balance transactions for a dispute withdrawn and
    reinstated carry that id as their source, and are summed by it). Each is what the
    chargeback's CHARGEBACK or CHARGEBACK_RETURN transfers moved, dated by them, and only
    if that is at or after ``since``: a dispute won today that was taken two months ago
    answers the return alone, as Stripe's list since today holds only the reinstatement."""
    moved = db.session.execute(
        select(Chargeback.id, Chargeback.kind, Chargeback.provider_reference,
               Transfer.kind.label("transfer_kind"),
               # SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back, money is int
               cast(func.sum(Transfer.amount_minor), BigInteger).label("amount_minor"),
               func.min(Transfer.created_at).label("at"))
        .join(Transfer, (Transfer.cause_type == CHARGEBACK_CAUSE)
              & (Transfer.cause_id == Chargeback.id))
        .where(Chargeback.provider == StripeProvider.name,
               Transfer.kind.in_(CHARGEBACK_SIGNS))
        .group_by(Chargeback.id, Chargeback.kind, Chargeback.provider_reference,
                  Transfer.kind)
        .having(func.min(Transfer.created_at) >= since)
        .order_by(func.min(Transfer.created_at), Chargeback.id))
    for row in moved:
        returned = row.transfer_kind == TransferKind.CHARGEBACK_RETURN
        yield LedgerItem(stripe_id=row.provider_reference,
                         amount_minor=CHARGEBACK_SIGNS[row.transfer_kind] * row.amount_minor,
                         what=f"{row.kind} #{row.id}{' returned' if returned else ''}",
                         at=row.at)


def stripe_payout_items(since: datetime) -> Iterator[LedgerItem]:
    """Withdrawals paid into a connected account by a Stripe Transfer: - their amount,
    keyed by the transfer's id, and + the same again when the transfer was reversed
    (its reversal's balance transaction is keyed by the transfer it reverses). Each is
    dated by its own ledger transfer, the settle (the hold posted when Stripe made the
    Transfer, perhaps on a retry days after the approval) and the return (the reversal,
    perhaps days later), and answered only if that is at or after ``since``."""
    settle, back = aliased(Transfer), aliased(Transfer)
    rows = db.session.execute(
        select(Withdrawal.id, Withdrawal.transfer_reference,
               settle.amount_minor.label("paid_minor"), settle.created_at.label("paid_at"),
               back.amount_minor.label("returned_minor"), back.created_at.label("returned_at"))
        .join(settle, settle.id == Withdrawal.settle_transfer_id)
        .outerjoin(back, back.id == Withdrawal.return_transfer_id)
        .where(Withdrawal.transfer_reference.is_not(None),
               (settle.created_at >= since) | (back.created_at >= since))
        .order_by(settle.created_at, Withdrawal.id))
    for row in rows:
        what = f"withdrawal #{row.id}"
        if row.paid_at >= since:
            yield LedgerItem(stripe_id=row.transfer_reference, amount_minor=-row.paid_minor,
                             what=what, at=row.paid_at)
        if row.returned_at is not None and row.returned_at >= since:
            yield LedgerItem(stripe_id=row.transfer_reference,
                             amount_minor=row.returned_minor, what=f"{what} returned",
                             at=row.returned_at)
