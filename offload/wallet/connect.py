"""Payout accounts: a member's Stripe Connect Express account, where withdrawals go.

Created once per member (Stripe's idempotency key is the member's, and
``payout_accounts.member_id`` is unique), filled in by the member on Stripe's
onboarding pages (an Account Link, made fresh each time: they expire), and kept as
Stripe describes it: the return page reads the account from Stripe's API, never from
its query string, and ``account.updated`` events (``offload.payments.payouts``) refresh
it too. Stripe is called before or between transactions, never inside one; each
recording is a short transaction of its own, so a failed call leaves nothing
half-done: an account Stripe made but we didn't record is found again by the retry's
idempotency key.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, update

from offload.accounts.models import User
from offload.core.db import db, in_atomic, transactional, utcnow
from offload.core.errors import Invalid
from offload.core.transitions import insert_once

from .models import PayoutAccount
from .providers import PayoutAccountState, StripeConnect, StripeProvider, pays_out_through_stripe
from .services import _check_member, _end_read_transaction, _log_after_commit

log = logging.getLogger("offload.wallet")


def connect_payout_account(*, actor: User) -> str:
    """Where the actor sets up (or goes on setting up) their payout account: a fresh
    Stripe onboarding link, for an account created first if they have none.

    State: a PayoutAccount for the actor, once.
    Refuses: unconfirmed members (NotAllowed); a site that doesn't pay out through
    Stripe (Invalid); Stripe failing or timing out (ProviderError), with nothing
    recorded when the account wasn't made (a retry reuses its idempotency key) and the
    account kept when only the link failed.
    """
    if in_atomic():
        raise RuntimeError("connect_payout_account() calls Stripe and must run outside a "
                           "transaction")
    _check_member(actor, "connect a payout account")
    if not pays_out_through_stripe():
        raise Invalid("This site pays withdrawals out to the details you give with each "
                      "one: there is no payout account to connect.")
    reference = _reference_of(actor.id)
    _end_read_transaction()
    connect = StripeConnect()
    if reference is None:
        reference = _record_payout_account(actor.id, connect.create_account(actor))
    return connect.onboarding_link(actor.id, reference)


def refresh_payout_account(*, actor: User) -> bool:
    """Read the actor's payout account from Stripe and keep its state (the return page).

    State: the PayoutAccount's state as Stripe has it.
    Returns False when the actor has none (or payouts don't go through Stripe).
    Refuses: Stripe failing (ProviderError); the state kept is then the last one known.
    """
    if in_atomic():
        raise RuntimeError("refresh_payout_account() calls Stripe and must run outside a "
                           "transaction")
    reference = _reference_of(actor.id) if pays_out_through_stripe() else None
    if reference is None:
        return False
    _end_read_transaction()
    update_payout_account(StripeConnect().read_account(actor.id, reference))
    return True


def onboarding_link(*, actor: User) -> str | None:
    """A fresh onboarding link for the actor's existing payout account (Stripe's
    ``refresh_url``, when a link expired); None without one. Changes nothing here.
    Refuses: Stripe failing (ProviderError)."""
    reference = _reference_of(actor.id) if pays_out_through_stripe() else None
    if reference is None:
        return None
    _end_read_transaction()
    return StripeConnect().onboarding_link(actor.id, reference)


@transactional
def update_payout_account(state: PayoutAccountState) -> bool:
    """Keep what Stripe says of a connected account (the return page, ``account.updated``).

    State: the PayoutAccount's details-submitted, payouts-enabled and due counts.
    Changes nothing for an account we don't know; returns whether one was updated.
    """
    changed = db.session.execute(
        update(PayoutAccount)
        .where(PayoutAccount.provider == StripeProvider.name,
               PayoutAccount.account_reference == state.reference)
        .values(is_details_submitted=state.details_submitted,
                is_payouts_enabled=state.payouts_enabled,
                requirements_due=state.requirements_due, refreshed_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    _log_after_commit("payout account updated", account_reference=state.reference,
                      payouts_enabled=state.payouts_enabled, known=bool(changed))
    return bool(changed)


def _reference_of(member_id: int) -> str | None:
    return db.session.scalar(select(PayoutAccount.account_reference)
                             .where(PayoutAccount.member_id == member_id))


@transactional
def _record_payout_account(member_id: int, state: PayoutAccountState) -> str:
    """Keep the member's new account; a twin request that recorded it first wins (the
    same account: Stripe answered both from one idempotency key)."""
    account = PayoutAccount(member_id=member_id, provider=StripeProvider.name,
                            account_reference=state.reference,
                            is_details_submitted=state.details_submitted,
                            is_payouts_enabled=state.payouts_enabled,
                            requirements_due=state.requirements_due, refreshed_at=utcnow())
    taken = _reference_of(member_id)
    if taken is not None:
        return taken
    insert_once(account, refused="Your payout account was just connected; reload the page.")
    _log_after_commit("payout account created", member_id=member_id,
                      account_reference=state.reference)
    return state.reference
