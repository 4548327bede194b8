"""Stripe's webhook: the entry point through which Stripe confirms or fails a deposit.

``POST /payments/stripe/webhook`` is called by Stripe, not by a browser: no session
and no CSRF token authenticate it (it is CSRF-exempt, alone of the site's forms), the
signature does. ``stripe.Webhook.construct_event`` checks it against
``STRIPE_WEBHOOK_SECRET`` with a 300-second tolerance; a forged or stale delivery is a
400 and changes nothing. A verified event goes to ``settle_deposit_event``, which
records its id once (a redelivery answers 200 and changes nothing) and completes or
fails the deposit found by its checkout session's id. Event types that settle nothing
are recorded and answered 200, so Stripe stops sending them.
"""

from __future__ import annotations

import logging

import stripe
from flask import Blueprint, current_app, request

from offload.core.extensions import csrf

from .providers import StripeProvider
from .services import settle_deposit_event

log = logging.getLogger("offload.wallet")

bp = Blueprint("payments", __name__)

SIGNATURE_TOLERANCE_SECONDS = 300

# what each checkout session event says about its deposit's money (None: nothing yet)
PAID_BY_EVENT = {
    "checkout.session.async_payment_succeeded": True,
    "checkout.session.expired": False,
    "checkout.session.async_payment_failed": False,
}


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    secret = current_app.config["STRIPE_WEBHOOK_SECRET"]
    if not secret:  # an empty key would let anyone sign
        log.error("stripe webhook called but STRIPE_WEBHOOK_SECRET is not set")
        return {"error": "webhook not configured"}, 400
    try:
        event = stripe.Webhook.construct_event(
            request.get_data(), request.headers.get("Stripe-Signature", ""), secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS)
    except (ValueError, stripe.SignatureVerificationError) as error:
        log.warning("stripe webhook refused", extra={"reason": type(error).__name__})
        return {"error": "invalid signature or payload"}, 400
    reference, paid = None, None
    payment = event.data.object
    if payment.get("object") == "checkout.session":
        reference = payment.get("id")
        paid = PAID_BY_EVENT.get(event.type)
        if event.type == "checkout.session.completed":
            # a delayed method (a bank debit) completes the session unpaid: its
            # async_payment_succeeded or _failed event settles it later
            paid = True if payment.get("payment_status") == "paid" else None
    settle_deposit_event(provider=StripeProvider.name, event_id=event.id,
                         event_type=event.type, reference=reference, paid=paid)
    return {"received": True}, 200
