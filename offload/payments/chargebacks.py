"""Stripe's dispute and refund events: a deposit taken back, or given back.

The deposit is found by the payment intent the dispute or refund names, which
``settle_deposit`` kept as the deposit's ``payment_reference``. Each dispute or refund
is one ``Chargeback`` row, unique by its Stripe id, so however many events speak of
it, its money moves once (``wallet.services.take_back_deposit``). When the wallet
didn't cover it and the member now owes the rest, a case opens on them, with their
inviter on the hook (``cases.services.open_chargeback_case``). For a member who
deleted their account nothing is charged to them and a won dispute's money is set aside
in the unclaimed account; either way a case tells the admins
(``cases.services.open_deleted_chargeback_case``). A dispute or refund
that arrives before its deposit completed (the payment intent is learnt from
``checkout.session.completed``) raises ``DepositNotSettledYet`` while a deposit waits:
the event is not recorded, the webhook answers 409, and Stripe's redelivery applies it.

Disputes: ``charge.dispute.created`` takes the disputed amount back, unless the dispute
is an inquiry (status ``warning_…``: Stripe withdraws no funds for those);
``charge.dispute.funds_withdrawn`` takes it too (an inquiry that became a chargeback;
for an ordinary dispute it finds the row and moves nothing); ``charge.dispute.closed``
as won, or ``charge.dispute.funds_reinstated``, gives it back; closed as lost takes it
(in case the created event never came).

Refunds: for a refund of a Checkout payment Stripe sends ``charge.refunded`` (the
charge, with only the running total refunded) and, on API versions from 2024-10-28,
``refund.created`` and ``refund.updated`` (the refund itself, with its id and amount)
and ``refund.failed``. The ``refund.*`` events are handled: each refund is taken back
once by its id, a partial refund moving only its amount, and a refund that fails or is
canceled gives it back. ``charge.refunded`` is recorded and left alone: handling it as
well would take the same refund back twice under two names.
"""

from __future__ import annotations

from typing import Any

from offload.cases.services import open_chargeback_case, open_deleted_chargeback_case
from offload.wallet.models import ChargebackKind
from offload.wallet.services import return_chargeback, take_back_deposit

PROVIDER = "stripe"

# a refund moves money from these states on; failed or canceled it comes back
REFUND_TAKEN = {"pending", "succeeded"}
REFUND_UNDONE = {"failed", "canceled"}


def _id(value: Any) -> str | None:
    """An id field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _take(kind: ChargebackKind, found: dict[str, Any]) -> None:
    reference, payment = _id(found.get("id")), _id(found.get("payment_intent"))
    amount = found.get("amount")
    if reference is None or payment is None or not isinstance(amount, int):
        return
    chargeback = take_back_deposit(provider=PROVIDER, payment_reference=payment,
                                   reference=reference, kind=kind, amount_minor=amount,
                                   reason=str(found.get("reason") or ""),
                                   then=open_deleted_chargeback_case)
    if chargeback is not None:
        open_chargeback_case(chargeback)


def _give_back(kind: ChargebackKind, found: dict[str, Any]) -> None:
    reference = _id(found.get("id"))
    if reference is not None:
        return_chargeback(provider=PROVIDER, reference=reference, kind=kind,
                          payment_reference=_id(found.get("payment_intent")),
                          then=open_deleted_chargeback_case)


def dispute_opened(dispute: dict[str, Any]) -> None:
    if not str(dispute.get("status", "")).startswith("warning_"):
        _take(ChargebackKind.DISPUTE, dispute)


def dispute_closed(dispute: dict[str, Any]) -> None:
    status = dispute.get("status")
    if status == "lost":
        _take(ChargebackKind.DISPUTE, dispute)
    elif status in ("won", "warning_closed"):
        _give_back(ChargebackKind.DISPUTE, dispute)


def refund_changed(refund: dict[str, Any]) -> None:
    status = refund.get("status")
    if status in REFUND_TAKEN:
        _take(ChargebackKind.REFUND, refund)
    elif status in REFUND_UNDONE:
        _give_back(ChargebackKind.REFUND, refund)


HANDLERS = {
    "charge.dispute.created": dispute_opened,
    "charge.dispute.funds_withdrawn": lambda dispute: _take(ChargebackKind.DISPUTE, dispute),
    "charge.dispute.closed": dispute_closed,
    "charge.dispute.funds_reinstated": lambda dispute: _give_back(ChargebackKind.DISPUTE,
                                                                  dispute),
    "refund.created": refund_changed,
    "refund.updated": refund_changed,
    "refund.failed": lambda refund: _give_back(ChargebackKind.REFUND, refund),
}
