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
from offload.wallet.models import Deposit, DepositState
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
