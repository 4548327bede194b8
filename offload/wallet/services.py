"""Wallet operations: add funds, request a withdrawal, and an admin's decision on it.

Every public function here is one transaction (it joins the caller's, or opens its
own and retries on PostgreSQL serialization failures), takes the acting member as
``actor`` and moves money only through ``offload.ledger``. Member requests carry an
idempotency key: a retried or double-clicked request returns the first outcome and
moves nothing more; the same key with a different request is refused.

Admin decisions re-check the admin's password *here*, not in the view, so the web,
the tests and any other caller pass the same rule (shared/security.md:
re-authentication before admin money actions).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update

from offload.accounts.models import User
from offload.accounts.passwords import verify_password
from offload.core.db import (
    db,
    in_atomic,
    insert_ignoring_conflicts,
    on_commit,
    transactional,
    utcnow,
)
from offload.core.errors import Conflict, Invalid, NotAllowed, PasswordNotConfirmed
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.transitions import insert_once, move_row, update_row
from offload.ledger.idempotency import KEY_MAX, KeyReused, claim_key, fingerprint_of, record_outcome
from offload.ledger.models import AccountKind, IdempotencyKey, LedgerAccount, Transfer, TransferKind
from offload.ledger.services import (
    Cause,
    InsufficientFunds,
    Leg,
    accounts_of,
    debt_account,
    existing_debt_account,
    lock_accounts,
    post_batch,
    post_reservation,
    reserve_covered,
    reverse_transfer,
    system_account,
    void_reservation,
    wallet_account,
)
from offload.moderation.services import record_moderation
from offload.notifications.services import notify

from .models import (
    PAYOUT_DETAILS_MAX,
    PROVIDER_REFERENCE_MAX,
    REDIRECT_URL_MAX,
    STATES,
    TRANSITIONS,
    Chargeback,
    ChargebackKind,
    ChargebackState,
    Deposit,
    DepositState,
    PayoutAccount,
    SendFailure,
    Withdrawal,
    WithdrawalState,
)
from .providers import (
    ProviderResult,
    StripeConnect,
    TransferRefused,
    TransferUnsure,
    get_provider,
    pays_out_through_stripe,
)
from .queries import amount_owed_by

log = logging.getLogger("offload.wallet")

DECISION_REASON_MAX = 1000


class WithdrawalNotCovered(InsufficientFunds):
    """The wallet's available balance doesn't cover the withdrawal."""

    field = "amount"  # shown next to the form's amount field (``forms.show_error``)


class CreditToDeletedMember(Conflict):
    """A deposit's money would land on the wallet of a member who deleted their account,
    which nobody can spend or withdraw from any more."""


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])


# --- deposits ------------------------------------------------------------------------

def add_funds(*, actor: User, amount_minor: int, idempotency_key: str) -> Deposit:
    """Add money to the actor's wallet through the configured payment provider.

    State: a new Deposit, completed at once with the sandbox; pending with a provider
    that confirms later (its webhook then calls ``complete_deposit``).
    Money: when completed, a posted DEPOSIT transfer external → the actor's wallet.
    Idempotent: the same key again returns the first deposit and moves nothing; the
    same key with another amount is refused (Conflict).
    Refuses: unconfirmed members (NotAllowed); amounts ≤ 0 or over MAX_AMOUNT_MINOR
    (Invalid); a provider refusal (ProviderError), with nothing recorded.
    The provider is called before the transaction opens, never inside it, so unlike
    the other services this one cannot join a caller's transaction (RuntimeError); a
    replay already recorded is answered without calling the provider.
    """
    if in_atomic():
        raise RuntimeError("add_funds() calls the payment provider and must run outside "
                           "a transaction")
    _check_member(actor, "add funds")
    _check_amount(amount_minor, minimum=1)
    request = {"op": "deposit", "amount": amount_minor}
    stored = _stored_outcome(actor.id, idempotency_key, request)
    if stored is not None:
        return _replayed(Deposit, stored, "deposit_id")
    _end_read_transaction()
    provider = get_provider()
    result = provider.start_deposit(actor, amount_minor, idempotency_key=idempotency_key)
    return _record_deposit(actor, amount_minor, idempotency_key, request, provider.name, result)


@transactional
def _record_deposit(actor: User, amount_minor: int, key: str, request: dict, provider: str,
                    result: ProviderResult) -> Deposit:
    if not result.reference or len(result.reference) > PROVIDER_REFERENCE_MAX:
        raise ValueError(f"provider {provider!r} gave an unusable reference {result.reference!r}")
    if result.redirect_url and len(result.redirect_url) > REDIRECT_URL_MAX:
        raise ValueError(f"provider {provider!r} gave an over-long redirect URL")
    stored = claim_key(actor.id, key, request)
    if stored is not None:  # a twin of this request was recorded while we asked the provider
        return _replayed(Deposit, stored, "deposit_id")
    deposit = Deposit(member_id=actor.id, amount_minor=amount_minor, provider=provider,
                      provider_reference=result.reference, redirect_url=result.redirect_url,
                      state=DepositState.PENDING)
    db.session.add(deposit)
    db.session.flush()
    batch_id = _credit(deposit, actor_id=actor.id).batch_id if result.completed else None
    record_outcome(actor.id, key, {"deposit_id": deposit.id}, batch_id)
    _log_after_commit("deposit recorded", member_id=actor.id, deposit_id=deposit.id,
                      amount_minor=amount_minor, provider=provider,
                      completed=result.completed)
    return deposit


@transactional
def complete_deposit(deposit: Deposit, *, actor: User | None = None) -> Deposit:
    """Credit a pending deposit whose money has arrived (a provider's webhook).

    State: deposit pending → completed.
    Money: a posted DEPOSIT transfer external → the member's wallet; if the member owes
    a debt (a deposit taken back), a DEBT_REPAYMENT wallet → debt in the same batch,
    as much of it as the deposit covers.
    Refuses: a deposit that is no longer pending (Conflict), so a webhook delivered
    twice credits once; a member who deleted their account (CreditToDeletedMember).
    ``actor`` is None when the provider is the one calling.
    """
    _credit(deposit, actor_id=actor.id if actor else None)
    return deposit


@transactional
def fail_deposit(deposit: Deposit, *, actor: User | None = None) -> Deposit:
    """Record that the provider gave up on a pending deposit.

    State: deposit pending → failed. Money: none moves.
    Refuses: a deposit that is no longer pending (Conflict).
    """
    _move(deposit, DepositState.FAILED)
    db.session.refresh(deposit)
    _log_after_commit("deposit failed", deposit_id=deposit.id,
                      actor_id=actor.id if actor else None)
    return deposit


def _credit(deposit: Deposit, *, actor_id: int | None) -> Transfer:
    """The one place money from outside lands on a wallet. Refuses (CreditToDeletedMember)
    a member who deleted their account: the member row is read under a lock taken after
    the accounts' (the order the deletion takes them in), so a deletion either commits
    first and is seen here, or waits and then finds the money in the wallet."""
    _move(deposit, DepositState.COMPLETED, completed_at=utcnow())
    leg = Leg(system_account(AccountKind.EXTERNAL).id, wallet_account(deposit.member_id).id,
              deposit.amount_minor, TransferKind.DEPOSIT)
    debt = existing_debt_account(deposit.member_id)
    lock_accounts({leg.debit_id, leg.credit_id} | ({debt.id} if debt else set()))
    if _is_deleted(deposit.member_id, lock=True):
        raise CreditToDeletedMember(
            f"Deposit #{deposit.id} can't be credited: its member deleted their account.")
    # a member who owes (a deposit taken back) pays that first, in the same batch
    repayment = _repayment_leg(deposit.member_id, leg.credit_id, deposit.amount_minor)
    batch = post_batch([leg] + ([repayment] if repayment else []),
                       cause=Cause("deposit", deposit.id), actor_id=actor_id)
    transfer = db.session.get(Transfer, batch.transfer_ids[0])
    _store(deposit, transfer_id=transfer.id)
    db.session.refresh(deposit)
    _log_after_commit("deposit completed", deposit_id=deposit.id, transfer_id=transfer.id,
                      amount_minor=deposit.amount_minor)
    return transfer


@transactional
def settle_deposit(*, provider: str, reference: str, paid: bool | None,
                   payment_reference: str | None = None) -> Deposit | None:
    """Apply a provider's verdict on the deposit it names (a verified webhook event).

    ``paid`` True completes the deposit found by ``(provider, reference)``, False fails
    it; None says the member paid on the provider's page by a method that clears later
    (a bank debit): the deposit stays pending and forgets that page, which the provider
    has closed. ``payment_reference`` (Stripe's payment intent) is kept for
    reconciliation.
    State: the deposit pending → completed or failed (or its redirect_url cleared); paid
    for a member who deleted their account meanwhile, failed: nothing is credited, and
    the caller has the admins refund the payment (``payment_reference``).
    Money: when completed, the DEPOSIT transfer (as ``complete_deposit``).
    Changes nothing: for a reference no deposit has, or a deposit already settled
    (events out of order: an expiry after the payment). The deposit's row is locked
    first, so two events racing for one deposit settle it once. Returns the deposit it
    settled, else None.
    """
    deposit = db.session.execute(select(Deposit).where(
        Deposit.provider == provider, Deposit.provider_reference == reference)
        .with_for_update()).scalar_one_or_none()
    if deposit is None or deposit.state != DepositState.PENDING:
        _log_after_commit("deposit event ignored", provider=provider, reference=reference,
                          deposit_id=deposit.id if deposit else None)
        return None
    if payment_reference and len(payment_reference) <= PROVIDER_REFERENCE_MAX:
        deposit.payment_reference = payment_reference
    if paid is None:
        deposit.redirect_url = None
        _log_after_commit("deposit paid, clearing later", deposit_id=deposit.id,
                          provider=provider, reference=reference)
        return None
    if paid and _is_deleted(deposit.member_id):
        # paid for an account deleted meanwhile: crediting it is refused (``_credit``),
        # and refusing the event would only have the provider redeliver it until it gave
        # up; the deposit fails instead, the payment it names kept for a refund, which
        # the caller asks the admins for (a case)
        _move(deposit, DepositState.FAILED)
        db.session.refresh(deposit)
        _log_after_commit("deposit paid for a deleted member: not credited, to be refunded",
                          level=logging.WARNING, deposit_id=deposit.id, provider=provider,
                          reference=reference, payment_reference=deposit.payment_reference)
        return deposit
    return complete_deposit(deposit) if paid else fail_deposit(deposit)


def _is_deleted(member_id: int, *, lock: bool = False) -> bool:
    query = select(User.deleted_at).where(User.id == member_id)
    return db.session.scalar(query.with_for_update() if lock else query) is not None


# --- withdrawals ---------------------------------------------------------------------

@transactional
def request_withdrawal(*, actor: User, amount_minor: int, payout_details: str,
                       idempotency_key: str) -> Withdrawal:
    """Ask for money to be paid out of the actor's wallet; the amount is held at once.

    State: a new Withdrawal, requested.
    Money: a pending WITHDRAWAL transfer (the hold) wallet → external: the available
    balance drops by the amount, the balance only when an admin pays it.
    Idempotent: the same key again returns the first withdrawal and holds nothing
    more; the same key with another amount or other details is refused (Conflict).
    Refuses: unconfirmed members (NotAllowed); amounts under MIN_WITHDRAWAL_MINOR or
    over MAX_AMOUNT_MINOR and blank or over-long payout details (Invalid); a member who
    owes a debt from a deposit taken back (WithdrawalWhileOwing); an amount
    over the available balance (WithdrawalNotCovered, an InsufficientFunds), with
    nothing held. With Stripe, ``payout_details`` is not asked for: the withdrawal goes
    to the member's connected payout account, which must be ready (Invalid).
    """
    _check_member(actor, "withdraw money")
    _check_amount(amount_minor, minimum=current_app.config["MIN_WITHDRAWAL_MINOR"])
    owed = amount_owed_by(actor.id)
    if owed > 0:
        raise WithdrawalWhileOwing(
            f"You can't withdraw while you owe {_money(owed)} for a deposit that was taken "
            "back (disputed or refunded). Your next deposit pays it first.")
    payout_details, payout_account_id = _payout_destination(actor.id, payout_details)
    request = {"op": "withdrawal", "amount": amount_minor, "payout_details": payout_details}
    stored = claim_key(actor.id, idempotency_key, request)
    if stored is not None:
        return _replayed(Withdrawal, stored, "withdrawal_id")
    withdrawal = Withdrawal(member_id=actor.id, amount_minor=amount_minor,
                            payout_details=payout_details, state=WithdrawalState.REQUESTED,
                            payout_account_id=payout_account_id)
    db.session.add(withdrawal)
    db.session.flush()
    leg = Leg(wallet_account(actor.id).id, system_account(AccountKind.EXTERNAL).id, amount_minor,
              TransferKind.WITHDRAWAL)
    hold = reserve_covered(
        leg, cause=Cause("withdrawal", withdrawal.id), actor_id=actor.id,
        refused=lambda available: WithdrawalNotCovered(
            f"You can't withdraw {_money(amount_minor)}: your available balance is "
            f"{_money(available)}. Money held for other withdrawals isn't available."))
    _store(withdrawal, hold_transfer_id=hold.id)
    db.session.refresh(withdrawal)
    record_outcome(actor.id, idempotency_key, {"withdrawal_id": withdrawal.id}, hold.batch_id)
    _log_after_commit("withdrawal requested", member_id=actor.id, withdrawal_id=withdrawal.id,
                      amount_minor=amount_minor, hold_transfer_id=hold.id)
    return withdrawal


def mark_withdrawal_paid(withdrawal: Withdrawal, *, actor: User, reason: str,
                         password: str) -> Withdrawal:
    """Record that an admin has paid a withdrawal out to the member's payout details.

    State: withdrawal requested → paid.
    Money: the hold is posted in full; the amount leaves the member's wallet.
    Writes: a moderation-log entry with the reason, in the same transaction.
    Notifies: the member.
    Refuses: non-admins and the member's own withdrawal (NotAllowed); a wrong password
    (PasswordNotConfirmed); a blank reason (Invalid); a withdrawal already decided
    (Conflict), so paying twice pays once; a member who owes for a deposit taken back
    (Conflict): the money would leave while the debt stays (but not the retry of a
    Stripe transfer that may already exist: see ``_start_sending``).
    With Stripe (a withdrawal to a connected payout account) the admin's approval makes
    a Stripe Transfer instead, and may be retried: see ``_send_withdrawal``.
    """
    reason = _confirm_admin(withdrawal, actor=actor, reason=reason, password=password)
    if withdrawal.payout_account_id is not None:
        return _send_withdrawal(withdrawal, actor=actor, reason=reason)
    return _decide(withdrawal, WithdrawalState.PAID, actor=actor, reason=reason)


def reject_withdrawal(withdrawal: Withdrawal, *, actor: User, reason: str,
                      password: str) -> Withdrawal:
    """Refuse a withdrawal; the member sees the reason.

    State: withdrawal requested → rejected, with the reason.
    Money: the hold is voided; the amount is available to the member again, less what
    they owe for a deposit taken back, which it pays first (a DEBT_REPAYMENT).
    Writes: a moderation-log entry with the reason, in the same transaction.
    Notifies: the member, with the reason.
    Refuses: as ``mark_withdrawal_paid``; and a withdrawal being sent through Stripe
    unless Stripe refused its transfer (Conflict): after a timeout the transfer may
    exist, and releasing the hold too would pay the member twice.
    """
    if withdrawal.state == WithdrawalState.SENDING and \
            withdrawal.send_failure != SendFailure.REFUSED:
        raise Conflict(_UNSURE_NO_REJECT)
    reason = _confirm_admin(withdrawal, actor=actor, reason=reason, password=password)
    return _decide(withdrawal, WithdrawalState.REJECTED, actor=actor, reason=reason)


_UNSURE_NO_REJECT = ("Stripe may have made this withdrawal's transfer: retry sending it "
                     "first (it is never sent twice); it can be rejected once Stripe refuses.")


def _confirm_admin(withdrawal: Withdrawal, *, actor: User, reason: str, password: str) -> str:
    # outside the transaction: a password hash costs ~50 ms and must not hold the write lock
    if not actor.is_admin:
        raise NotAllowed("Only admins can decide withdrawals.")
    if withdrawal.member_id == actor.id:
        raise NotAllowed("You can't decide your own withdrawal; another admin must.")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Write the reason: the decision is logged with it.")
    if len(reason) > DECISION_REASON_MAX:
        raise Invalid(f"Keep the reason under {DECISION_REASON_MAX:,} characters.")
    if not verify_password(actor.password_hash, password or ""):
        log.warning("admin re-authentication failed", extra={"user_id": actor.id,
                                                              "withdrawal_id": withdrawal.id})
        raise PasswordNotConfirmed("Your password is not correct.")
    return reason


@transactional
def _decide(withdrawal: Withdrawal, to: WithdrawalState, *, actor: User,
            reason: str) -> Withdrawal:
    paid = to == WithdrawalState.PAID
    if paid:
        _refuse_paying_while_owing(withdrawal)
    # from sending only once Stripe refused: a transfer in flight or unsure is not rejected
    _move(withdrawal, to, decided_by_id=actor.id, decided_at=utcnow(),
          reason=None if paid else reason,
          guard=(or_(Withdrawal.state == WithdrawalState.REQUESTED,
                     Withdrawal.send_failure == SendFailure.REFUSED),))
    settle = (post_reservation(withdrawal.hold_transfer_id, actor_id=actor.id) if paid
              else _void_paying_debt_first(withdrawal, actor_id=actor.id))
    _store(withdrawal, settle_transfer_id=settle.id)
    db.session.refresh(withdrawal)
    member = db.session.get(User, withdrawal.member_id)
    record_moderation(actor=actor, action=f"withdrawal_{to}", subject_type="withdrawal",
                      subject_id=withdrawal.id, reason=reason, subject_user=member)
    _tell_member(withdrawal, member, reason=reason)
    _log_after_commit(f"withdrawal {to}", withdrawal_id=withdrawal.id, admin_id=actor.id,
                      member_id=member.id, amount_minor=withdrawal.amount_minor,
                      settle_transfer_id=settle.id)
    return withdrawal


def _refuse_paying_while_owing(withdrawal: Withdrawal) -> None:
    """A withdrawal asked for before a deposit of the member's was taken back is not
    paid out while they owe for it: that money would leave as the debt stays."""
    owed = amount_owed_by(withdrawal.member_id)
    if owed > 0:
        raise Conflict(f"This member owes {_money(owed)} for a deposit that was taken back: "
                       "don't pay this withdrawal out now (reject it, or wait until the "
                       "debt is paid).")


def _tell_member(withdrawal: Withdrawal, member: User, *, reason: str = "") -> None:
    amount = _money(withdrawal.amount_minor)
    title = {WithdrawalState.PAID: f"Your withdrawal of {amount} was paid out.",
             WithdrawalState.REJECTED: f"Your withdrawal of {amount} was rejected: {reason}",
             WithdrawalState.RETURNED: f"Your withdrawal of {amount} came back to your "
                                       f"wallet: {reason}"}[WithdrawalState(withdrawal.state)]
    notify(member, f"withdrawal_{withdrawal.state}", title=title,
           link=site_path("wallet.withdrawal", withdrawal_id=withdrawal.id),
           context={"withdrawal": withdrawal, "amount": amount, "reason": reason})


def _payout_destination(member_id: int, payout_details: str | None) -> tuple[str, int | None]:
    """Where a new withdrawal goes: the details typed (sandbox), or the member's ready
    Stripe payout account (its id, and a line naming it for the admins' queue)."""
    if pays_out_through_stripe():
        account = db.session.scalar(select(PayoutAccount).where(
            PayoutAccount.member_id == member_id))
        if account is None or not account.is_ready:
            raise Invalid("Connect a payout account first: withdrawals are paid into it "
                          "through Stripe. Your wallet page has the link.")
        return f"Stripe payout account {account.account_reference}", account.id
    payout_details = " ".join((payout_details or "").split())
    if not payout_details:
        raise Invalid("Say where we should send the money (an IBAN, a PayPal address...).")
    if len(payout_details) > PAYOUT_DETAILS_MAX:
        raise Invalid(f"Keep the payout details under {PAYOUT_DETAILS_MAX} characters.")
    return payout_details, None


# --- withdrawals paid through Stripe Connect -------------------------------------------
#
# When the hold is posted: when Stripe answers the Transfer (or its ``transfer.created``
# event arrives first), not when a later webhook says the money reached a bank. A
# created Transfer has already moved the money out of our Stripe balance into the
# member's connected account: from then on it is not ours, and a ledger still holding
# it would disagree with Stripe's balance (and with reconcile). What the connected
# account does with it next (its payout to the bank) is the member's balance at
# Stripe; if that payout fails we bring the money back by reversing the Transfer.

def _send_withdrawal(withdrawal: Withdrawal, *, actor: User, reason: str) -> Withdrawal:
    """Pay an approved withdrawal into the member's connected account with a Transfer.

    Three steps, the network call outside any transaction: the guarded move requested
    → sending (or a retry of a sending one) with the moderation entry; then the Transfer,
    with Stripe's idempotency key derived from the withdrawal (and its refusals so far);
    then ``record_withdrawal_transfer`` (sending → paid, the hold posted).
    Raises: ``TransferUnsure`` (timeout, 5xx: the withdrawal stays sending, and a retry
    reuses the key, so Stripe makes the transfer at most once) or ``TransferRefused``
    (4xx: nothing was made; retry, or reject to void the hold), each recorded on the
    withdrawal for the admins' queue.
    """
    if in_atomic():
        raise RuntimeError("paying a withdrawal through Stripe calls Stripe and must run "
                           "outside a transaction")
    withdrawal_id, amount_minor = withdrawal.id, withdrawal.amount_minor
    destination, key = _start_sending(withdrawal, actor=actor, reason=reason)
    try:
        reference = StripeConnect().transfer(
            amount_minor=amount_minor, destination=destination,
            withdrawal_id=withdrawal_id, idempotency_key=key)
    except (TransferRefused, TransferUnsure) as error:
        _record_send_failure(withdrawal_id, refused=isinstance(error, TransferRefused),
                             said=str(error))
        raise
    done = record_withdrawal_transfer(withdrawal_id=withdrawal_id,
                                      transfer_reference=reference, actor_id=actor.id)
    return done or _replayed(Withdrawal, {"withdrawal_id": withdrawal_id}, "withdrawal_id")


def transfer_idempotency_key(withdrawal_id: int, refusals: int) -> str:
    """Stripe's key for a withdrawal's Transfer: the same until Stripe refuses one."""
    return f"offload-withdrawal-{withdrawal_id}-transfer-{refusals}"


@transactional
def _start_sending(withdrawal: Withdrawal, *, actor: User, reason: str) -> tuple[str, str]:
    # A retry after an unsure attempt reuses the key: the transfer may exist already and
    # the retry changes nothing at Stripe, so a debt owed meanwhile must not block it
    # (nor can the withdrawal be rejected while unsure: its hold would stay forever).
    # A first attempt, or one after a refusal (a new key), makes a new transfer.
    same_key = (withdrawal.state == WithdrawalState.SENDING
                and withdrawal.send_failure != SendFailure.REFUSED)
    if not same_key:
        _refuse_paying_while_owing(withdrawal)
    # clearing send_failure marks the attempt in flight: it cannot be rejected meanwhile
    if withdrawal.state == WithdrawalState.SENDING:
        update_row(withdrawal, Withdrawal.state == WithdrawalState.SENDING,
                   Withdrawal.send_refusals == withdrawal.send_refusals,
                   refused="This withdrawal was changed meanwhile; reload the page to see it.",
                   send_failure=None)
    else:
        _move(withdrawal, WithdrawalState.SENDING, decided_by_id=actor.id,
              decided_at=utcnow(), send_failure=None)
    member = db.session.get(User, withdrawal.member_id)
    record_moderation(actor=actor, action="withdrawal_sending", subject_type="withdrawal",
                      subject_id=withdrawal.id, reason=reason, subject_user=member)
    account = db.session.get(PayoutAccount, withdrawal.payout_account_id)
    key = transfer_idempotency_key(withdrawal.id, withdrawal.send_refusals)
    return account.account_reference, key


@transactional
def _record_send_failure(withdrawal_id: int, *, refused: bool, said: str,
                         state: WithdrawalState = WithdrawalState.SENDING) -> int | None:
    """Record a failed Stripe call about the withdrawal's money (its Transfer while
    sending, the Transfer's reversal while returning); the refusals so far, or None if
    the withdrawal is no longer in ``state``."""
    refusals = db.session.execute(
        update(Withdrawal).where(Withdrawal.id == withdrawal_id, Withdrawal.state == state)
        .values(send_failure=SendFailure.REFUSED if refused else SendFailure.UNSURE,
                send_error=said,
                send_refusals=Withdrawal.send_refusals + (1 if refused else 0))
        .returning(Withdrawal.send_refusals)
        .execution_options(synchronize_session=False)).scalar_one_or_none()
    _log_after_commit(f"withdrawal {'transfer' if state == WithdrawalState.SENDING else 'reversal'}"
                      " failed", withdrawal_id=withdrawal_id, refused=refused,
                      recorded=refusals is not None)
    return refusals


@transactional
def record_withdrawal_transfer(*, withdrawal_id: int, transfer_reference: str,
                               amount_minor: int | None = None,
                               actor_id: int | None = None) -> Withdrawal | None:
    """Record the Stripe Transfer that paid a sending withdrawal (the admin's call, or
    the ``transfer.created`` webhook if it comes first).

    State: withdrawal sending → paid, with the transfer's id.
    Money: the hold is posted in full; the amount leaves the member's wallet.
    Notifies: the member.
    Changes nothing (returns None): an unknown withdrawal, one not sending (already
    recorded by the other path), or one of another amount than ``amount_minor`` (the
    event's, when an event names the withdrawal). A transfer other than the one recorded,
    for a withdrawal no longer sending (rejected after a refusal, say), is logged as an
    error: the member may have been paid twice, and a person must look.
    """
    withdrawal = db.session.execute(select(Withdrawal).where(Withdrawal.id == withdrawal_id)
                                    .with_for_update()).scalar_one_or_none()
    if withdrawal is not None and withdrawal.state != WithdrawalState.SENDING and \
            withdrawal.transfer_reference != transfer_reference:
        _log_after_commit("stripe transfer for a withdrawal not being sent: it may be paid "
                          "twice", level=logging.ERROR, withdrawal_id=withdrawal_id,
                          transfer_reference=transfer_reference, state=withdrawal.state)
        return None
    if withdrawal is None or withdrawal.state != WithdrawalState.SENDING or (
            amount_minor is not None and amount_minor != withdrawal.amount_minor):
        _log_after_commit("withdrawal transfer already recorded", withdrawal_id=withdrawal_id,
                          transfer_reference=transfer_reference)
        return None
    _move(withdrawal, WithdrawalState.PAID, transfer_reference=transfer_reference,
          send_failure=None, send_error=None)
    settle = post_reservation(withdrawal.hold_transfer_id, actor_id=actor_id)
    _store(withdrawal, settle_transfer_id=settle.id)
    db.session.refresh(withdrawal)
    _tell_member(withdrawal, db.session.get(User, withdrawal.member_id))
    _log_after_commit("withdrawal paid through stripe", withdrawal_id=withdrawal.id,
                      transfer_reference=transfer_reference, settle_transfer_id=settle.id)
    return withdrawal


@transactional
def mark_payout_failed(*, account_reference: str, amount_minor: int) -> Withdrawal | None:
    """A payout from a member's connected account to their bank failed.

    The money is back on the *connected account's* Stripe balance, not ours, so the
    wallet is not credited here: the withdrawal waits (returning) for the Transfer's
    reversal (``reverse_returning_withdrawals``, a job: network), whose success or
    ``transfer.reversed`` event returns it (``return_withdrawal``).
    A payout is matched to the oldest paid withdrawal into that account of the same
    amount; a payout that bundled several transfers matches none, changes nothing and
    is logged for a person (and reconcile).
    State: withdrawal paid → returning. Returns it, else None.
    """
    withdrawal = db.session.execute(
        select(Withdrawal).join(PayoutAccount, PayoutAccount.id == Withdrawal.payout_account_id)
        .where(PayoutAccount.account_reference == account_reference,
               Withdrawal.amount_minor == amount_minor,
               Withdrawal.state == WithdrawalState.PAID)
        .order_by(Withdrawal.created_at, Withdrawal.id).limit(1)
        .with_for_update(of=Withdrawal)).scalar_one_or_none()
    if withdrawal is None:
        _log_after_commit("failed payout matches no withdrawal",
                          account_reference=account_reference, amount_minor=amount_minor)
        return None
    # from here the send_* columns count and describe the reversal's attempts
    _move(withdrawal, WithdrawalState.RETURNING, send_refusals=0, send_failure=None,
          send_error=None)
    _log_after_commit("withdrawal payout failed", withdrawal_id=withdrawal.id)
    return withdrawal


def reversal_idempotency_key(withdrawal_id: int, refusals: int) -> str:
    """Stripe's key for reversing a withdrawal's Transfer: the same until Stripe refuses
    one (Stripe replays a refused request's answer for its key); the first is the key
    used before refusals were counted."""
    key = f"offload-withdrawal-{withdrawal_id}-reversal"
    return f"{key}-{refusals}" if refusals else key


def reverse_returning_withdrawals(*, then: Callable[[Withdrawal], object] | None = None
                                  ) -> int:
    """Reverse at Stripe the Transfer of each withdrawal whose payout failed (a job).

    One network call per withdrawal, outside any transaction, with an idempotency key
    derived from the withdrawal and Stripe's refusals so far: a run that fails (logged,
    recorded on the withdrawal) is retried by the next run, with the same key after a
    timeout or 5xx, a new one after a refusal. After ``STRIPE_REVERSAL_REFUSALS_MAX``
    refusals the job stops asking: an error is logged and the admins' withdrawal queue
    shows it ("reversal refused"), for a person to settle in Stripe's dashboard (whose
    ``transfer.reversed`` event then returns the money).
    Each success returns the money (``return_withdrawal``, given ``then``). Returns how
    many came back.
    """
    refusals_max = current_app.config["STRIPE_REVERSAL_REFUSALS_MAX"]
    returning = db.session.execute(
        select(Withdrawal.id, Withdrawal.transfer_reference, Withdrawal.send_refusals)
        .where(Withdrawal.state == WithdrawalState.RETURNING,
               Withdrawal.send_refusals < refusals_max).order_by(Withdrawal.id)).all()
    _end_read_transaction()
    returned = 0
    for withdrawal_id, reference, refusals in returning:
        try:
            StripeConnect().reverse(
                transfer_reference=reference, withdrawal_id=withdrawal_id,
                idempotency_key=reversal_idempotency_key(withdrawal_id, refusals))
        except (TransferRefused, TransferUnsure) as error:
            now = _record_send_failure(withdrawal_id, refused=isinstance(error, TransferRefused),
                                       said=str(error), state=WithdrawalState.RETURNING)
            if now is not None and now >= refusals_max > refusals:
                log.error("withdrawal reversal refused; left to an admin", extra={
                    "withdrawal_id": withdrawal_id, "transfer_reference": reference,
                    "refusals": now, "stripe_said": str(error)})
            continue
        if return_withdrawal(transfer_reference=reference,
                             why="the payout to your bank failed", then=then) is not None:
            returned += 1
    return returned


@transactional
def return_withdrawal(*, transfer_reference: str, why: str,
                      then: Callable[[Withdrawal], object] | None = None) -> Withdrawal | None:
    """Give back to the wallet a paid withdrawal whose Transfer was reversed.

    State: withdrawal paid or returning → returned.
    Money: a REVERSAL of the settle transfer (external → the member's wallet),
    referencing it: posted once (the ledger refuses a second reversal); from it, a
    DEBT_REPAYMENT of what the member owes, if they do. For a member who deleted their
    account, what came back moves on at once to the unclaimed account
    (``set_aside_unclaimed``): nobody could spend it in their wallet.
    Notifies: the member, saying ``why`` (a deleted member: nobody; ``then`` is called
    with the withdrawal, in this transaction, which the callers use to open the admins'
    case, ``cases.services.open_returned_withdrawal_case``).
    Changes nothing (returns None): no withdrawal has that transfer, or it already came
    back (the job's answer and Stripe's ``transfer.reversed`` event, in either order).
    """
    withdrawal = db.session.execute(
        select(Withdrawal).where(Withdrawal.transfer_reference == transfer_reference)
        .with_for_update()).scalar_one_or_none()
    if withdrawal is None or withdrawal.state not in (WithdrawalState.PAID,
                                                      WithdrawalState.RETURNING):
        _log_after_commit("withdrawal return ignored", transfer_reference=transfer_reference)
        return None
    member_id = withdrawal.member_id
    # every account this may touch, up front (a set-aside's too), then the member, in
    # the order a deletion takes them: it commits first and is seen, or waits
    lock_accounts(accounts_of([withdrawal.hold_transfer_id]) | _unclaimed_accounts(member_id))
    deleted = _is_deleted(member_id, lock=True)
    reversal = _reverse_paying_debt_first(
        withdrawal, memo=f"Withdrawal #{withdrawal.id} returned: {why}")
    _move(withdrawal, WithdrawalState.RETURNED, return_transfer_id=reversal.id)
    db.session.refresh(withdrawal)
    if deleted:
        set_aside_unclaimed(member_id, cause=Cause("withdrawal", withdrawal.id),
                            memo=f"Withdrawal #{withdrawal.id} came back after its member "
                                 "deleted their account")
        if then is not None:
            then(withdrawal)
    else:
        _tell_member(withdrawal, db.session.get(User, member_id), reason=why)
    _log_after_commit("withdrawal returned", withdrawal_id=withdrawal.id,
                      return_transfer_id=reversal.id, amount_minor=withdrawal.amount_minor,
                      set_aside=deleted)
    return withdrawal


def _unclaimed_accounts(member_id: int) -> set[int]:
    """The accounts ``set_aside_unclaimed`` moves between (and the debt's, if any)."""
    debt = existing_debt_account(member_id)
    return ({wallet_account(member_id).id, system_account(AccountKind.UNCLAIMED).id}
            | ({debt.id} if debt else set()))


def set_aside_unclaimed(member_id: int, *, cause: Cause, memo: str) -> int:
    """Move what a deleted member's wallet holds to the unclaimed account, where an
    admin sees it and sends it on (a case says whose it is and why it is there).

    Money: a TRANSFER wallet → unclaimed of the wallet's available balance, for
    ``cause``; nothing when it is empty. Call with the accounts locked
    (``_unclaimed_accounts``), after the money came in. Returns the amount moved.
    """
    wallet_id = wallet_account(member_id).id
    unclaimed_id = system_account(AccountKind.UNCLAIMED).id
    lock_accounts({wallet_id, unclaimed_id})
    available = db.session.get(LedgerAccount, wallet_id, populate_existing=True).available
    if available <= 0:
        return 0
    post_batch([Leg(wallet_id, unclaimed_id, available, TransferKind.TRANSFER, memo=memo)],
               cause=cause, actor_id=None)
    _log_after_commit("money set aside for a deleted member", level=logging.WARNING,
                      member_id=member_id, amount_minor=available, cause_type=cause.type,
                      cause_id=cause.id)
    return available


# --- helpers ---------------------------------------------------------------------------

def _check_member(actor: User, doing: str) -> None:
    if not actor.is_confirmed:
        raise NotAllowed(f"Confirm your e-mail address before you {doing}.")


def _check_amount(amount_minor: int, *, minimum: int) -> None:
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise TypeError("amounts are int minor units")
    maximum = current_app.config["MAX_AMOUNT_MINOR"]
    if amount_minor <= 0:
        raise Invalid("The amount must be more than zero.")
    if amount_minor < minimum:
        raise Invalid(f"The smallest amount you can withdraw is {_money(minimum)}.")
    if amount_minor > maximum:
        raise Invalid(f"The most you can enter is {_money(maximum)}.")


def _end_read_transaction() -> None:
    """End the request's read transaction before a network call, keeping loaded rows
    fresh enough to read, so reading them (the provider reads the member) opens none."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _stored_outcome(member_id: int, key: str, request: dict[str, Any]) -> dict | None:
    """What an earlier request with this key did, read without claiming it; None if new.

    Lets a plain retry be answered before the provider is called again. Refuses a key
    used for another request, as ``claim_key`` does.
    """
    if not key or len(key) > KEY_MAX:
        raise Invalid("This form is missing its one-time key; reload the page and try again.")
    row = db.session.execute(
        select(IdempotencyKey.fingerprint, IdempotencyKey.outcome)
        .where(IdempotencyKey.member_id == member_id, IdempotencyKey.key == key)).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint_of(request):
        raise KeyReused()
    return json.loads(row.outcome)


def _replayed(model: type, stored: dict, field: str):
    row = db.session.get(model, stored[field]) if field in stored else None
    if row is None:
        raise Conflict("This request is still being processed; reload the page in a moment.")
    return row


def _move(row: Deposit | Withdrawal | Chargeback, to: str, *, guard: tuple = (),
          **values: Any) -> None:
    """Move ``row`` to state ``to`` along its transition table, with a guarded UPDATE.

    Refuses (Conflict): a transition the table does not allow from the state the row is
    in, and a row whose state changed since it was read (the UPDATE changed nothing),
    so of two concurrent decisions exactly one wins.
    """
    model = type(row)
    noun = model.__name__.lower()
    move_row(row, STATES[model](to), TRANSITIONS[model],
             not_allowed=lambda current: f"This {noun} is already {current}.",
             refused=f"This {noun} was changed meanwhile; reload the page to see it.",
             guard=guard, **values)


def _store(row: Deposit | Withdrawal, **values: Any) -> None:
    model = type(row)
    db.session.execute(update(model).where(model.id == row.id).values(**values)
                       .execution_options(synchronize_session=False))


def _log_after_commit(message: str, *, level: int = logging.INFO, **extra: Any) -> None:
    on_commit(lambda: log.log(level, message, extra=extra))


# --- chargebacks -------------------------------------------------------------------------
#
# A deposit the provider takes back (a dispute, a refund) leaves the member's wallet for
# the chargebacks account. Only the *available* balance is taken: money held for a
# withdrawal, a postpaid fee or a milestone's escrow is promised to someone and stays
# where it is. What the available balance lacks moves from the member's debt account
# instead (which may go below zero, never above): the ledger still sums to zero and no
# wallet is overdrawn, and the debt account's balance is what the member owes. While
# they owe, they can't withdraw, and money that reaches the wallet from outside pays the
# debt before anything else: a deposit, a withdrawal's hold released (rejected), a paid
# withdrawal that came back. Spending inside the site (funding a milestone, a fee) is not
# refused here while they owe: that guard would belong in the ledger, once for every
# feature, not in the wallet.

class WithdrawalWhileOwing(NotAllowed):
    """The member owes a debt from a deposit taken back; nothing leaves until it's paid."""

    field = "amount"


class DepositNotSettledYet(Conflict):
    """A chargeback names a payment no completed deposit has, while a deposit that may
    turn out to be it is still pending: the event is to be applied later, not dropped."""


# How long a pending deposit whose payment is not known yet may still turn out to be the
# one a dispute or refund names. A card deposit learns its payment intent only from
# ``checkout.session.completed``; Stripe redelivers an event it wasn't answered 2xx for
# during 3 days, and a Checkout session expires within 1, so after that the deposit is
# not the one.
AWAITED_DEPOSIT_WINDOW = timedelta(days=3)


_TAKEN_BECAUSE = {ChargebackKind.DISPUTE: "the card holder disputed the payment",
                  ChargebackKind.REFUND: "the payment was refunded"}


@transactional
def take_back_deposit(*, provider: str, payment_reference: str, reference: str,
                      kind: ChargebackKind, amount_minor: int, reason: str = "",
                      then: Callable[[Chargeback, int], object] | None = None
                      ) -> Chargeback | None:
    """Take (part of) a completed deposit back out of its member's wallet: the provider
    disputed or refunded the payment ``payment_reference`` (Stripe's payment intent).

    State: a new Chargeback, taken, for the provider's ``reference`` (a dispute's or
    refund's id).
    Money: CHARGEBACK transfers into the chargebacks account: from the wallet, as much as
    its available balance covers; the rest from the member's debt account (the member
    now owes it). Never more than what is left of the deposit after the chargebacks
    still standing against it.
    Notifies: the member (chargeback).
    A member who deleted their account: nothing is taken from them and nothing owed (a
    deleted account has no one to pay a debt): the chargeback is recorded, of 0, and
    ``then`` is called with it and the amount the provider took, in this transaction
    (the caller opens the admins' case, ``cases.services.open_deleted_chargeback_case``).
    Changes nothing (returns None): no completed deposit has that payment; the
    reference was recorded before (another event about the same dispute or refund);
    nothing is left of the deposit to take back. The deposit's row is locked first, so
    two events racing about one deposit are applied one after the other.
    Raises: DepositNotSettledYet when no completed deposit has the payment but a pending
    one may still turn out to be it (``_awaiting_deposit``): the caller's transaction
    rolls back, so the provider's event is not recorded and its redelivery tries again.
    """
    if amount_minor <= 0:
        return None
    awaiting = _awaiting_deposit(provider, payment_reference)  # first: see its docstring
    deposit = _paid_deposit(provider, payment_reference)
    if deposit is None and awaiting:
        raise DepositNotSettledYet(_NOT_SETTLED_YET)
    if deposit is None or _chargeback_by_reference(provider, reference) is not None:
        _log_after_commit("chargeback event ignored", provider=provider, reference=reference,
                          deposit_id=deposit.id if deposit else None)
        return None
    standing = db.session.scalar(select(func.coalesce(func.sum(Chargeback.amount_minor), 0))
                                 .where(Chargeback.deposit_id == deposit.id,
                                        Chargeback.state == ChargebackState.TAKEN))
    amount = min(amount_minor, deposit.amount_minor - int(standing))
    if amount <= 0:
        return None
    wallet_id = wallet_account(deposit.member_id).id
    chargebacks_id = system_account(AccountKind.CHARGEBACKS).id
    debt = existing_debt_account(deposit.member_id)
    lock_accounts({wallet_id, chargebacks_id} | ({debt.id} if debt else set()))
    # the member after their accounts, as a deletion takes them
    if _is_deleted(deposit.member_id, lock=True):
        chargeback = Chargeback(deposit_id=deposit.id, member_id=deposit.member_id, kind=kind,
                                provider=provider, provider_reference=reference,
                                reason=(reason or "")[:100], state=ChargebackState.TAKEN,
                                amount_minor=0, covered_minor=0, debt_minor=0)
        insert_once(chargeback, refused="This chargeback is already recorded.")
        if then is not None:
            then(chargeback, amount)
        _log_after_commit("deposit taken back from a deleted member: nothing owed",
                          level=logging.WARNING, chargeback_id=chargeback.id,
                          deposit_id=deposit.id, member_id=deposit.member_id,
                          amount_minor=amount, kind=str(kind))
        return chargeback
    available = db.session.get(LedgerAccount, wallet_id, populate_existing=True).available
    covered = min(amount, max(available, 0))
    shortfall = amount - covered
    if shortfall and debt is None:
        debt = debt_account(deposit.member_id)  # the newest account: locked last, in order
        lock_accounts({debt.id})
    chargeback = Chargeback(deposit_id=deposit.id, member_id=deposit.member_id, kind=kind,
                            provider=provider, provider_reference=reference,
                            reason=(reason or "")[:100], state=ChargebackState.TAKEN,
                            amount_minor=amount, covered_minor=covered, debt_minor=shortfall)
    insert_once(chargeback, refused="This chargeback is already recorded.")
    legs = [Leg(wallet_id, chargebacks_id, covered, TransferKind.CHARGEBACK,
                memo=f"Deposit #{deposit.id} taken back")] if covered else []
    if shortfall:
        legs.append(Leg(debt.id, chargebacks_id, shortfall, TransferKind.CHARGEBACK,
                        memo=f"Owed for deposit #{deposit.id}"))
    post_batch(legs, cause=Cause("chargeback", chargeback.id), actor_id=None)
    owed = f" Your wallet lacked {_money(shortfall)}: you owe it, you can't withdraw " \
           "until it is paid, and your next deposits pay it first." if shortfall else ""
    notify(db.session.get(User, deposit.member_id), "chargeback",
           title=f"{_money(amount)} of your deposit #{deposit.id} was taken back: "
                 f"{_TAKEN_BECAUSE[ChargebackKind(kind)]}.{owed}",
           link=site_path("wallet.deposit", deposit_id=deposit.id, _anchor="chargebacks"))
    _log_after_commit("deposit taken back", chargeback_id=chargeback.id,
                      deposit_id=deposit.id, member_id=deposit.member_id, amount_minor=amount,
                      covered_minor=covered, debt_minor=shortfall, kind=str(kind))
    return chargeback


@transactional
def return_chargeback(*, provider: str, reference: str, payment_reference: str | None,
                      kind: ChargebackKind,
                      then: Callable[[Chargeback, int], object] | None = None
                      ) -> Chargeback | None:
    """Give back a deposit taken back: the dispute ``reference`` was won, or the refund
    failed.

    State: the chargeback taken → returned.
    Money: CHARGEBACK_RETURN transfers out of the chargebacks account: to the member's
    debt account first, as far as they owe (from this chargeback or another), the rest
    to their wallet. A member who deleted their account: what reached the wallet moves on
    at once to the unclaimed account (``set_aside_unclaimed``), nobody is notified, and
    ``then`` is called with the chargeback and that amount, in this transaction (the
    caller opens the admins' case).
    Notifies: the member (chargeback).
    Changes nothing (returns None): a chargeback already returned. For a reference not
    recorded yet (the "won" event arrived before the "created" one) it records the
    chargeback as returned with nothing moved, so that the late event moves nothing
    either; with no completed deposit for ``payment_reference``, not even that.
    Raises: DepositNotSettledYet as ``take_back_deposit``, for a reference not recorded
    whose deposit may still complete (else its late "taken" event would take it for good).
    The deposit's row is locked before the chargeback is looked for, as
    ``take_back_deposit`` does: a "taken" event committing meanwhile is then seen, not
    missed (the "won" answered as if nothing was taken, and the money kept).
    """
    awaiting = payment_reference is not None and _awaiting_deposit(provider,
                                                                    payment_reference)
    deposit = _paid_deposit(provider, payment_reference) if payment_reference else None
    if deposit is None:  # an event naming no payment we know: lock the chargeback's deposit
        known = _chargeback_by_reference(provider, reference)
        if known is not None:
            _lock_deposit(known.deposit_id)
    chargeback = _chargeback_by_reference(provider, reference, lock=True)
    if chargeback is None:
        if deposit is None and awaiting:
            raise DepositNotSettledYet(_NOT_SETTLED_YET)
        if deposit is not None:
            db.session.execute(insert_ignoring_conflicts(Chargeback).values(
                deposit_id=deposit.id, member_id=deposit.member_id, kind=kind,
                provider=provider, provider_reference=reference,
                state=ChargebackState.RETURNED, amount_minor=0, covered_minor=0, debt_minor=0,
                returned_at=utcnow()))
        _log_after_commit("chargeback returned before it was taken", provider=provider,
                          reference=reference, deposit_id=deposit.id if deposit else None)
        return None
    if chargeback.state != ChargebackState.TAKEN:
        return None
    _move(chargeback, ChargebackState.RETURNED, returned_at=utcnow())
    db.session.refresh(chargeback)
    wallet_id = wallet_account(chargeback.member_id).id
    chargebacks_id = system_account(AccountKind.CHARGEBACKS).id
    debt = existing_debt_account(chargeback.member_id)
    lock_accounts({wallet_id, chargebacks_id} | _unclaimed_accounts(chargeback.member_id))
    deleted = _is_deleted(chargeback.member_id, lock=True)  # after its accounts, as above
    owed = existing_debt_account(chargeback.member_id).owed if debt else 0  # read locked
    to_debt = min(chargeback.amount_minor, owed)
    legs = [Leg(chargebacks_id, debt.id, to_debt, TransferKind.CHARGEBACK_RETURN,
                memo="Paid what you owed")] if to_debt else []
    if chargeback.amount_minor > to_debt:
        legs.append(Leg(chargebacks_id, wallet_id, chargeback.amount_minor - to_debt,
                        TransferKind.CHARGEBACK_RETURN,
                        memo=f"Deposit #{chargeback.deposit_id} given back"))
    if deleted:
        if legs:
            post_batch(legs, cause=Cause("chargeback", chargeback.id), actor_id=None)
        set_aside = set_aside_unclaimed(
            chargeback.member_id, cause=Cause("chargeback", chargeback.id),
            memo=f"Deposit #{chargeback.deposit_id} given back after its member deleted "
                 "their account")
        if then is not None:
            then(chargeback, set_aside)
    elif legs:
        post_batch(legs, cause=Cause("chargeback", chargeback.id), actor_id=None)
        paid = f" {_money(to_debt)} of it paid what you owed." if to_debt else ""
        notify(db.session.get(User, chargeback.member_id), "chargeback",
               title=f"{_money(chargeback.amount_minor)} taken back from your deposit "
                     f"#{chargeback.deposit_id} came back to you.{paid}",
               link=site_path("wallet.deposit", deposit_id=chargeback.deposit_id,
                              _anchor="chargebacks"))
    _log_after_commit("chargeback returned", chargeback_id=chargeback.id,
                      amount_minor=chargeback.amount_minor, to_debt_minor=to_debt)
    return chargeback


_NOT_SETTLED_YET = "The deposit this payment paid for is not completed yet; send it later."


def _awaiting_deposit(provider: str, payment_reference: str) -> bool:
    """Whether a pending deposit may still turn out to be paid by ``payment_reference``:
    one that already names it (a bank debit clearing), or one that names no payment yet,
    created within ``AWAITED_DEPOSIT_WINDOW``. A refund or dispute does not say which
    member paid, so any such deposit counts: while one waits, an unknown payment is
    refused rather than dropped (Stripe retries it), and only with none waiting is it
    recorded as no deposit's.

    Ask before ``_paid_deposit``: a deposit completing in between is then seen as
    completed by the second query, never missed by both.
    """
    return db.session.scalar(select(Deposit.id).where(
        Deposit.provider == provider, Deposit.state == DepositState.PENDING,
        or_(Deposit.payment_reference == payment_reference,
            and_(Deposit.payment_reference.is_(None),
                 Deposit.created_at >= utcnow() - AWAITED_DEPOSIT_WINDOW))).limit(1)) is not None


def _void_paying_debt_first(withdrawal: Withdrawal, *, actor_id: int) -> Transfer:
    """Void a withdrawal's hold; what it releases pays the member's debt first."""
    return _paying_debt_first(
        withdrawal, actor_id=actor_id,
        give_back=lambda: void_reservation(withdrawal.hold_transfer_id, actor_id=actor_id))


def _reverse_paying_debt_first(withdrawal: Withdrawal, *, memo: str) -> Transfer:
    """Reverse a paid withdrawal's settle transfer; what comes back pays the debt first."""
    return _paying_debt_first(
        withdrawal, actor_id=None,
        give_back=lambda: reverse_transfer(withdrawal.settle_transfer_id, actor_id=None,
                                           memo=memo))


def _paying_debt_first(withdrawal: Withdrawal, *, actor_id: int | None,
                       give_back: Callable[[], Transfer]) -> Transfer:
    """Run ``give_back`` (it returns the withdrawal's amount to the member's wallet) and,
    in the same transaction, pay from that amount what the member owes, by the leg a
    deposit pays with: else a member in debt could spend the money that came back.
    Locks the withdrawal's accounts and the debt account first, in order."""
    debt = existing_debt_account(withdrawal.member_id)
    if debt is None:
        return give_back()
    wallet_id = wallet_account(withdrawal.member_id).id
    lock_accounts(accounts_of([withdrawal.hold_transfer_id]) | {wallet_id, debt.id})
    given = give_back()
    repayment = _repayment_leg(withdrawal.member_id, wallet_id, withdrawal.amount_minor)
    if repayment is not None:
        post_batch([repayment], cause=Cause("withdrawal", withdrawal.id), actor_id=actor_id)
        _log_after_commit("debt paid from a withdrawal", withdrawal_id=withdrawal.id,
                          amount_minor=repayment.amount)
    return given


def _paid_deposit(provider: str, payment_reference: str) -> Deposit | None:
    """The completed deposit paid by ``payment_reference``, its row locked."""
    return db.session.execute(select(Deposit).where(
        Deposit.provider == provider, Deposit.payment_reference == payment_reference,
        Deposit.state == DepositState.COMPLETED).with_for_update()).scalars().first()


def _lock_deposit(deposit_id: int) -> None:
    """Lock the deposit's row (as ``_paid_deposit`` does), found by its id."""
    db.session.execute(select(Deposit.id).where(Deposit.id == deposit_id).with_for_update())


def _chargeback_by_reference(provider: str, reference: str, *,
                             lock: bool = False) -> Chargeback | None:
    stmt = select(Chargeback).where(Chargeback.provider == provider,
                                    Chargeback.provider_reference == reference)
    if lock:  # read afresh: an unlocked read of it earlier in the transaction may be stale
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return db.session.execute(stmt).scalar_one_or_none()


def _repayment_leg(member_id: int, wallet_id: int, deposited: int) -> Leg | None:
    """The leg by which a deposit pays the member's debt first (None if they owe nothing):
    call with the accounts locked, after the deposit's own leg is in the batch."""
    debt = existing_debt_account(member_id)
    if debt is None or debt.owed <= 0:
        return None
    return Leg(wallet_id, debt.id, min(deposited, debt.owed), TransferKind.DEBT_REPAYMENT,
               memo="Paid what you owed")
