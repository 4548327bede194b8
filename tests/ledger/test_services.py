"""Every ledger operation and every refusal, on the real database.

Each refusal is checked for its error type *and* for having moved nothing: the four
counters of every account involved and the number of transfer rows are unchanged.
"""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from offload.core.db import atomic, db
from offload.core.errors import Conflict, Invalid
from offload.ledger.checks import run_checks
from offload.ledger.models import (
    AccountKind,
    IdempotencyKey,
    LedgerAccount,
    Transfer,
    TransferKind,
    TransferState,
)
from offload.ledger.services import (
    Batch,
    Cause,
    Idempotency,
    InsufficientFunds,
    Leg,
    commission_split,
    first_uncovered,
    lock_accounts,
    post_batch,
    post_reservation,
    post_transfer,
    reserve,
    reverse_transfer,
    system_account,
    void_reservation,
    wallet_account,
)

from .support import Counters, counters, open_system, open_wallet, transfer_count

CAUSE = Cause("test", 1)


def snapshot(*account_ids: int) -> tuple:
    return tuple(counters(a) for a in account_ids), transfer_count()


def move(debit: int, credit: int, amount: int, kind=TransferKind.TRANSFER, **kwargs) -> Transfer:
    return post_transfer(Leg(debit, credit, amount, kind), cause=CAUSE, actor_id=None, **kwargs)


def hold(debit: int, credit: int, amount: int, **kwargs) -> Transfer:
    return reserve(Leg(debit, credit, amount, TransferKind.TRANSFER), cause=CAUSE,
                   actor_id=None, **kwargs)


# --- accounts -------------------------------------------------------------------------

def test_wallet_account_is_created_once_per_member(make_member):
    alice, bob = make_member(), make_member()
    with atomic():
        first = wallet_account(alice.id)
        again = wallet_account(alice.id)
        other = wallet_account(bob.id)
    assert first.id == again.id != other.id
    assert (first.kind, first.owner_id, first.currency, first.no_overdraft) == (
        AccountKind.WALLET, alice.id, "USD", True)
    assert counters(first.id) == Counters(0, 0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) == 2


@pytest.mark.parametrize(("kind", "no_overdraft"), [
    (AccountKind.EXTERNAL, False), (AccountKind.PLATFORM_REVENUE, True),
    (AccountKind.ESCROW, True)])
def test_system_account_is_created_once(kind, no_overdraft):
    with atomic():
        first = system_account(kind)
    with atomic():
        again = system_account(kind)
    assert first.id == again.id
    assert (first.kind, first.owner_id, first.no_overdraft) == (kind, None, no_overdraft)
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) == 1


def test_a_wallet_is_not_a_system_account():
    with pytest.raises(ValueError), atomic():
        system_account(AccountKind.WALLET)


# --- posting ----------------------------------------------------------------------------

def test_post_moves_all_four_counters_and_records_the_transfer(make_member, external):
    alice = make_member()
    wallet = open_wallet(alice.id)
    t = post_transfer(Leg(external, wallet, 1000, TransferKind.TRANSFER, memo="top-up"),
                      cause=Cause("gift", 7), actor_id=alice.id)
    assert counters(wallet) == Counters(0, 0, 0, 1000)
    assert counters(external) == Counters(0, 1000, 0, 0)
    assert (counters(wallet).balance, counters(wallet).available) == (1000, 1000)
    t = db.session.get(Transfer, t.id, populate_existing=True)
    assert (t.debit_account_id, t.credit_account_id, t.amount_minor, t.currency) == (
        external, wallet, 1000, "USD")
    assert (t.kind, t.state, t.pending_id, t.reverses_id) == (
        TransferKind.TRANSFER, TransferState.POSTED, None, None)
    assert (t.cause_type, t.cause_id, t.actor_id, t.memo) == ("gift", 7, alice.id, "top-up")
    assert len(t.batch_id) == 32


def test_transfer_between_wallets_changes_both_balances(make_wallet):
    alice, bob = make_wallet(1000), make_wallet()
    move(alice, bob, 300)
    assert counters(alice) == Counters(0, 300, 0, 1000)
    assert counters(bob) == Counters(0, 0, 0, 300)
    assert (counters(alice).balance, counters(alice).available) == (700, 700)


@pytest.mark.ledger_only  # an escrow leg with a made-up cause: no milestone row
def test_a_multi_leg_batch_shares_one_batch_id(make_wallet, revenue, escrow):
    alice = make_wallet(1000)
    batch = post_batch([Leg(alice, revenue, 100, TransferKind.TRANSFER),
                        Leg(alice, escrow, 250, TransferKind.ESCROW)],
                       cause=CAUSE, actor_id=None)
    assert isinstance(batch, Batch) and not batch.replayed and len(batch.transfer_ids) == 2
    legs = db.session.scalars(select(Transfer).where(Transfer.batch_id == batch.batch_id)
                              .order_by(Transfer.id)).all()
    assert [t.id for t in legs] == list(batch.transfer_ids)
    assert [(t.credit_account_id, t.amount_minor) for t in legs] == [(revenue, 100), (escrow, 250)]
    assert counters(alice).balance == 650
    assert counters(revenue).balance == 100 and counters(escrow).balance == 250


def test_a_batch_whose_second_leg_overdraws_applies_no_leg(make_wallet, revenue):
    alice, bob = make_wallet(500), make_wallet()
    before = snapshot(alice, bob, revenue)
    with pytest.raises(InsufficientFunds):
        post_batch([Leg(alice, bob, 300, TransferKind.TRANSFER),
                    Leg(alice, revenue, 300, TransferKind.TRANSFER)],
                   cause=CAUSE, actor_id=None)
    assert snapshot(alice, bob, revenue) == before


def test_a_batch_whose_second_payer_is_short_applies_no_leg(make_wallet, revenue):
    alice, bob = make_wallet(500), make_wallet(50)
    before = snapshot(alice, bob, revenue)
    with pytest.raises(InsufficientFunds):
        post_batch([Leg(alice, revenue, 100, TransferKind.TRANSFER),
                    Leg(bob, revenue, 100, TransferKind.TRANSFER)],
                   cause=CAUSE, actor_id=None)
    assert snapshot(alice, bob, revenue) == before


def test_a_refused_batch_inside_an_outer_transaction_applies_no_leg(make_wallet, revenue):
    """A caller that catches the refusal and carries on must not commit half a batch.

    Fails today: post_batch joins the caller's transaction without a savepoint, so the
    first leg's counter change survives the refusal of the second (invariant 3).
    """
    alice, bob = make_wallet(500), make_wallet()
    before = snapshot(alice, bob, revenue)
    with atomic(), contextlib.suppress(InsufficientFunds):
        post_batch([Leg(alice, bob, 300, TransferKind.TRANSFER),
                    Leg(alice, revenue, 300, TransferKind.TRANSFER)],
                   cause=CAUSE, actor_id=None)
    assert snapshot(alice, bob, revenue) == before
    assert run_checks() == []


def test_a_refused_keyed_batch_inside_an_outer_transaction_leaves_its_key_unused(
        make_member, revenue, external):
    """Fails today, same cause as above: the key's claim is committed without an outcome,
    and the retry crashes on it (KeyError) instead of going ahead."""
    alice = make_member()
    wallet = open_wallet(alice.id)
    key = Idempotency(alice.id, "pay-1", {"amount": 700})
    with atomic(), contextlib.suppress(InsufficientFunds):
        move(wallet, revenue, 700, idempotency=key)
    move(external, wallet, 1000)
    batch = post_batch([Leg(wallet, revenue, 700, TransferKind.TRANSFER)], cause=CAUSE,
                       actor_id=alice.id, idempotency=key)
    assert not batch.replayed
    assert counters(wallet).balance == 300


@pytest.mark.parametrize("amount", [0, -1, -500])
def test_a_non_positive_amount_is_refused(make_wallet, amount):
    alice, bob = make_wallet(500), make_wallet()
    before = snapshot(alice, bob)
    with pytest.raises(Invalid):
        move(alice, bob, amount)
    with pytest.raises(Invalid):
        hold(alice, bob, amount)
    with pytest.raises(Invalid):  # one bad leg spoils the batch
        post_batch([Leg(alice, bob, 100, TransferKind.TRANSFER),
                    Leg(alice, bob, amount, TransferKind.TRANSFER)], cause=CAUSE, actor_id=None)
    assert snapshot(alice, bob) == before


def test_a_leg_from_an_account_to_itself_is_refused(make_wallet, external):
    alice = make_wallet(500)
    before = snapshot(alice, external)
    with pytest.raises(Invalid):
        move(alice, alice, 100)
    with pytest.raises(Invalid):
        hold(alice, alice, 100)
    with pytest.raises(Invalid):
        move(external, external, 100)
    assert snapshot(alice, external) == before


def test_an_overdraft_is_refused_naming_the_amounts(make_wallet):
    alice, bob = make_wallet(500), make_wallet()
    before = snapshot(alice, bob)
    with pytest.raises(InsufficientFunds) as refused:
        move(alice, bob, 501)
    assert "$5.00" in str(refused.value) and "$5.01" in str(refused.value)
    assert snapshot(alice, bob) == before
    move(alice, bob, 500)  # exactly the balance is fine
    assert counters(alice).available == 0


def test_held_money_is_not_available(make_wallet, revenue):
    alice, bob = make_wallet(500), make_wallet()
    hold(alice, revenue, 400)
    before = snapshot(alice, bob, revenue)
    with pytest.raises(InsufficientFunds) as refused:
        move(alice, bob, 200)  # balance 500 covers it, available 100 does not
    assert "$1.00" in str(refused.value) and "$2.00" in str(refused.value)
    with pytest.raises(InsufficientFunds):
        hold(alice, bob, 101)
    assert snapshot(alice, bob, revenue) == before


@pytest.mark.parametrize("kind", [AccountKind.PLATFORM_REVENUE, AccountKind.ESCROW])
def test_system_accounts_other_than_external_cannot_go_negative(make_wallet, kind):
    with atomic():
        account = system_account(kind).id
    alice = make_wallet()
    with pytest.raises(InsufficientFunds):
        move(account, alice, 1)
    assert counters(account) == Counters(0, 0, 0, 0)


def test_the_external_account_may_go_negative(make_wallet, external):
    alice = make_wallet()
    move(external, alice, 2500)
    hold(external, alice, 100)
    assert counters(external).balance == -2500
    assert counters(external).available == -2600


def test_first_uncovered_follows_the_order_of_the_legs_and_moves_nothing(make_wallet,
                                                                         external):
    alice, bob = make_wallet(500), make_wallet()
    hold(alice, external, 100)  # alice has 400 available
    before = snapshot(alice, bob, external)
    pay_bob, bob_back = (Leg(alice, bob, 400, TransferKind.TRANSFER),
                         Leg(bob, alice, 300, TransferKind.TRANSFER))
    with atomic():
        lock_accounts({alice, bob, external})  # the checks below touch all three
        assert first_uncovered([pay_bob, bob_back]) is None  # bob is paid before he pays
        assert first_uncovered([bob_back, pay_bob]) == bob_back  # bob has nothing yet
        assert first_uncovered([pay_bob, Leg(alice, bob, 1, TransferKind.TRANSFER)]) \
            == Leg(alice, bob, 1, TransferKind.TRANSFER)  # the hold isn't available
        assert first_uncovered([Leg(external, bob, 10**9, TransferKind.DEPOSIT)]) is None
    assert snapshot(alice, bob, external) == before


# --- reservations -----------------------------------------------------------------------

def test_reserve_lowers_available_but_not_balance(make_wallet, revenue):
    alice = make_wallet(1000)
    t = hold(alice, revenue, 300)
    assert t.state == TransferState.PENDING and t.pending_id is None
    assert counters(alice) == Counters(300, 0, 0, 1000)
    assert (counters(alice).balance, counters(alice).available) == (1000, 700)
    assert counters(revenue) == Counters(0, 0, 300, 0)
    assert counters(revenue).balance == 0


def test_post_a_reservation_in_full(make_wallet, revenue):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 300)
    resolution = post_reservation(pending.id, actor_id=None)
    assert (resolution.state, resolution.pending_id, resolution.amount_minor) == (
        TransferState.POST_PENDING, pending.id, 300)
    assert (resolution.debit_account_id, resolution.credit_account_id) == (alice, revenue)
    assert resolution.batch_id != pending.batch_id
    assert counters(alice) == Counters(0, 300, 0, 1000)
    assert counters(revenue) == Counters(0, 0, 0, 300)
    assert counters(alice).available == 700


def test_post_part_of_a_reservation_returns_the_rest(make_wallet, revenue):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 300)
    resolution = post_reservation(pending.id, amount=120, actor_id=None)
    assert (resolution.state, resolution.amount_minor) == (TransferState.POST_PENDING, 120)
    assert counters(alice) == Counters(0, 120, 0, 1000)
    assert counters(revenue) == Counters(0, 0, 0, 120)
    assert (counters(alice).balance, counters(alice).available) == (880, 880)


def test_void_a_reservation_returns_all_of_it(make_wallet, revenue):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 300)
    resolution = void_reservation(pending.id, actor_id=None)
    assert (resolution.state, resolution.amount_minor, resolution.pending_id) == (
        TransferState.VOID_PENDING, 300, pending.id)
    assert counters(alice) == Counters(0, 0, 0, 1000)
    assert counters(revenue) == Counters(0, 0, 0, 0)


FIRST = {"post": lambda p: post_reservation(p, actor_id=None),
         "part": lambda p: post_reservation(p, amount=1, actor_id=None),
         "void": lambda p: void_reservation(p, actor_id=None)}


@pytest.mark.parametrize("first", sorted(FIRST))
@pytest.mark.parametrize("second", sorted(FIRST))
def test_a_reservation_is_resolved_once(make_wallet, revenue, first, second):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 300)
    FIRST[first](pending.id)
    before = snapshot(alice, revenue)
    with pytest.raises(Conflict):
        FIRST[second](pending.id)
    assert snapshot(alice, revenue) == before


@pytest.mark.parametrize("amount", [301, 0, -5])
def test_post_outside_the_reserved_amount_is_refused(make_wallet, revenue, amount):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 300)
    before = snapshot(alice, revenue)
    with pytest.raises(Invalid):
        post_reservation(pending.id, amount=amount, actor_id=None)
    assert snapshot(alice, revenue) == before
    post_reservation(pending.id, amount=300, actor_id=None)  # still open, and exactly is fine
    assert counters(alice) == Counters(0, 300, 0, 1000)


def test_only_reservations_can_be_posted_or_voided(make_wallet, revenue):
    alice = make_wallet(1000)
    posted = move(alice, revenue, 100)
    pending = hold(alice, revenue, 100)
    resolution = void_reservation(pending.id, actor_id=None)
    before = snapshot(alice, revenue)
    for transfer_id in (posted.id, resolution.id, 999_999):
        with pytest.raises(Invalid):
            post_reservation(transfer_id, actor_id=None)
        with pytest.raises(Invalid):
            void_reservation(transfer_id, actor_id=None)
    assert snapshot(alice, revenue) == before


# --- idempotency ------------------------------------------------------------------------

def test_the_same_key_and_request_replays_the_first_outcome(make_member, external):
    alice = make_member()
    wallet = open_wallet(alice.id)
    key = Idempotency(alice.id, "key-1", {"amount": 1000})
    legs = [Leg(external, wallet, 1000, TransferKind.TRANSFER)]
    first = post_batch(legs, cause=CAUSE, actor_id=alice.id, idempotency=key)
    again = post_batch(legs, cause=CAUSE, actor_id=alice.id, idempotency=key)
    assert not first.replayed and again.replayed
    assert (again.batch_id, again.transfer_ids) == (first.batch_id, first.transfer_ids)
    assert counters(wallet) == Counters(0, 0, 0, 1000)
    assert transfer_count() == 1
    stored = db.session.get(IdempotencyKey, (alice.id, "key-1"))
    assert stored.batch_id == first.batch_id
    # the single-leg helpers replay to the very same transfer
    t = move(external, wallet, 1000, idempotency=key)
    assert t.id == first.transfer_ids[0] and transfer_count() == 1


def test_a_replayed_reservation_reserves_once(make_member, revenue, external):
    alice = make_member()
    wallet = open_wallet(alice.id)
    move(external, wallet, 1000)
    key = Idempotency(alice.id, "click-1", {"gig": 3})
    first, again = hold(wallet, revenue, 200, idempotency=key), hold(wallet, revenue, 200,
                                                                       idempotency=key)
    assert first.id == again.id
    assert counters(wallet) == Counters(200, 0, 0, 1000)


def test_the_same_key_with_another_request_is_refused(make_member, external):
    alice = make_member()
    wallet = open_wallet(alice.id)
    move(external, wallet, 1000,
         idempotency=Idempotency(alice.id, "key-1", {"amount": 1000}))
    before = snapshot(wallet, external)
    with pytest.raises(Conflict):
        move(external, wallet, 2000,
             idempotency=Idempotency(alice.id, "key-1", {"amount": 2000}))
    assert snapshot(wallet, external) == before


def test_a_failed_request_does_not_use_up_its_key(make_member, revenue, external):
    alice = make_member()
    wallet = open_wallet(alice.id)
    key = Idempotency(alice.id, "pay-1", {"amount": 700})
    with pytest.raises(InsufficientFunds):
        move(wallet, revenue, 700, idempotency=key)
    assert db.session.get(IdempotencyKey, (alice.id, "pay-1")) is None
    move(external, wallet, 1000)
    batch = post_batch([Leg(wallet, revenue, 700, TransferKind.TRANSFER)], cause=CAUSE,
                       actor_id=alice.id, idempotency=key)
    assert not batch.replayed
    assert counters(wallet).balance == 300


def test_keys_belong_to_one_member(make_member, external):
    alice, bob = make_member(), make_member()
    a, b = open_wallet(alice.id), open_wallet(bob.id)
    first = post_batch([Leg(external, a, 100, TransferKind.TRANSFER)], cause=CAUSE,
                       actor_id=None, idempotency=Idempotency(alice.id, "same", {"x": 1}))
    other = post_batch([Leg(external, b, 100, TransferKind.TRANSFER)], cause=CAUSE,
                       actor_id=None, idempotency=Idempotency(bob.id, "same", {"x": 1}))
    assert not other.replayed and other.batch_id != first.batch_id
    assert counters(a).balance == counters(b).balance == 100


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_a_missing_or_overlong_key_is_refused(make_member, external, key):
    alice = make_member()
    wallet = open_wallet(alice.id)
    with pytest.raises(Invalid):
        move(external, wallet, 100,
             idempotency=Idempotency(alice.id, key, {}))
    assert counters(wallet) == Counters(0, 0, 0, 0) and transfer_count() == 0


# --- reversals ----------------------------------------------------------------------------

def test_reverse_a_transfer(make_wallet):
    alice, bob = make_wallet(1000), make_wallet()
    original = move(alice, bob, 300)
    reversal = reverse_transfer(original.id, actor_id=None, memo="sent by mistake")
    assert (reversal.debit_account_id, reversal.credit_account_id, reversal.amount_minor) == (
        bob, alice, 300)
    assert (reversal.kind, reversal.state, reversal.reverses_id, reversal.memo) == (
        TransferKind.REVERSAL, TransferState.POSTED, original.id, "sent by mistake")
    assert (reversal.cause_type, reversal.cause_id) == (CAUSE.type, CAUSE.id)
    assert counters(alice) == Counters(0, 300, 0, 1300)
    assert counters(bob) == Counters(0, 300, 0, 300)
    assert counters(alice).balance == 1000 and counters(bob).balance == 0


def test_a_posted_reservation_can_be_reversed(make_wallet):
    alice, bob = make_wallet(1000), make_wallet()
    pending = hold(alice, bob, 400)
    posted = post_reservation(pending.id, amount=250, actor_id=None)
    reverse_transfer(posted.id, actor_id=None, memo="refund")
    assert counters(alice).balance == 1000 and counters(bob).balance == 0


def test_a_transfer_is_reversed_once(make_wallet):
    alice, bob = make_wallet(1000), make_wallet(1000)
    original = move(alice, bob, 300)
    reverse_transfer(original.id, actor_id=None, memo="once")
    before = snapshot(alice, bob)
    with pytest.raises(Conflict):
        reverse_transfer(original.id, actor_id=None, memo="twice")
    assert snapshot(alice, bob) == before


def test_a_second_reversal_is_a_conflict_even_when_the_receiver_is_empty(make_wallet):
    """"Already reversed" is the true reason, whatever the receiver's balance.

    Fails today: reverse_transfer moves the counters before it inserts the reversal
    (whose unique ``reverses_id`` is what refuses a second one), so an emptied receiver
    makes the second attempt report "doesn't cover" instead.
    """
    alice, bob = make_wallet(1000), make_wallet()
    original = move(alice, bob, 300)
    reverse_transfer(original.id, actor_id=None, memo="once")
    before = snapshot(alice, bob)
    with pytest.raises(Conflict):
        reverse_transfer(original.id, actor_id=None, memo="twice")
    assert snapshot(alice, bob) == before


def test_a_reversal_the_receiver_cannot_cover_is_refused(make_wallet, revenue):
    alice, bob = make_wallet(1000), make_wallet()
    original = move(alice, bob, 300)
    move(bob, revenue, 100)  # bob spent some of it
    before = snapshot(alice, bob, revenue)
    with pytest.raises(InsufficientFunds):
        reverse_transfer(original.id, actor_id=None, memo="too late")
    assert snapshot(alice, bob, revenue) == before


def test_only_posted_transfers_can_be_reversed(make_wallet, revenue):
    alice = make_wallet(1000)
    pending = hold(alice, revenue, 100)
    other = hold(alice, revenue, 100)
    void = void_reservation(other.id, actor_id=None)
    before = snapshot(alice, revenue)
    for transfer_id in (pending.id, void.id, 999_999):
        with pytest.raises(Invalid):
            reverse_transfer(transfer_id, actor_id=None, memo="no")
    assert snapshot(alice, revenue) == before


# --- commission ---------------------------------------------------------------------------

@pytest.mark.parametrize(("invoiced", "commission", "platform", "referrer"), [
    (12345, 1234, 370, 864),  # 10% and 3% of $123.45, each rounded down
    (100, 10, 3, 7),
    (99, 9, 2, 7),
    (1, 0, 0, 0),
    (0, 0, 0, 0),
    (1_000_000_00, 100_000_00, 30_000_00, 70_000_00),
])
def test_commission_split_examples(invoiced, commission, platform, referrer):
    parts = commission_split(invoiced, commission_bps=1000, platform_bps=300)
    assert (parts.commission, parts.platform, parts.referrer) == (commission, platform, referrer)


def test_commission_split_matches_the_design_formula():
    # ledger.md: commission = g * 10 // 100, platform = g * 3 // 100
    for g in (0, 1, 7, 33, 99, 12345, 987654321):
        parts = commission_split(g, commission_bps=1000, platform_bps=300)
        assert (parts.commission, parts.platform) == (g * 10 // 100, g * 3 // 100)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoiced=st.integers(min_value=0, max_value=10**15),
       rates=st.integers(min_value=0, max_value=10_000).flatmap(
           lambda c: st.tuples(st.just(c), st.integers(min_value=0, max_value=c))))
@example(invoiced=12345, rates=(1000, 300))
@example(invoiced=10**15, rates=(10_000, 10_000))
def test_commission_parts_always_add_up(invoiced, rates):
    commission_bps, platform_bps = rates
    parts = commission_split(invoiced, commission_bps=commission_bps, platform_bps=platform_bps)
    assert parts.platform + parts.referrer == parts.commission
    assert 0 <= parts.platform <= parts.commission <= invoiced
    assert parts.referrer >= 0
    assert parts.commission == invoiced * commission_bps // 10_000
    assert all(isinstance(p, int) for p in (parts.commission, parts.platform, parts.referrer))


@pytest.mark.parametrize(("invoiced", "commission_bps", "platform_bps"), [
    (-1, 1000, 300), (100, 300, 1000), (100, 10_001, 300), (100, 1000, -1)])
def test_commission_split_refuses_nonsense(invoiced, commission_bps, platform_bps):
    with pytest.raises(Invalid):
        commission_split(invoiced, commission_bps=commission_bps, platform_bps=platform_bps)


@pytest.mark.ledger_only  # its cause is made up: no commission row
def test_a_commission_batch_passes_the_ledger_check(make_wallet, revenue):
    payer, referrer = make_wallet(20000), make_wallet()
    parts = commission_split(12345, commission_bps=1000, platform_bps=300)
    post_batch([Leg(payer, revenue, parts.platform, TransferKind.COMMISSION),
                Leg(payer, referrer, parts.referrer, TransferKind.COMMISSION)],
               cause=Cause("project", 1), actor_id=None)
    assert counters(payer).balance == 20000 - 1234
    assert (counters(revenue).balance, counters(referrer).balance) == (370, 864)
    assert run_checks() == []


# --- lock order ----------------------------------------------------------------------

def ids_around_revenue(make_wallet) -> tuple[int, int, int]:
    """A wallet below the revenue account and one above it, as early and late members'."""
    low = make_wallet(500)
    revenue = open_system(AccountKind.PLATFORM_REVENUE)
    return low, revenue, make_wallet(500)

@pytest.mark.ledger_only
def test_an_account_locked_below_one_already_held_is_refused_in_strict_mode(
        make_wallet):
    """Step by step, a transaction that holds revenue and then reaches for a lower
    wallet deadlocks with one that holds that wallet and waits for revenue."""
    low, revenue, high = ids_around_revenue(make_wallet)
    assert low < revenue < high
    before = snapshot(low, high, revenue)
    with pytest.raises(RuntimeError, match="locked after"), atomic():
        move(high, revenue, 100)
        move(low, revenue, 100)
    assert snapshot(low, high, revenue) == before


@pytest.mark.ledger_only
def test_accounts_locked_up_front_may_move_in_any_order(make_wallet):
    low, revenue, high = ids_around_revenue(make_wallet)
    with atomic():
        lock_accounts({high, revenue, low})
        move(high, revenue, 100)
        move(low, revenue, 100)
    assert counters(revenue).credits_posted == 200


@pytest.mark.ledger_only
def test_an_out_of_order_lock_is_logged_when_not_strict(app, make_wallet, caplog):
    low, revenue, high = ids_around_revenue(make_wallet)
    app.config["LEDGER_STRICT_LOCK_ORDER"] = False
    try:
        with atomic():
            move(high, revenue, 100)
            move(low, revenue, 100)
    finally:
        app.config["LEDGER_STRICT_LOCK_ORDER"] = True
    assert "locked after" in caplog.text


@pytest.mark.ledger_only
def test_each_transaction_starts_with_no_account_locked(make_wallet):
    low, revenue, high = ids_around_revenue(make_wallet)
    move(high, revenue, 100)  # one transaction...
    move(low, revenue, 100)  # ...and another: no order between them
    assert counters(revenue).credits_posted == 200


@pytest.mark.ledger_only
def test_money_movements_are_logged_only_once_committed(make_wallet, caplog):
    alice, bob = make_wallet(1000), make_wallet()
    caplog.set_level("INFO", logger="offload.ledger")
    with contextlib.suppress(RuntimeError), atomic():
        pending = hold(alice, bob, 300)
        post_reservation(pending.id, actor_id=None)
        raise RuntimeError("the request fails after moving money: all of it rolls back")
    assert [r.message for r in caplog.records] == []
    pending = hold(alice, bob, 300)
    void_reservation(pending.id, actor_id=None)
    assert [r.message for r in caplog.records] == ["ledger batch", "ledger reservation settled"]
    assert caplog.records[1].void is True
