"""Wallet services: every operation and every refusal, against the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.ledger.models import IdempotencyKey, Transfer, TransferKind, TransferState
from offload.ledger.services import InsufficientFunds
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.wallet import providers
from offload.wallet.models import Deposit, DepositState, Withdrawal, WithdrawalState
from offload.wallet.providers import ProviderError, ProviderResult, get_provider
from offload.wallet.queries import wallet_summary
from offload.wallet.services import (
    PasswordNotConfirmed,
    WithdrawalNotCovered,
    _move,
    add_funds,
    complete_deposit,
    fail_deposit,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
)
from tests.support.factories import PASSWORD, count, fresh, new_key, transfer_count

IBAN = "IBAN DE89 3704 0044 0532 0130 00"


def balances(member) -> tuple[int, int, int]:
    db.session.rollback()
    s = wallet_summary(member.id)
    return s.available, s.held, s.total


class CountingProvider:
    """A provider double: answers like the sandbox (or pending), counts its calls."""

    name = "fake"
    is_sandbox = False
    calls = 0
    completed = True

    def start_deposit(self, member, amount_minor, *, idempotency_key):
        type(self).calls += 1
        return ProviderResult(f"fake-{type(self).calls}", completed=type(self).completed)


@pytest.fixture
def fake_provider(app, monkeypatch):
    CountingProvider.calls = 0
    CountingProvider.completed = True
    monkeypatch.setitem(providers.PROVIDERS, "fake", CountingProvider)
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "fake")
    return CountingProvider


# --- adding funds ---------------------------------------------------------------------

def test_add_funds_credits_the_wallet_at_once_with_the_sandbox(make_member):
    alice = make_member("alice")
    deposit = add_funds(actor=alice, amount_minor=25_00, idempotency_key=new_key())
    assert deposit.state == DepositState.COMPLETED and deposit.completed_at is not None
    assert deposit.provider == "sandbox" and deposit.provider_reference.startswith("sandbox-")
    transfer = db.session.get(Transfer, deposit.transfer_id)
    assert (transfer.kind, transfer.state, transfer.amount_minor) == (
        TransferKind.DEPOSIT, TransferState.POSTED, 25_00)
    assert (transfer.cause_type, transfer.cause_id, transfer.actor_id) == (
        "deposit", deposit.id, alice.id)
    assert balances(alice) == (25_00, 0, 25_00)


def test_a_repeated_deposit_key_returns_the_first_deposit_and_asks_the_provider_once(
        make_member, fake_provider):
    alice = make_member("alice")
    key = new_key()
    first = add_funds(actor=alice, amount_minor=10_00, idempotency_key=key)
    again = add_funds(actor=alice, amount_minor=10_00, idempotency_key=key)
    assert again.id == first.id
    assert fake_provider.calls == 1
    assert count(Deposit) == 1 and transfer_count() == 1
    assert balances(alice) == (10_00, 0, 10_00)
    stored = db.session.get(IdempotencyKey, (alice.id, key))
    assert stored.batch_id == db.session.get(Transfer, first.transfer_id).batch_id


def test_the_same_deposit_key_with_another_amount_is_refused(make_member):
    alice = make_member("alice")
    key = new_key()
    add_funds(actor=alice, amount_minor=10_00, idempotency_key=key)
    with pytest.raises(Conflict, match="different request"):
        add_funds(actor=alice, amount_minor=99_00, idempotency_key=key)
    assert count(Deposit) == 1 and balances(alice) == (10_00, 0, 10_00)


def test_keys_are_per_member(make_member):
    alice, bob = make_member("alice"), make_member("bob")
    add_funds(actor=alice, amount_minor=10_00, idempotency_key="same")
    add_funds(actor=bob, amount_minor=10_00, idempotency_key="same")
    assert count(Deposit) == 2


@pytest.mark.parametrize("amount", [0, -1, 1_000_000_01])
def test_add_funds_refuses_amounts_outside_the_limits(make_member, amount):
    alice = make_member("alice")
    with pytest.raises(Invalid):
        add_funds(actor=alice, amount_minor=amount, idempotency_key=new_key())
    assert count(Deposit) == 0 and transfer_count() == 0


def test_add_funds_takes_the_site_maximum(make_member, app):
    alice = make_member("alice")
    add_funds(actor=alice, amount_minor=app.config["MAX_AMOUNT_MINOR"],
              idempotency_key=new_key())
    assert balances(alice)[2] == app.config["MAX_AMOUNT_MINOR"]


def test_add_funds_refuses_unconfirmed_members(make_member):
    newbie = make_member("newbie", confirmed=False)
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        add_funds(actor=newbie, amount_minor=10_00, idempotency_key=new_key())
    assert count(Deposit) == 0


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_add_funds_needs_a_usable_key(make_member, key, fake_provider):
    with pytest.raises(Invalid, match="one-time key"):
        add_funds(actor=make_member("alice"), amount_minor=10_00, idempotency_key=key)
    assert fake_provider.calls == 0 and count(Deposit) == 0


def test_a_provider_refusal_records_nothing_and_leaves_the_key_usable(make_member, monkeypatch):
    alice = make_member("alice")

    def refuse(self, member, amount_minor, *, idempotency_key):
        raise ProviderError("The card was declined.")

    monkeypatch.setattr(providers.SandboxProvider, "start_deposit", refuse)
    with pytest.raises(ProviderError):
        add_funds(actor=alice, amount_minor=10_00, idempotency_key="retry-me")
    assert count(Deposit) == 0 and count(IdempotencyKey) == 0
    monkeypatch.undo()
    add_funds(actor=alice, amount_minor=10_00, idempotency_key="retry-me")
    assert balances(alice) == (10_00, 0, 10_00)


def test_a_pending_deposit_is_credited_when_the_provider_confirms_it_once(
        make_member, fake_provider):
    alice = make_member("alice")
    fake_provider.completed = False
    deposit = add_funds(actor=alice, amount_minor=30_00, idempotency_key=new_key())
    assert deposit.state == DepositState.PENDING and deposit.transfer_id is None
    assert transfer_count() == 0 and balances(alice) == (0, 0, 0)
    complete_deposit(deposit)  # the provider's webhook: no actor
    assert deposit.state == DepositState.COMPLETED
    assert db.session.get(Transfer, deposit.transfer_id).actor_id is None
    with pytest.raises(Conflict, match="already completed"):
        complete_deposit(deposit)  # the webhook delivered twice
    with pytest.raises(Conflict):
        fail_deposit(deposit)
    assert transfer_count() == 1 and balances(alice) == (30_00, 0, 30_00)


def test_a_pending_deposit_can_fail_and_then_never_completes(make_member, fake_provider):
    fake_provider.completed = False
    deposit = add_funds(actor=make_member("alice"), amount_minor=30_00,
                        idempotency_key=new_key())
    fail_deposit(deposit)
    assert deposit.state == DepositState.FAILED
    with pytest.raises(Conflict, match="already failed"):
        complete_deposit(deposit)
    assert transfer_count() == 0


def test_a_deleted_members_deposit_is_never_credited(make_member, fake_provider):
    alice = make_member("alice")
    fake_provider.completed = False
    deposit = add_funds(actor=alice, amount_minor=30_00, idempotency_key=new_key())
    # deleted while it was pending (the deletion refuses that; a race could miss it)
    db.session.execute(update(User).where(User.id == alice.id).values(deleted_at=utcnow()))
    db.session.commit()
    with pytest.raises(Conflict, match="deleted their account"):
        complete_deposit(deposit)
    assert fresh(Deposit, deposit.id).state == DepositState.PENDING
    assert transfer_count() == 0 and balances(alice) == (0, 0, 0)


def test_add_funds_will_not_call_the_provider_inside_a_transaction(make_member, fake_provider):
    alice = make_member("alice")
    with pytest.raises(RuntimeError, match="outside a transaction"), atomic():
        add_funds(actor=alice, amount_minor=10_00, idempotency_key=new_key())
    assert fake_provider.calls == 0 and count(Deposit) == 0


def test_no_transaction_is_open_while_the_provider_works(make_member, monkeypatch):
    alice = make_member("alice")
    seen = []

    def start(self, member, amount_minor, *, idempotency_key):
        assert member.email == "alice@example.com"  # a provider reads the member...
        seen.append(db.session().in_transaction())  # ...without opening a transaction
        return ProviderResult("sandbox-checked", completed=True)

    monkeypatch.setattr(providers.SandboxProvider, "start_deposit", start)
    add_funds(actor=alice, amount_minor=10_00, idempotency_key=new_key())
    assert seen == [False]


def test_an_unknown_provider_fails_at_use(app, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "acme-pay")
    with pytest.raises(RuntimeError, match="acme-pay"):
        get_provider()
    with pytest.raises(RuntimeError):
        add_funds(actor=make_member("alice"), amount_minor=10_00, idempotency_key=new_key())


# --- withdrawals -------------------------------------------------------------------------

def test_a_withdrawal_holds_its_amount_at_once(make_member, fund):
    alice = make_member("alice")
    fund(alice, 50_00)
    w = request_withdrawal(actor=alice, amount_minor=20_00, payout_details=f"  {IBAN} ",
                           idempotency_key=new_key())
    assert w.state == WithdrawalState.REQUESTED and w.payout_details == IBAN
    hold = db.session.get(Transfer, w.hold_transfer_id)
    assert (hold.kind, hold.state, hold.amount_minor) == (
        TransferKind.WITHDRAWAL, TransferState.PENDING, 20_00)
    assert (hold.cause_type, hold.cause_id) == ("withdrawal", w.id)
    assert balances(alice) == (30_00, 20_00, 50_00)


def test_a_repeated_withdrawal_key_holds_once(make_member, fund):
    alice = make_member("alice")
    fund(alice, 50_00)
    key = new_key()
    first = request_withdrawal(actor=alice, amount_minor=20_00, payout_details=IBAN,
                               idempotency_key=key)
    again = request_withdrawal(actor=alice, amount_minor=20_00, payout_details=IBAN,
                               idempotency_key=key)
    assert again.id == first.id and count(Withdrawal) == 1
    assert balances(alice) == (30_00, 20_00, 50_00)
    for other in ({"amount_minor": 21_00, "payout_details": IBAN},
                  {"amount_minor": 20_00, "payout_details": "paypal: alice@example.com"}):
        with pytest.raises(Conflict, match="different request"):
            request_withdrawal(actor=alice, idempotency_key=key, **other)
    assert count(Withdrawal) == 1


def test_a_withdrawal_over_the_available_balance_holds_nothing(make_member, fund, withdraw):
    alice = make_member("alice")
    fund(alice, 50_00)
    withdraw(alice, 40_00)
    before = transfer_count()
    with pytest.raises(InsufficientFunds, match=r"your available balance is \$10\.00"):
        request_withdrawal(actor=alice, amount_minor=10_01, payout_details=IBAN,
                           idempotency_key="over")
    assert count(Withdrawal) == 1 and transfer_count() == before
    assert balances(alice) == (10_00, 40_00, 50_00)
    assert db.session.get(IdempotencyKey, (alice.id, "over")) is None  # a retry may try again


def test_a_member_without_a_wallet_cannot_withdraw(make_member):
    with pytest.raises(InsufficientFunds):
        request_withdrawal(actor=make_member("alice"), amount_minor=5_00, payout_details=IBAN,
                           idempotency_key=new_key())
    assert count(Withdrawal) == 0


@pytest.mark.parametrize(("amount", "details", "message"), [
    (99, IBAN, "smallest amount"),
    (0, IBAN, "more than zero"),
    (1_000_000_01, IBAN, "most you can enter"),
    (5_00, "   ", "where we should send"),
    (5_00, "x" * 201, "under 200"),
])
def test_withdrawal_refusals(make_member, fund, amount, details, message):
    alice = make_member("alice")
    fund(alice, 50_00)
    with pytest.raises(Invalid, match=message):
        request_withdrawal(actor=alice, amount_minor=amount, payout_details=details,
                           idempotency_key=new_key())
    assert count(Withdrawal) == 0 and balances(alice) == (50_00, 0, 50_00)


def test_unconfirmed_members_cannot_withdraw(make_member):
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        request_withdrawal(actor=make_member("n", confirmed=False), amount_minor=5_00,
                           payout_details=IBAN, idempotency_key=new_key())


# --- an admin's decision -------------------------------------------------------------------

@pytest.fixture
def requested(make_member, fund, withdraw):
    """A member with 50.00 of which 20.00 is held for a requested withdrawal."""
    alice = make_member("alice")
    fund(alice, 50_00)
    return alice, withdraw(alice, 20_00)


def test_marking_paid_posts_the_hold_logs_and_notifies(requested, admin, outbox):
    alice, w = requested
    mark_withdrawal_paid(w, actor=admin, reason="Sent by SEPA, ref 42", password=PASSWORD)
    assert w.state == WithdrawalState.PAID
    assert (w.decided_by_id, w.reason) == (admin.id, None) and w.decided_at is not None
    settle = db.session.get(Transfer, w.settle_transfer_id)
    assert (settle.state, settle.pending_id, settle.amount_minor, settle.actor_id) == (
        TransferState.POST_PENDING, w.hold_transfer_id, 20_00, admin.id)
    assert balances(alice) == (30_00, 0, 30_00)
    entry = db.session.scalar(select(ModerationEntry))
    assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_id,
            entry.subject_user_id, entry.reason) == (
        admin.id, "withdrawal_paid", "withdrawal", w.id, alice.id, "Sent by SEPA, ref 42")
    note = db.session.scalar(select(Notification).where(Notification.user_id == alice.id))
    assert note.kind == "withdrawal_paid" and "$20.00 was paid out" in note.title
    assert note.link == f"/wallet/withdrawals/{w.id}"
    mail = outbox.to(alice.email)[-1]
    assert "$20.00 was paid out" in mail.subject


def test_rejecting_voids_the_hold_and_tells_the_member_why(requested, admin, outbox):
    alice, w = requested
    reject_withdrawal(w, actor=admin, reason="  The IBAN is not valid.  ", password=PASSWORD)
    assert (w.state, w.reason) == (WithdrawalState.REJECTED, "The IBAN is not valid.")
    settle = db.session.get(Transfer, w.settle_transfer_id)
    assert (settle.state, settle.pending_id) == (TransferState.VOID_PENDING, w.hold_transfer_id)
    assert balances(alice) == (50_00, 0, 50_00)
    entry = db.session.scalar(select(ModerationEntry))
    assert (entry.action, entry.reason) == ("withdrawal_rejected", "The IBAN is not valid.")
    note = db.session.scalar(select(Notification).where(Notification.user_id == alice.id))
    assert note.kind == "withdrawal_rejected" and "The IBAN is not valid." in note.title
    mail = outbox.to(alice.email)[-1]
    assert mail.subject == "Your withdrawal of $20.00 was rejected"
    assert "The IBAN is not valid." in mail.text_body
    assert "available in your wallet again" in mail.text_body


@pytest.mark.parametrize("decide", [mark_withdrawal_paid, reject_withdrawal])
def test_a_decision_needs_the_admins_password(requested, admin, decide):
    alice, w = requested
    with pytest.raises(PasswordNotConfirmed, match="password is not correct"):
        decide(w, actor=admin, reason="Checked", password="not my password")
    with pytest.raises(PasswordNotConfirmed):
        decide(w, actor=admin, reason="Checked", password="")
    assert w.state == WithdrawalState.REQUESTED and count(ModerationEntry) == 0
    assert balances(alice) == (30_00, 20_00, 50_00)


@pytest.mark.parametrize("decide", [mark_withdrawal_paid, reject_withdrawal])
@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_decision_needs_a_reason(requested, admin, decide, reason):
    _alice, w = requested
    with pytest.raises(Invalid, match="Write the reason"):
        decide(w, actor=admin, reason=reason, password=PASSWORD)
    assert w.state == WithdrawalState.REQUESTED and count(ModerationEntry) == 0


def test_a_reason_has_a_maximum(requested, admin):
    with pytest.raises(Invalid, match="under 1,000"):
        reject_withdrawal(requested[1], actor=admin, reason="x" * 1001, password=PASSWORD)


@pytest.mark.parametrize("decide", [mark_withdrawal_paid, reject_withdrawal])
def test_only_admins_decide(requested, make_member, decide):
    alice, w = requested
    for actor in (alice, make_member("bob")):
        with pytest.raises(NotAllowed, match="Only admins"):
            decide(w, actor=actor, reason="Looks fine", password=PASSWORD)
    assert w.state == WithdrawalState.REQUESTED


def test_an_admin_cannot_decide_their_own_withdrawal(admin, fund, withdraw):
    fund(admin, 50_00)
    w = withdraw(admin, 10_00)
    with pytest.raises(NotAllowed, match="another admin"):
        mark_withdrawal_paid(w, actor=admin, reason="Mine", password=PASSWORD)


def test_paying_twice_is_a_conflict_and_pays_once(requested, admin, make_member):
    alice, w = requested
    other_admin = make_member("other", admin=True)
    mark_withdrawal_paid(w, actor=admin, reason="Paid", password=PASSWORD)
    with pytest.raises(Conflict, match="already paid"):
        mark_withdrawal_paid(w, actor=other_admin, reason="Paid too", password=PASSWORD)
    with pytest.raises(Conflict, match="already paid"):
        reject_withdrawal(w, actor=other_admin, reason="No", password=PASSWORD)
    assert balances(alice) == (30_00, 0, 30_00)
    assert count(ModerationEntry) == 1


def test_the_state_guard_refuses_a_row_changed_since_it_was_read(requested):
    _alice, w = requested
    w_id = w.id
    with pytest.raises(Conflict, match="changed meanwhile"), atomic():
        stale = db.session.get(Withdrawal, w_id)
        assert stale.state == WithdrawalState.REQUESTED
        # someone else decides it; this session's copy still says "requested"
        db.session.execute(update(Withdrawal).where(Withdrawal.id == w_id)
                           .values(state="rejected", reason="x", decided_at=utcnow())
                           .execution_options(synchronize_session=False))
        _move(stale, WithdrawalState.PAID, decided_at=utcnow())
    assert db.session.get(Withdrawal, w_id, populate_existing=True).state == "requested"


def test_the_moderation_entry_commits_with_the_decision_or_not_at_all(
        requested, admin, monkeypatch):
    alice, w = requested

    def broken_notify(*args, **kwargs):
        raise RuntimeError("the notification step failed")

    monkeypatch.setattr("offload.wallet.services.notify", broken_notify)
    with pytest.raises(RuntimeError):
        mark_withdrawal_paid(w, actor=admin, reason="Paid", password=PASSWORD)
    db.session.rollback()
    assert count(ModerationEntry) == 0
    assert db.session.get(Withdrawal, w.id, populate_existing=True).state == "requested"
    assert db.session.scalar(select(func.count()).select_from(Transfer)
                             .where(Transfer.pending_id == w.hold_transfer_id)) == 0
    assert balances(alice) == (30_00, 20_00, 50_00)


def test_the_database_refuses_impossible_rows(requested):
    _alice, w = requested
    for sql in ("UPDATE withdrawals SET state = 'lost'",
                "UPDATE withdrawals SET amount_minor = 0",
                "UPDATE withdrawals SET state = 'rejected', decided_at = CURRENT_TIMESTAMP",
                "UPDATE withdrawals SET payout_details = '  '",
                "UPDATE deposits SET state = 'pending'"):
        with pytest.raises(Exception, match="(?i)check|constraint"), atomic():
            db.session.execute(text(sql))
        db.session.rollback()


# --- races ----------------------------------------------------------------------------------

def test_concurrent_decisions_on_one_withdrawal_have_one_winner(requested, admin, race):
    alice, w = requested
    w_id, admin_id = w.id, admin.id

    def decide(i):
        actor = db.session.get(User, admin_id)
        row = db.session.get(Withdrawal, w_id)
        action = mark_withdrawal_paid if i % 2 else reject_withdrawal
        return action(row, actor=actor, reason=f"decision {i}", password=PASSWORD).state

    results, errors = race(6, decide)
    assert len(results) == 1, errors
    assert {type(e) for e in errors} == {Conflict}, errors
    assert count(ModerationEntry) == 1
    assert db.session.get(Withdrawal, w_id).state == results[0]


def test_concurrent_withdrawals_never_hold_more_than_the_balance(make_member, fund, race):
    alice = make_member("alice")
    fund(alice, 100_00)
    alice_id = alice.id

    def ask(i):
        actor = db.session.get(User, alice_id)
        return request_withdrawal(actor=actor, amount_minor=30_00, payout_details=IBAN,
                                  idempotency_key=f"race-{i}").id

    results, errors = race(8, ask)
    assert len(results) == 3, errors
    assert {type(e) for e in errors} == {WithdrawalNotCovered}, errors
    assert balances(alice) == (10_00, 90_00, 100_00)


def test_concurrent_retries_of_one_withdrawal_hold_once(make_member, fund, race):
    alice = make_member("alice")
    fund(alice, 100_00)
    alice_id = alice.id

    def ask(_i):
        actor = db.session.get(User, alice_id)
        return request_withdrawal(actor=actor, amount_minor=30_00, payout_details=IBAN,
                                  idempotency_key="double-click").id

    results, errors = race(8, ask)
    assert not errors and len(set(results)) == 1 and len(results) == 8
    assert count(Withdrawal) == 1 and balances(alice) == (70_00, 30_00, 100_00)


def test_concurrent_retries_of_one_deposit_credit_once(make_member, race):
    alice = make_member("alice")
    alice_id = alice.id

    def add(_i):
        actor = db.session.get(User, alice_id)
        return add_funds(actor=actor, amount_minor=25_00, idempotency_key="double-click").id

    results, errors = race(8, add)
    assert not errors and len(results) == 8 and len(set(results)) == 1
    assert count(Deposit) == 1 and transfer_count() == 1
    assert balances(alice) == (25_00, 0, 25_00)
