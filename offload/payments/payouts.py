"""Stripe's events about payouts: connected accounts, Transfers, and failed payouts.

- ``account.updated`` (a Connect event) keeps a member's payout account as Stripe
  describes it, as the return page does.
- ``transfer.created`` records the Transfer that pays a withdrawal when the admin's own
  call died before recording it (the Transfer's ``metadata.withdrawal_id`` names it);
  after the call recorded it, it changes nothing.
- ``transfer.reversed`` (the whole Transfer: we never make partial reversals; one made
  by hand in Stripe's dashboard is logged and left to a person) returns the money to
  the wallet through a ledger reversal, and tells the member.
- ``payout.failed`` is a Connect event (``account`` set): the connected account's
  payout to the bank failed, so the money is back on *that account's* Stripe balance,
  not ours. Crediting the wallet now would pay it twice (Stripe retries the payout once
  the bank details are fixed). So the withdrawal waits (returning) while a job
  reverses the Transfer (``POST /v1/transfers/{id}/reversals``), which brings the money
  back to our balance; then the wallet is credited, once, by whichever comes first of
  the job's answer and the ``transfer.reversed`` event. For a member who deleted their
  account meanwhile the money goes to the unclaimed account instead, and a case asks
  the admins to send it on (``cases.services.open_returned_withdrawal_case``).
Handlers run inside the event's transaction and make no network call.
"""

from __future__ import annotations

from typing import Any

from offload.cases.services import open_returned_withdrawal_case
from offload.wallet.connect import update_payout_account
from offload.wallet.providers import PayoutAccountState
from offload.wallet.services import (
    mark_payout_failed,
    record_withdrawal_transfer,
    return_withdrawal,
)


def _transfer_created(transfer: dict[str, Any]) -> None:
    withdrawal_id = (transfer.get("metadata") or {}).get("withdrawal_id", "")
    amount = transfer.get("amount")
    if withdrawal_id.isdigit() and transfer.get("id") and isinstance(amount, int):
        record_withdrawal_transfer(withdrawal_id=int(withdrawal_id),
                                   transfer_reference=transfer["id"], amount_minor=amount)


def _transfer_reversed(transfer: dict[str, Any]) -> None:
    if transfer.get("id") and transfer.get("reversed"):
        return_withdrawal(transfer_reference=transfer["id"],
                          why="the transfer to your payout account was reversed",
                          then=open_returned_withdrawal_case)


def _account_updated(account: dict[str, Any], _account: str) -> None:
    if account.get("id"):
        update_payout_account(PayoutAccountState.of(account))


def _payout_failed(payout: dict[str, Any], account: str) -> None:
    if isinstance(payout.get("amount"), int):
        mark_payout_failed(account_reference=account, amount_minor=payout["amount"])


HANDLERS = {
    "transfer.created": _transfer_created,
    "transfer.reversed": _transfer_reversed,
}

# events about a connected account (the event's ``account``), handled with its id
CONNECT_HANDLERS = {
    "account.updated": _account_updated,
    "payout.failed": _payout_failed,
}
