"""Stripe's webhooks: the entry points through which Stripe tells us what happened.

Two endpoints, because Stripe signs each endpoint with a secret of its own:

- ``POST /payments/stripe/webhook`` receives events on our own (platform) account,
  checked against ``STRIPE_WEBHOOK_SECRET``, and applies only ``HANDLERS``;
- ``POST /payments/stripe/connect-webhook`` receives events on connected accounts
  (Stripe's "Connect" endpoint, whose events name the ``account``), checked against
  ``STRIPE_CONNECT_WEBHOOK_SECRET``, and applies only ``CONNECT_HANDLERS``.

Both are called by Stripe, not by a browser: no session and no CSRF token authenticate
them (they are CSRF-exempt), the signature does. ``stripe.Webhook.construct_event``
checks it with a 300-second tolerance; a forged or stale delivery, or one signed with
the other endpoint's secret, is a 400 and changes nothing. A verified event goes to
``apply_event``, which records its id once (a redelivery answers 200 and changes
nothing) and hands its object to the handler for its type. Event types that settle
nothing are recorded and answered 200, so Stripe stops sending them.

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

_INVALID = {"error": "invalid signature or payload"}, 400


@bp.post("/payments/stripe/webhook")
@csrf.exempt
def stripe_webhook():
    return _receive("STRIPE_WEBHOOK_SECRET", connect=False)


@bp.post("/payments/stripe/connect-webhook")
@csrf.exempt
def stripe_connect_webhook():
    return _receive("STRIPE_CONNECT_WEBHOOK_SECRET", connect=True)


def _receive(secret_name: str, *, connect: bool):
    """Verify a delivery with the endpoint's secret and apply it: a Connect endpoint's
    event names its connected account (required), a platform endpoint's names none."""
    secret = current_app.config[secret_name]
    if not secret:  # an empty key would let anyone sign
        log.error(f"stripe webhook called but {secret_name} is not set")
        return {"error": "webhook not configured"}, 400
    payload = request.get_data()
    try:
        event = stripe.Webhook.construct_event(
            payload, request.headers.get("Stripe-Signature", ""), secret,
            tolerance=SIGNATURE_TOLERANCE_SECONDS)
        data_object = json.loads(payload)["data"]["object"]
    except (ValueError, KeyError, TypeError, stripe.SignatureVerificationError) as error:
        log.warning("stripe webhook refused", extra={"reason": type(error).__name__,
                                                     "secret": secret_name})
        return _INVALID
    if not isinstance(data_object, dict) or not isinstance(event.get("id"), str):
        return _INVALID
    account = event.get("account") if isinstance(event.get("account"), str) else None
    if connect and not account:
        log.warning("connect webhook event names no account", extra={"event_id": event.id})
        return _INVALID
    if not connect and account:
        # Stripe sends events on connected accounts to a Connect endpoint only
        log.warning("connect event on the platform webhook ignored",
                    extra={"event_id": event.id, "event_type": str(event.type)})
        return {"received": True}, 200
    try:
        apply_event(provider=StripeProvider.name, event_id=event.id,
                    event_type=str(event.type), data_object=data_object, account=account)
    except DepositNotSettledYet as error:  # nothing recorded: Stripe redelivers it later
        log.info("stripe webhook deferred", extra={"event_id": event.id,
                                                   "event_type": str(event.type)})
        return {"error": str(error)}, 409
    return {"received": True}, 200
