"""Reads for reconciliation: the ledger's movements through Stripe, one source per kind.

A source is a function ``since -> Iterable[LedgerItem]`` (``reconcile.SOURCES`` lists
them; the matching keys are described there).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select

from offload.core.db import db
from offload.wallet.models import (
    Chargeback,
    ChargebackState,
    Deposit,
    DepositState,
    Withdrawal,
    WithdrawalState,
)
from offload.wallet.providers import StripeProvider


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
    """Disputes and refunds of Stripe deposits: - what was taken back when it was taken,
    and + the same again when it came back (a dispute won, a refund that failed), both
    keyed by the dispute's or refund's id (Stripe's balance transactions for a dispute
    withdrawn and reinstated carry that id as their source, and are summed by it)."""
    rows = db.session.execute(
        select(Chargeback.id, Chargeback.kind, Chargeback.provider_reference,
               Chargeback.amount_minor, Chargeback.state, Chargeback.created_at,
               Chargeback.returned_at)
        .where(Chargeback.provider == StripeProvider.name,
               (Chargeback.created_at >= since) | (Chargeback.returned_at >= since))
        .order_by(Chargeback.created_at, Chargeback.id))
    for row in rows:
        if not row.amount_minor:  # closed before we heard it was opened: nothing moved
            continue
        what = f"{row.kind} #{row.id}"
        yield LedgerItem(stripe_id=row.provider_reference, amount_minor=-row.amount_minor,
                         what=what, at=row.created_at)
        if row.state == ChargebackState.RETURNED:
            yield LedgerItem(stripe_id=row.provider_reference, amount_minor=row.amount_minor,
                             what=f"{what} returned", at=row.returned_at)


def stripe_payout_items(since: datetime) -> Iterator[LedgerItem]:
    """Withdrawals paid into a connected account by a Stripe Transfer: - their amount,
    keyed by the transfer's id, and + the same again when the transfer was reversed
    (its reversal's balance transaction is keyed by the transfer it reverses)."""
    rows = db.session.execute(
        select(Withdrawal.id, Withdrawal.amount_minor, Withdrawal.transfer_reference,
               Withdrawal.state, Withdrawal.decided_at)
        .where(Withdrawal.transfer_reference.is_not(None), Withdrawal.decided_at >= since)
        .order_by(Withdrawal.decided_at, Withdrawal.id))
    for row in rows:
        what = f"withdrawal #{row.id}"
        yield LedgerItem(stripe_id=row.transfer_reference, amount_minor=-row.amount_minor,
                         what=what, at=row.decided_at)
        if row.state == WithdrawalState.RETURNED:
            yield LedgerItem(stripe_id=row.transfer_reference, amount_minor=row.amount_minor,
                             what=f"{what} returned", at=row.decided_at)
