"""Payment providers: how money from outside reaches a member's wallet.

The interface is one call, ``start_deposit(member, amount_minor, idempotency_key=...)``
(the member's request key, so a provider can make a retry reuse its payment), made by
``add_funds`` *before* its transaction opens (never a network call inside one). It
answers a ``ProviderResult``: the provider's reference for the payment and whether
the money has already arrived.

- ``SandboxProvider`` (the default, ``PAYMENT_PROVIDER = "sandbox"``) moves no real
  money and answers "completed" at once, so the deposit is credited in the same
  transaction that records it.
- A real provider fits without changing the services: its ``start_deposit`` creates
  the payment (a checkout session) and answers ``completed=False`` with the
  session's reference and, in ``redirect_url``, the page where the member pays.
  Starting a payment moves no money, so a start whose recording loses a race with a
  retried request is simply abandoned. The deposit is recorded as *pending*; the
  provider's webhook (``offload.payments``) verifies the call, records the event id
  once and calls ``settle_deposit``, which finds the deposit by ``(provider,
  provider_reference)`` and completes or fails it (guarded), so a webhook delivered
  twice credits once.
- ``StripeProvider`` (``PAYMENT_PROVIDER = "stripe"``) creates a Stripe Checkout
  Session and sends the member to Stripe's page; ``checkout.session.*`` events confirm
  or fail the deposit.

Register a provider in ``PROVIDERS`` under the name used in configuration.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import stripe
from flask import current_app

from offload.accounts.models import User
from offload.core.errors import OffloadError
from offload.core.links import external_url

log = logging.getLogger("offload.wallet")


@dataclass(frozen=True)
class ProviderResult:
    reference: str  # the provider's id for this payment, unique per provider
    completed: bool  # the money has arrived: credit it now
    redirect_url: str | None = None  # where the member completes the payment, if anywhere


class ProviderError(OffloadError):
    """The provider refused or could not start the payment; nothing was charged."""


class PaymentProvider(Protocol):
    name: str
    is_sandbox: bool

    def start_deposit(self, member: User, amount_minor: int, *,
                      idempotency_key: str) -> ProviderResult:
        """Start a payment of ``amount_minor`` from ``member``; raise ProviderError if refused."""
        ...


class SandboxProvider:
    """Moves no real money: every deposit completes at once."""

    name = "sandbox"
    is_sandbox = True

    def start_deposit(self, member: User, amount_minor: int, *,
                      idempotency_key: str) -> ProviderResult:
        return ProviderResult(reference=f"sandbox-{secrets.token_hex(8)}", completed=True)


class StripeProvider:
    """Stripe Checkout: the member pays on Stripe's page; the webhook confirms it.

    Configuration: ``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET`` (the webhook's),
    ``STRIPE_API_BASE`` (Stripe's; only the tests point it elsewhere),
    ``STRIPE_CHECKOUT_ORIGIN`` (where its checkout pages are) and
    ``STRIPE_TIMEOUT_SECONDS``. A client of its own per call, never the library's global
    state, with no automatic retries: the member's own retry (same request key, so the
    same Stripe idempotency key) is the retry.
    """

    name = "stripe"
    is_sandbox = False

    def __init__(self) -> None:
        config = current_app.config
        if not config.get("STRIPE_SECRET_KEY"):
            raise RuntimeError("PAYMENT_PROVIDER is 'stripe' but STRIPE_SECRET_KEY is not set")
        self.client = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"], base_addresses={"api": config["STRIPE_API_BASE"]},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT_SECONDS"]))

    def start_deposit(self, member: User, amount_minor: int, *,
                      idempotency_key: str) -> ProviderResult:
        # Stripe puts the session's id in place of {CHECKOUT_SESSION_ID} (written as is,
        # not URL-encoded), so the wallet can say where that deposit stands; a member who
        # cancels lands on the wallet's list of deposits, this one still pending there
        params = {
            "mode": "payment",
            "success_url": external_url("wallet.index", _query="checkout={CHECKOUT_SESSION_ID}"),
            "cancel_url": external_url("wallet.index") + "#deposits",
            "client_reference_id": str(member.id), "metadata": {"member_id": str(member.id)},
            "line_items": [{"quantity": 1, "price_data": {
                "currency": current_app.config["CURRENCY"].lower(), "unit_amount": amount_minor,
                "product_data": {"name": "Funds for your Offload wallet"}}}]}
        try:
            session = self.client.v1.checkout.sessions.create(
                params, {"idempotency_key": stripe_idempotency_key(member.id, idempotency_key)})
        except stripe.StripeError as error:
            log.warning("stripe refused a checkout session", extra={
                "member_id": member.id, "amount_minor": amount_minor,
                "stripe_error": type(error).__name__, "http_status": error.http_status})
            raise ProviderError("We couldn't reach our payment provider to start your "
                                "deposit; nothing was charged. Please try again in a few "
                                "minutes.") from None
        return ProviderResult(reference=session.id, completed=False, redirect_url=session.url)


def stripe_idempotency_key(member_id: int, request_key: str) -> str:
    """Stripe's idempotency key for a deposit request: the same member's same request key
    gives the same one, so a retried request reuses the first checkout session."""
    digest = hashlib.sha256(f"{member_id}:{request_key}".encode()).hexdigest()[:40]
    return f"offload-deposit-{digest}"


PROVIDERS: dict[str, Callable[[], PaymentProvider]] = {
    SandboxProvider.name: SandboxProvider, StripeProvider.name: StripeProvider}


def get_provider() -> PaymentProvider:
    """The provider named by ``PAYMENT_PROVIDER``; RuntimeError for a name nobody registered."""
    name = current_app.config["PAYMENT_PROVIDER"]
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise RuntimeError(f"PAYMENT_PROVIDER {name!r} is not a known payment provider "
                           f"(known: {', '.join(sorted(PROVIDERS))})") from None
    return factory()


def payment_page_origin() -> str | None:
    """The origin of the page where the configured provider takes the payment (the
    deposit form is redirected there), or None for a provider that has none."""
    if current_app.config["PAYMENT_PROVIDER"] == StripeProvider.name:
        return current_app.config["STRIPE_CHECKOUT_ORIGIN"]
    return None


def is_sandbox() -> bool:
    """Whether deposits go to the sandbox (the wallet page says so plainly)."""
    return current_app.config["PAYMENT_PROVIDER"] == SandboxProvider.name
