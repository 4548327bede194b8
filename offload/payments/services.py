"""Applying a verified provider event: recorded once, then handled by its type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from offload.core.db import db, insert_ignoring_conflicts, transactional

from . import chargebacks, deposits, payouts
from .models import EVENT_TYPE_MAX, ProviderEvent

# event type -> handler of the event's ``data.object`` (a plain dict of Stripe's JSON),
# run inside the event's transaction: a handler makes no network call
HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {**deposits.HANDLERS,
                                                          **chargebacks.HANDLERS}
HANDLERS.update(payouts.HANDLERS)
# the same for events about a connected account (Connect, delivered to the Connect
# endpoint only), given the account's id too; a platform event of the same type (our
# own account's payout) is not theirs
CONNECT_HANDLERS: dict[str, Callable[[dict[str, Any], str], None]] = {
    **payouts.CONNECT_HANDLERS}


@transactional
def apply_event(*, provider: str, event_id: str, event_type: str,
                data_object: dict[str, Any], account: str | None = None) -> bool:
    """Record a verified webhook event and apply it, once.

    State: a ProviderEvent row; then whatever the event type's handler changes, in the
    same transaction (so a handler that fails leaves the event unrecorded, and the
    provider's redelivery tries again).
    Changes nothing: for an event id already recorded (a redelivery) and, beyond the
    record, for a type no handler knows (recorded so that it is answered once).
    ``account`` is the connected account a Connect event is about (None for our own).
    Returns False for a redelivery.
    Raises: DepositNotSettledYet (a dispute or refund of a deposit not completed yet),
    leaving nothing recorded, for the webhook to answer non-2xx and Stripe to redeliver.
    """
    recorded = db.session.execute(insert_ignoring_conflicts(ProviderEvent).values(
        provider=provider, event_id=event_id, event_type=event_type[:EVENT_TYPE_MAX])
        .returning(ProviderEvent.id)).first()
    if recorded is None:
        return False
    if account is not None:
        connect_handler = CONNECT_HANDLERS.get(event_type)
        if connect_handler is not None:
            connect_handler(data_object, account)
        return True
    handler = HANDLERS.get(event_type)
    if handler is not None:
        handler(data_object)
    return True
