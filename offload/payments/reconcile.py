"""Reconciliation: the ledger's Stripe movements against Stripe's balance transactions.

``reconcile(since)`` lists Stripe's balance transactions created since then (``GET
/v1/balance_transactions`` with ``created[gte]``, a page of 100 at a time through
``starting_after``, each with its ``source`` expanded) and asks each of ``SOURCES`` for
the ledger's movements through Stripe since then, then compares the two by key. Reads
only: no transaction is opened around the network calls, and nothing is written.

The ledger side is a list of sources, each a function ``since -> Iterable[LedgerItem]``
answering the movements of one kind, signed as Stripe's balance counts them (+ into the
platform's Stripe balance, - out of it) and keyed by the Stripe id its balance
transaction is found by. A new kind of movement is one more function in ``SOURCES``.

Matching keys, balance transaction → key:
- one whose source is a charge (types ``charge``, ``payment``; a ``payment_reversal``
  or ``payment_failure_refund`` too when Stripe names the charge as its source): the
  charge's ``payment_intent``, since a deposit knows its payment intent
  (``Deposit.payment_reference``, from the checkout session), not the charge Stripe
  made for it; so a reversed payment is summed with its deposit's charge and shows as
  that deposit differing. A charge without a payment intent is keyed by its own id;
- anything else (a refund ``re_``, a dispute ``dp_``, a transfer ``tr_`` and its
  reversals): the id of its ``source``; so a chargeback source keys its items by the
  dispute or refund id, and a payout source by the withdrawal's Stripe transfer id;
- a transfer reversal: the transfer it reverses, so a returned withdrawal nets to 0;
  a refund's failure (``refund_failure``) has the refund as its source, so a failed
  refund nets to 0 as the ledger's taken and returned parts do.
Several balance transactions with one key (a dispute withdrawn, then reinstated) are
summed, as are several ledger items with one key.

Mismatches, one a line: a key Stripe has and the ledger hasn't, one the ledger has and
Stripe hasn't, and one whose amounts differ (or whose currency is not the site's). A
key that nets to 0 where the other side has nothing agrees (a delayed payment that
failed: Stripe's ``payment`` and ``payment_failure_refund``, and no deposit credited).
Stripe's fees are not mismatches: the ledger credits what the member paid and Stripe's
balance transaction carries it gross in ``amount`` with the fee apart in ``fee``; they
are compared on ``amount``, and the fees are added up in the summary (the platform's
cost of taking payments). Balance transactions of other types (Stripe's payouts to the
platform's bank, its own fees, top-ups) are no movement of the ledger's: they are
counted by type in the summary, not compared.

Near the start of the window a movement can fall on either side of ``since`` (a charge
made at 23:59, its webhook credited at 00:01): both sides are read from ``OVERLAP``
earlier, matched over the whole, and only what is unmatched since ``since`` is reported.

One rule for both sides: an item is read when its own moment is at or after that start
(``window_start``, in whole seconds as Stripe's ``created`` is). Stripe dates a balance
transaction by its ``created``; the ledger dates each part of a movement by the transfer
that made it, not by its business row: a dispute won two months after it was taken is
the reinstatement alone on both sides, a withdrawal reversed days after it was paid is
the reversal alone, and a withdrawal sent on a retry days after its approval is dated
by the transfer the retry made. ``reconcile`` holds every source's items to that rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from flask import current_app

from offload.core.csv_export import csv_amount
from offload.wallet.providers import StripeProvider

from .queries import (
    LedgerItem,
    stripe_chargeback_items,
    stripe_deposit_items,
    stripe_payout_items,
)


class StripeItem(NamedTuple):
    """One of Stripe's balance transactions, keyed for the ledger."""

    stripe_id: str
    amount_minor: int  # gross, signed as Stripe counts it
    fee_minor: int
    currency: str
    what: str  # "charge txn_…", for the report
    at: datetime


Source = Callable[[datetime], Iterable[LedgerItem]]

# The ledger's movements through Stripe, one function per kind.
SOURCES: list[Source] = [
    stripe_deposit_items,
    stripe_chargeback_items,
    stripe_payout_items,
]

# balance transaction types that are ledger movements (the rest are counted, not compared:
# payouts to our bank, Stripe's fees and taxes, top-ups, reserves, application fees and
# Connect collections, Issuing, Climate: none is a movement of a member's money)
COMPARED_TYPES = frozenset({
    "charge", "payment",  # deposits
    "payment_reversal", "payment_failure_refund",  # deposits reversed by Stripe
    "refund", "refund_failure", "payment_refund", "adjustment",  # chargebacks
    "transfer", "transfer_cancel", "transfer_failure", "transfer_refund",  # payouts
})
PAGE_LIMIT = 100  # Stripe's largest page
OVERLAP = timedelta(days=1)


@dataclass(frozen=True)
class Mismatch:
    stripe_id: str
    ledger: tuple[LedgerItem, ...]
    stripe: tuple[StripeItem, ...]

    @property
    def ledger_minor(self) -> int:
        return sum(item.amount_minor for item in self.ledger)

    @property
    def stripe_minor(self) -> int:
        return sum(item.amount_minor for item in self.stripe)

    def __str__(self) -> str:
        ledger = ", ".join(item.what for item in self.ledger)
        stripe = ", ".join(item.what for item in self.stripe)
        if not self.stripe:
            return (f"missing at Stripe: {self.stripe_id} ({ledger}): "
                    f"{csv_amount(self.ledger_minor)} in the ledger, no balance transaction")
        if not self.ledger:
            return (f"missing in the ledger: {self.stripe_id} ({stripe}): "
                    f"{csv_amount(self.stripe_minor)} at Stripe, nothing in the ledger")
        currencies = {item.currency for item in self.stripe}
        return (f"amount differs: {self.stripe_id} ({ledger}; {stripe}): "
                f"{csv_amount(self.ledger_minor)} in the ledger, "
                f"{csv_amount(self.stripe_minor)} {'/'.join(sorted(currencies))} at Stripe")


@dataclass(frozen=True)
class Report:
    since: datetime
    mismatches: list[Mismatch]
    matched: int  # keys whose two sides add up to the same amount
    fees_minor: int  # Stripe's fees on the compared balance transactions
    fee_count: int  # how many of them carried a fee
    not_compared: Counter = field(default_factory=Counter)  # balance transaction type -> n

    def summary(self, currency: str) -> str:
        others = ", ".join(f"{kind} {n}" for kind, n in sorted(self.not_compared.items()))
        return (f"reconcile since {self.since.isoformat()}: {self.matched} matched, "
                f"{len(self.mismatches)} mismatch(es); Stripe's fees "
                f"{csv_amount(self.fees_minor)} {currency} on {self.fee_count} balance "
                f"transaction(s) (not mismatches)"
                + (f"; not compared (not ledger movements): {others}" if others else ""))


def reconcile(since: datetime, *, sources: Iterable[Source] = SOURCES,
              client: Any = None) -> Report:
    """Compare Stripe's balance transactions since ``since`` with the ledger's Stripe
    movements (``sources``); raises ``stripe.StripeError`` if Stripe can't be listed.
    ``client`` is a ``stripe.StripeClient``, the configured one's by default."""
    client = client or StripeProvider().client
    start = window_start(since)
    not_compared: Counter = Counter()
    currency = current_app.config["CURRENCY"].lower()
    stripe_side: dict[str, list[StripeItem]] = {}
    for transaction in balance_transactions(client, start):
        if transaction["type"] not in COMPARED_TYPES:
            if transaction["created"] >= since.timestamp():
                not_compared[transaction["type"]] += 1
            continue
        item = _stripe_item(transaction)
        if item.at >= start:
            stripe_side.setdefault(item.stripe_id, []).append(item)
    ledger_side: dict[str, list[LedgerItem]] = {}
    for source in sources:
        for item in source(start):
            if item.at >= start:  # the rule Stripe's ``created[gte]`` applies to its side
                ledger_side.setdefault(item.stripe_id, []).append(item)

    mismatches, matched = [], 0
    fees = [item.fee_minor for items in stripe_side.values() for item in items
            if item.at >= since and item.fee_minor]
    for key in sorted(stripe_side.keys() | ledger_side.keys()):
        ledger, stripe = tuple(ledger_side.get(key, ())), tuple(stripe_side.get(key, ()))
        if max(item.at for item in (*ledger, *stripe)) < since:
            continue  # read only for the overlap: before the window
        same = (sum(i.amount_minor for i in ledger) == sum(i.amount_minor for i in stripe)
                and all(item.currency == currency for item in stripe))
        if same:  # a key netting to 0 on one side and absent on the other agrees too
            matched += 1
        else:
            mismatches.append(Mismatch(key, ledger, stripe))
    return Report(since=since, mismatches=mismatches, matched=matched, fees_minor=sum(fees),
                  fee_count=len(fees), not_compared=not_compared)


def window_start(since: datetime) -> datetime:
    """Where both sides are read from: ``OVERLAP`` before ``since``, in whole seconds
    (Stripe's ``created[gte]`` takes seconds, so the ledger's side starts there too)."""
    return (since - OVERLAP).replace(microsecond=0)


def balance_transactions(client: Any, since: datetime) -> Iterator[dict[str, Any]]:
    """Stripe's balance transactions created at or after ``since``, with their source
    expanded, a page at a time (``starting_after`` the last one read)."""
    params: dict[str, Any] = {"created": {"gte": int(since.timestamp())},
                              "limit": PAGE_LIMIT, "expand": ["data.source"]}
    while True:
        page = client.v1.balance_transactions.list(params)
        yield from page.data
        if not page.has_more or not page.data:
            return
        params["starting_after"] = page.data[-1]["id"]


def _stripe_item(transaction: dict[str, Any]) -> StripeItem:
    source = transaction.get("source")
    if isinstance(source, dict):
        key = source.get("id")
        if source.get("object") == "charge" and source.get("payment_intent"):
            key = source["payment_intent"]
        elif source.get("object") == "transfer_reversal" and source.get("transfer"):
            # summed with the transfer it reverses (a withdrawal returned nets to 0)
            reversed_transfer = source["transfer"]
            key = reversed_transfer["id"] if isinstance(reversed_transfer, dict) \
                else reversed_transfer
    else:
        key = source
    return StripeItem(
        stripe_id=key or transaction["id"], amount_minor=transaction["amount"],
        fee_minor=transaction.get("fee") or 0, currency=transaction.get("currency", ""),
        what=f"{transaction['type']} {transaction['id']}",
        at=datetime.fromtimestamp(transaction["created"], UTC))
