"""Stripe's webhook: the entry point through which Stripe tells us what happened.

``POST /payments/stripe/webhook`` is called by Stripe, not by a browser: no session
and no CSRF token authenticate it (it is CSRF-exempt, alone of the site's forms), the
signature does. ``stripe.Webhook.construct_event`` checks it against
``STRIPE_WEBHOOK_SECRET`` with a 300-second tolerance; a forged or stale delivery is a
400 and changes nothing. A verified event goes to ``apply_event``, which records its id
once (a redelivery answers 200 and changes nothing) and hands its object to the
handler for its type. Event types that settle nothing are recorded and answered 200,
so Stripe stops sending them.

A dispute or refund of a payment whose deposit is not completed yet (its
``checkout.session.completed`` not arrived, or a bank debit still clearing) is answered
409 with nothing recorded: Stripe redelivers an event it wasn't answered 2xx for, with
backoff, for 3 days, and by then the deposit has completed (and the money is taken
back) or no deposit is waiting any more (and the event is recorded as no deposit's).
"""

from __future__ import annotations

import json
import logging

import stripe
from flask import Blueprint, current_app, request

from offload.core.extensions import csrf
from offload.wallet.providers import StripeProvider
from offload.wallet.services import DepositNotSettledYet

from .services import apply_event

log = logging.getLogger("offload.payments")

bp = Blueprint("payments", __name__)

SIGNATURE_TOLERANCE_SECONDS = 300


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:  # an empty key would let anyone sign
        log.error("stripe webhook called but STRIPE_WEBHOOK_SECRET is not set")
        return {"error": "webhook not configured"}, 400
    payload = request.get_data()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""), secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS)
        data_object = json.loads(payload)["data"]["object"]
    except (ValueError, KeyError, TypeError, stripe.SignatureVerificationError) as error:
        log.warning("stripe webhook refused", extra={"reason": type(error).__name__})
        return {"error": "invalid signature or payload"}, 400
    if not isinstance(data_object, dict) or not isinstance(event.get("id"), str):
        return {"error": "invalid signature or payload"}, 400
    account = event.get("account")
    try:
        apply_event(provider=StripeProvider.name, event_id=event.id,
                    event_type=str(event.type), data_object=data_object,
                    account=account if isinstance(account, str) else None)
    except DepositNotSettledYet as error:  # nothing recorded: Stripe redelivers it later
        log.info("stripe webhook deferred", extra={"event_id": event.id,
                                                   "event_type": str(event.type)})
        return {"error": str(error)}, 409
    return {"received": True}, 200
