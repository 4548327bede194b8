"""Payment providers: how money from outside reaches a member's wallet.

The interface is one call, ``start_deposit(member, amount_minor)``, made by
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
  provider's webhook (an entry point to be added with the provider) verifies the
  call, finds the deposit by ``(provider, provider_reference)`` and calls
  ``complete_deposit`` or ``fail_deposit``, each one guarded transaction, so a
  webhook delivered twice credits once.

Register a provider in ``PROVIDERS`` under the name used in configuration.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from flask import current_app

from offload.accounts.models import User
from offload.core.errors import OffloadError


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

    def start_deposit(self, member: User, amount_minor: int) -> ProviderResult:
        """Start a payment of ``amount_minor`` from ``member``; raise ProviderError if refused."""
        ...


class SandboxProvider:
    """Moves no real money: every deposit completes at once."""

    name = "sandbox"
    is_sandbox = True

    def start_deposit(self, member: User, amount_minor: int) -> ProviderResult:
        return ProviderResult(reference=f"sandbox-{secrets.token_hex(8)}", completed=True)


PROVIDERS: dict[str, Callable[[], PaymentProvider]] = {SandboxProvider.name: SandboxProvider}


def get_provider() -> PaymentProvider:
    """The provider named by ``PAYMENT_PROVIDER``; RuntimeError for a name nobody registered."""
    name = current_app.config["PAYMENT_PROVIDER"]
    try:
        factory = PROVIDERS[name]
    except KeyError:
        raise RuntimeError(f"PAYMENT_PROVIDER {name!r} is not a known payment provider "
                           f"(known: {', '.join(sorted(PROVIDERS))})") from None
    return factory()


def is_sandbox() -> bool:
    """Whether deposits go to the sandbox (the wallet page says so plainly)."""
    return current_app.config["PAYMENT_PROVIDER"] == SandboxProvider.name
