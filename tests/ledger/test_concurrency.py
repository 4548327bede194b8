"""Real concurrency: many threads, each with its own app context, session and connection,
released together by a barrier against the same accounts, on the suite's database (a
file SQLite database, or PostgreSQL when OFFLOAD_TEST_DATABASE_URL is set).

Each test collects every exception the threads raised and requires the set of their
types to be exactly the expected refusal: no "database is locked", no deadlock, no
serialization failure left unretried, nothing else.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from offload.core.db import atomic, db
from offload.core.errors import Conflict
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, IdempotencyKey, LedgerAccount, Transfer, TransferKind
from offload.ledger.services import (
    Cause,
    Idempotency,
    InsufficientFunds,
    Leg,
    post_batch,
    post_reservation,
    reserve,
    reverse_transfer,
    system_account,
    void_reservation,
)
from tests.support.factories import describe, race  # noqa: F401  (importable here)

from .support import Counters, counters, open_wallet, transfer_count

CAUSE = Cause("race", 1)


def error_kinds(errors: list[BaseException]) -> set[type]:
    return {type(e) for e in errors}


def test_50_debits_against_a_balance_covering_10_let_exactly_10_through_20_times(
        app, make_wallet, revenue):
    outcomes = []
    for _ in range(20):
        wallet = make_wallet(100)  # fresh accounts each run

        def debit(_i, wallet=wallet):
            return post_batch([Leg(wallet, revenue, 10, TransferKind.TRANSFER)],
                              cause=CAUSE, actor_id=None).batch_id

        results, errors = race(app, 50, debit)
        assert error_kinds(errors) <= {InsufficientFunds}, \
            describe(errors)
        outcomes.append((len(results), len(errors), counters(wallet)))
    assert outcomes == [(10, 40, Counters(0, 100, 0, 100))] * 20
    assert counters(revenue) == Counters(0, 0, 0, 20 * 100)
    assert transfer_count() == 20 * (1 + 10)  # each run: its top-up and ten debits


def test_50_holds_and_debits_mixed_never_overspend(app, make_wallet, revenue):
    for _ in range(3):
        wallet = make_wallet(100)

        def spend(i, wallet=wallet):
            leg = Leg(wallet, revenue, 10, TransferKind.TRANSFER)
            return post_batch([leg], cause=CAUSE, actor_id=None, pending=i % 2 == 0).batch_id

        results, errors = race(app, 50, spend)
        assert error_kinds(errors) <= {InsufficientFunds}, \
            describe(errors)
        assert (len(results), len(errors)) == (10, 40)
        held, posted = counters(wallet).debits_pending, counters(wallet).debits_posted
        assert held + posted == 100 and counters(wallet).available == 0


@pytest.mark.parametrize("run", range(3))
def test_40_attempts_to_post_or_void_one_reservation_resolve_it_once(
        app, make_wallet, revenue, run):
    wallet = make_wallet(1000)
    pending_id = reserve(Leg(wallet, revenue, 300, TransferKind.TRANSFER), cause=CAUSE,
                         actor_id=None).id
    attempts = {0: lambda: post_reservation(pending_id, actor_id=None),
                1: lambda: void_reservation(pending_id, actor_id=None),
                2: lambda: post_reservation(pending_id, amount=120, actor_id=None)}

    def resolve(i):
        return attempts[(i + run) % 3]().id

    results, errors = race(app, 40, resolve)
    assert error_kinds(errors) == {Conflict}, describe(errors)
    assert (len(results), len(errors)) == (1, 39)
    winner = db.session.get(Transfer, results[0])
    assert winner.pending_id == pending_id
    posted = 0 if winner.state == "void_pending" else winner.amount_minor
    assert counters(wallet) == Counters(0, posted, 0, 1000)
    assert counters(revenue) == Counters(0, 0, 0, posted)
    assert db.session.scalar(select(func.count()).select_from(Transfer)
                             .where(Transfer.pending_id == pending_id)) == 1


@pytest.mark.parametrize("payer", ["external", "wallet"])
def test_40_requests_with_one_idempotency_key_have_one_effect(
        app, make_member, external, revenue, payer):
    member_id = make_member().id  # threads get ids only: ORM objects belong to one session
    wallet = open_wallet(member_id)
    if payer == "external":  # money in: a double credit would show in the balance
        leg = Leg(external, wallet, 700, TransferKind.TRANSFER)
    else:  # money out of a wallet that covers it once: a replay must not be refused
        post_batch([Leg(external, wallet, 1000, TransferKind.TRANSFER)], cause=CAUSE,
                   actor_id=None)
        leg = Leg(wallet, revenue, 700, TransferKind.TRANSFER)
    key = Idempotency(member_id, "one-key", {"amount": 700})
    transfers_before = transfer_count()

    results, errors = race(app, 40, lambda _i: post_batch([leg], cause=CAUSE,
                                                          actor_id=member_id, idempotency=key))
    assert errors == [], describe(errors)
    assert Counter(b.replayed for b in results) == {False: 1, True: 39}
    assert len({(b.batch_id, b.transfer_ids) for b in results}) == 1
    assert transfer_count() == transfers_before + 1
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
    if payer == "external":
        assert counters(wallet) == Counters(0, 0, 0, 700)
    else:
        assert counters(wallet) == Counters(0, 700, 0, 1000)
        assert counters(revenue) == Counters(0, 0, 0, 700)



def test_20_threads_creating_one_system_account_make_one(app):
    def create(_i):
        with atomic():
            return system_account(AccountKind.ESCROW).id

    results, errors = race(app, 20, create)
    assert errors == [], describe(errors)
    assert len(set(results)) == 1 and len(results) == 20
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) == 1


def test_mixed_operations_on_one_wallet_keep_the_ledger_whole(app, make_wallet, revenue):
    """Resolutions (which insert first, then lock) racing with debits (which lock first,
    then insert) on the same two accounts: no deadlock escapes the retries, nothing but
    refusals for lack of money, and the counters add up."""
    wallet = make_wallet(500)
    holds = [reserve(Leg(wallet, revenue, 20, TransferKind.TRANSFER), cause=CAUSE,
                     actor_id=None).id for _ in range(10)]  # 200 held, 300 available

    def work(i):
        if i < 10:  # post even holds in part (5 of 20), void odd ones
            resolve = (post_reservation(holds[i], amount=5, actor_id=None) if i % 2 == 0
                       else void_reservation(holds[i], actor_id=None))
            return ("resolved", resolve.amount_minor if i % 2 == 0 else 0)
        post_batch([Leg(wallet, revenue, 10, TransferKind.TRANSFER)], cause=CAUSE,
                   actor_id=None)
        return ("debited", 10)

    results, errors = race(app, 50, work)
    assert error_kinds(errors) <= {InsufficientFunds}, describe(errors)
    resolved = [amount for what, amount in results if what == "resolved"]
    debited = [amount for what, amount in results if what == "debited"]
    assert len(resolved) == 10 and sum(resolved) == 25
    # at least the 300 available at the start was spendable; released holds add to it
    assert 30 <= len(debited) <= 40 and len(debited) + len(errors) == 40
    assert counters(wallet) == Counters(0, 25 + sum(debited), 0, 500)
    assert counters(wallet).available >= 0
    assert run_checks() == []


def test_10_reversals_between_the_same_two_accounts_all_go_through(app, make_wallet):
    """Reversals insert their row (whose foreign-key checks share-lock both accounts)
    and then lock the accounts: ten at once on one pair of accounts must neither
    deadlock past the retries nor refuse anything."""
    alice, bob = make_wallet(1000), make_wallet(1000)
    payments = [post_batch([Leg(alice, bob, 10, TransferKind.TRANSFER)], cause=CAUSE,
                           actor_id=None).transfer_ids[0] for _ in range(10)]

    results, errors = race(app, 10, lambda i: reverse_transfer(payments[i], actor_id=None,
                                                               memo="race").id)
    assert errors == [], describe(errors)
    assert len(set(results)) == 10
    assert counters(alice).balance == 1000 and counters(bob).balance == 1000
    assert run_checks() == []
