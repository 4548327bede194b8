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
- ``StripeConnect`` is the way out with Stripe: a member's Connect Express account
  (created once, onboarded through Account Links, read back from the API) and the
  Transfers that pay withdrawals into it (and their reversals).

Register a provider in ``PROVIDERS`` under the name used in configuration.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

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
        self.client = _stripe_client()

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


def _stripe_client() -> stripe.StripeClient:
    """A client of its own for one call: no global state, no automatic retries."""
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        raise RuntimeError("PAYMENT_PROVIDER is 'stripe' but STRIPE_SECRET_KEY is not set")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"], base_addresses={"api": config["STRIPE_API_BASE"]},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT_SECONDS"]))


class TransferRefused(ProviderError):
    """Stripe answered the transfer with a 4xx: no transfer was made."""


class TransferUnsure(ProviderError):
    """Stripe timed out or answered 5xx: the transfer may or may not have been made."""


# 4xx answers that say "not done"; a 409 (the same key in flight) or a 429 say nothing
# about another request with the same key, so they count as unsure; nor do a 401 or 403,
# which are about our API key (revoked, restricted), not this request: counted as
# refusals they would let the withdrawal be rejected while a transfer may exist
_REFUSED_STATUSES = frozenset({400, 402, 404})


@dataclass(frozen=True)
class PayoutAccountState:
    """A connected account as Stripe describes it."""

    reference: str
    details_submitted: bool
    payouts_enabled: bool
    requirements_due: int  # items currently or already past due

    @classmethod
    def of(cls, account: Any) -> PayoutAccountState:
        requirements = account.get("requirements") or {}
        due = set(requirements.get("currently_due") or []) | set(
            requirements.get("past_due") or [])
        return cls(reference=account["id"],
                   details_submitted=bool(account.get("details_submitted")),
                   payouts_enabled=bool(account.get("payouts_enabled")),
                   requirements_due=len(due))


class StripeConnect:
    """Stripe Connect (Express): payout accounts, and the Transfers into them.

    Each call is a network call made before or between transactions, never inside one,
    with a client of its own as ``StripeProvider``'s. Account and link calls raise
    ``ProviderError`` with a message for the member; ``transfer`` and ``reverse``
    raise ``TransferRefused`` (4xx: nothing was done) or ``TransferUnsure`` (timeout,
    5xx: retry with the same idempotency key to find out).
    """

    def __init__(self) -> None:
        self.client = _stripe_client()

    def create_account(self, member: User) -> PayoutAccountState:
        """A new Express account for ``member``; Stripe's idempotency key is the member's,
        so a retry after a timeout finds the account the first call made."""
        params = {"type": "express", "email": member.email,
                  "capabilities": {"transfers": {"requested": True}},
                  "metadata": {"member_id": str(member.id)}}
        return PayoutAccountState.of(self._account_call(
            member.id, lambda: self.client.v1.accounts.create(
                params, {"idempotency_key": f"offload-connect-account-{member.id}"})))

    def onboarding_link(self, member_id: int, reference: str) -> str:
        """A fresh Account Link (they expire within minutes) to Stripe's onboarding."""
        params = {"account": reference, "type": "account_onboarding",
                  "return_url": external_url("wallet.payout_account"),
                  "refresh_url": external_url("wallet.renew_payout_link")}
        return self._account_call(
            member_id, lambda: self.client.v1.account_links.create(params)).url

    def read_account(self, member_id: int, reference: str) -> PayoutAccountState:
        return PayoutAccountState.of(self._account_call(
            member_id, lambda: self.client.v1.accounts.retrieve(reference)))

    def transfer(self, *, amount_minor: int, destination: str, withdrawal_id: int,
                 idempotency_key: str) -> str:
        """Move ``amount_minor`` of our balance to ``destination``; the Transfer's id."""
        params = {"amount": amount_minor, "currency": current_app.config["CURRENCY"].lower(),
                  "destination": destination,
                  "metadata": {"withdrawal_id": str(withdrawal_id)}}
        return self._money_call("transfer", withdrawal_id, lambda: self.client.v1.transfers.create(
            params, {"idempotency_key": idempotency_key})).id

    def reverse(self, *, transfer_reference: str, withdrawal_id: int,
                idempotency_key: str) -> str:
        """Bring a whole Transfer back to our balance; the reversal's id."""
        return self._money_call("reversal", withdrawal_id,
                                lambda: self.client.v1.transfers.reversals.create(
                                    transfer_reference, {"metadata": {
                                        "withdrawal_id": str(withdrawal_id)}},
                                    {"idempotency_key": idempotency_key})).id

    @staticmethod
    def _account_call(member_id: int, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except stripe.StripeError as error:
            log.warning("stripe refused a connect call", extra={
                "member_id": member_id, "stripe_error": type(error).__name__,
                "http_status": error.http_status})
            raise ProviderError("We couldn't reach our payment provider to set up your "
                                "payout account; nothing was changed. Please try again in "
                                "a few minutes.") from None

    @staticmethod
    def _money_call(what: str, withdrawal_id: int, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except stripe.StripeError as error:
            status = error.http_status
            refused = (status in _REFUSED_STATUSES
                       and not isinstance(error, stripe.IdempotencyError))
            log.warning(f"stripe {what} failed", extra={
                "withdrawal_id": withdrawal_id, "stripe_error": type(error).__name__,
                "http_status": status, "refused": refused})
            said = error.user_message or (error.error.message if error.error else None) \
                or type(error).__name__
            if refused:
                raise TransferRefused(f"Stripe refused the {what} ({status}): {said}") from None
            raise TransferUnsure(f"Stripe didn't answer the {what} in time or failed "
                                 f"({status or 'no answer'}), so we can't tell yet whether "
                                 "it was made. Retrying is safe: it uses the same "
                                 "idempotency key, so it is never made twice.") from None


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


def pays_out_through_stripe() -> bool:
    """Whether withdrawals go to a connected Stripe account (else to typed-in details)."""
    return current_app.config["PAYMENT_PROVIDER"] == StripeProvider.name


def is_sandbox() -> bool:
    """Whether deposits go to the sandbox (the wallet page says so plainly)."""
    return current_app.config["PAYMENT_PROVIDER"] == SandboxProvider.name
