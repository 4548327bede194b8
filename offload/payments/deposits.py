"""Stripe's Checkout events and what each says about its deposit's money.

A session's id is the deposit's ``provider_reference``. ``checkout.session.completed``
is paid at once for a card; a delayed method (a bank debit) completes the session
unpaid (the deposit waits, its closed checkout page forgotten), and its
``async_payment_succeeded`` or ``async_payment_failed`` settles it later. An expired
session fails a deposit still pending and changes nothing after a payment (events out
of order). A payment for a member who deleted their account meanwhile is not credited:
its deposit fails and a case asks the admins to refund it at Stripe.
"""

from __future__ import annotations

from typing import Any

from offload.cases.services import open_unclaimed_deposit_case
from offload.wallet.models import DepositState
from offload.wallet.services import settle_deposit

PROVIDER = "stripe"


def _settle(paid: bool | None):
    def handle(session: dict[str, Any]) -> None:
        settled = paid
        if settled is None:  # checkout.session.completed: paid now, or later by its own event
            settled = True if session.get("payment_status") == "paid" else None
        if session.get("id"):
            deposit = settle_deposit(provider=PROVIDER, reference=session["id"],
                                     paid=settled, payment_reference=session.get("payment_intent"))
            if settled and deposit is not None and deposit.state == DepositState.FAILED:
                # paid, yet failed: its member deleted their account, so the wallet
                # refused the money; the admins are asked to refund it at Stripe
                open_unclaimed_deposit_case(deposit)
    return handle


HANDLERS = {
    "checkout.session.completed": _settle(None),
    "checkout.session.async_payment_succeeded": _settle(True),
    "checkout.session.async_payment_failed": _settle(False),
    "checkout.session.expired": _settle(False),
}
