"""The ledger check catches each kind of corruption, naming the invariant and the accounts.

Every corruption is raw SQL inside the test session's transaction, and the checks run
in that same transaction (``checks_here``: ``run_checks`` itself reads committed data
only, on a connection of its own); the transaction is then rolled back. Both SQLite and
PostgreSQL have transactional DDL, so dropped triggers and constraints come back with
it and the suite's own ledger check after the test sees a clean ledger.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from offload.core.db import db, is_postgresql
from offload.ledger.checks import LEDGER_CHECKS, Failure, run_checks
from offload.ledger.models import (
    DROP_IMMUTABLE_TRANSFERS_POSTGRESQL,
    DROP_IMMUTABLE_TRANSFERS_SQLITE,
    IMMUTABLE_TRANSFERS_POSTGRESQL,
    IMMUTABLE_TRANSFERS_SQLITE,
    IdempotencyKey,
    LedgerAccount,
    Transfer,
    TransferKind,
)
from offload.ledger.services import (
    Cause,
    Idempotency,
    Leg,
    post_batch,
    post_reservation,
    post_transfer,
    reserve,
    void_reservation,
)

from .support import open_wallet

CAUSE = Cause("test", 1)


def checks_here() -> list[Failure]:
    """The ledger's checks on the corruption this test's transaction holds."""
    return run_checks(in_current_transaction=True)


def sql(statement: str, **params) -> None:
    db.session.execute(text(statement), params)


@contextmanager
def tampering():
    """Corrupt the ledger inside one transaction that is always rolled back."""
    db.session.rollback()
    try:
        yield
    finally:
        if not is_postgresql():
            sql("PRAGMA ignore_check_constraints = OFF")  # a connection setting: no rollback
        db.session.rollback()


def lift_immutability() -> None:
    for statement in (DROP_IMMUTABLE_TRANSFERS_POSTGRESQL if is_postgresql()
                      else DROP_IMMUTABLE_TRANSFERS_SQLITE):
        sql(statement)


def restore_immutability() -> None:
    for statement in (IMMUTABLE_TRANSFERS_POSTGRESQL if is_postgresql()
                      else IMMUTABLE_TRANSFERS_SQLITE):
        sql(statement)


def rewrite_transfers(statement: str, **params) -> None:
    """UPDATE or DELETE transfers the database would refuse: lift the triggers around it."""
    lift_immutability()
    sql(statement, **params)
    restore_immutability()


def lift_check_constraints(table: str, *names: str) -> None:
    if is_postgresql():
        for name in names:
            sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    else:
        sql("PRAGMA ignore_check_constraints = ON")


def lift_unique(table: str, name: str) -> None:
    """Drop a UNIQUE constraint; SQLite cannot, so the table is copied without it."""
    if is_postgresql():
        sql(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        return
    if table == "transfers":
        lift_immutability()
    sql(f"ALTER TABLE {table} RENAME TO {table}_strict")
    sql(f"CREATE TABLE {table} AS SELECT * FROM {table}_strict")
    if table == "transfers":
        sql("DROP TRIGGER IF EXISTS transfers_no_update")  # moved with the renamed table
        sql("DROP TRIGGER IF EXISTS transfers_no_delete")
        restore_immutability()


def add_counters(account_id: int, **deltas: int) -> None:
    sets = ", ".join(f"{name} = {name} + :{name}" for name in deltas)
    sql(f"UPDATE ledger_accounts SET {sets} WHERE id = :id", id=account_id, **deltas)


def insert_transfer(id: int, debit: int, credit: int, amount: int, state: str = "posted",
                    kind: str = "transfer", pending_id: int | None = None,
                    batch_id: str = "f" * 32) -> None:
    sql("INSERT INTO transfers (id, batch_id, debit_account_id, credit_account_id, "
        "amount_minor, currency, kind, state, pending_id, memo, created_at) VALUES "
        "(:id, :batch_id, :debit, :credit, :amount, 'USD', :kind, :state, :pending_id, '', "
        "CURRENT_TIMESTAMP)", id=id, batch_id=batch_id, debit=debit, credit=credit,
        amount=amount, kind=kind, state=state, pending_id=pending_id)


def invariants(failures: list[Failure]) -> set[int]:
    return {f.invariant for f in failures}


def named(failures: list[Failure], invariant: int) -> set[int]:
    """Every account id the failures of ``invariant`` name."""
    return {a for f in failures if f.invariant == invariant for a in f.account_ids}


@dataclass
class Ledger:
    """A small ledger with one of everything; ids of the accounts and transfers."""

    alice: int
    bob: int
    carol: int
    revenue: int
    external: int
    deposit: int  # external → alice 1000
    payment: int  # alice → bob 300, posted
    open_hold: int  # alice → revenue 200, pending
    charged_hold: int  # alice → revenue 100, pending, then posted 60 of it:
    charge: int  # ...this resolution
    voided_hold: int  # alice → revenue 50, pending, then voided:
    void: int  # ...this resolution
    keyed_batch: str  # bob → carol 10, sent with bob's idempotency key "k"


@pytest.fixture
def ledger(make_member, external, revenue) -> Ledger:
    alice_m, bob_m, carol_m = make_member(), make_member(), make_member()
    alice, bob, carol = open_wallet(alice_m.id), open_wallet(bob_m.id), open_wallet(carol_m.id)

    def post(debit, credit, amount, kind=TransferKind.TRANSFER):
        return post_transfer(Leg(debit, credit, amount, kind), cause=CAUSE, actor_id=None).id

    def hold(amount):
        return reserve(Leg(alice, revenue, amount, TransferKind.TRANSFER), cause=CAUSE,
                       actor_id=None).id

    deposit = post(external, alice, 1000)
    payment = post(alice, bob, 300)
    open_hold, charged_hold, voided_hold = hold(200), hold(100), hold(50)
    charge = post_reservation(charged_hold, amount=60, actor_id=None).id
    void = void_reservation(voided_hold, actor_id=None).id
    keyed = post_batch([Leg(bob, carol, 10, TransferKind.TRANSFER)], cause=CAUSE, actor_id=None,
                       idempotency=Idempotency(bob_m.id, "k", {"amount": 10}))
    db.session.commit()
    assert run_checks() == []
    return Ledger(alice, bob, carol, revenue, external, deposit, payment, open_hold,
                  charged_hold, charge, voided_hold, void, keyed.batch_id)


# --- 1. transfer shape ----------------------------------------------------------------------

@pytest.mark.parametrize(("corruption", "also"), [
    ("UPDATE transfers SET amount_minor = 0 WHERE id = :id", {3}),
    ("UPDATE transfers SET amount_minor = -300 WHERE id = :id", {3}),
    ("UPDATE transfers SET currency = 'EUR' WHERE id = :id", set()),
])
def test_a_malformed_transfer_breaks_invariant_1(ledger, corruption, also):
    with tampering():
        lift_check_constraints("transfers", "ck_transfers_amount_positive")
        rewrite_transfers(corruption, id=ledger.payment)
        failures = checks_here()
        assert invariants(failures) == {1} | also
        assert named(failures, 1) == {ledger.alice, ledger.bob}
        assert f"transfer {ledger.payment} " in str(failures)


def test_a_transfer_to_the_same_account_breaks_invariant_1(ledger):
    with tampering():
        lift_check_constraints("transfers", "ck_transfers_two_accounts")
        rewrite_transfers("UPDATE transfers SET credit_account_id = debit_account_id "
                          "WHERE id = :id", id=ledger.payment)
        failures = checks_here()
        assert 1 in invariants(failures) and named(failures, 1) == {ledger.alice}


def test_an_account_in_another_currency_breaks_invariant_1(ledger):
    with tampering():
        sql("UPDATE ledger_accounts SET currency = 'EUR' WHERE id = :id", id=ledger.carol)
        failures = checks_here()
        assert invariants(failures) == {1}
        assert named(failures, 1) == {ledger.bob, ledger.carol}  # its one transfer
        assert len(failures) == 1


# --- 2. zero sum ----------------------------------------------------------------------------

@pytest.mark.parametrize(("column", "word"), [("credits_posted", "posted"),
                                              ("debits_pending", "pending")])
def test_money_from_nowhere_breaks_invariant_2(ledger, column, word):
    with tampering():
        add_counters(ledger.bob, **{column: 5})
        failures = checks_here()
        assert invariants(failures) == {2, 3}
        [zero_sum] = [f for f in failures if f.invariant == 2]
        assert zero_sum.detail.startswith(word)
        assert named(failures, 3) == {ledger.bob}  # the sum has no culprit; the recount does


# --- 3. counters match transfers ------------------------------------------------------------

def test_counters_that_disagree_with_the_transfers_break_invariant_3(ledger):
    with tampering():  # moved between two accounts: the sums still balance
        add_counters(ledger.bob, credits_posted=-100)
        add_counters(ledger.revenue, credits_posted=100)
        add_counters(ledger.alice, debits_pending=-20)
        add_counters(ledger.external, debits_pending=20)
        failures = checks_here()
        assert invariants(failures) == {3}
        assert named(failures, 3) == {ledger.bob, ledger.revenue, ledger.alice, ledger.external}
        assert "credits_posted is 200, transfers say 300" in str(failures)


def test_a_transfer_without_its_counters_breaks_invariant_3(ledger):
    with tampering():
        insert_transfer(9001, ledger.alice, ledger.bob, 5)
        failures = checks_here()
        assert invariants(failures) == {3} and named(failures, 3) == {ledger.alice, ledger.bob}


def test_a_deleted_transfer_breaks_invariant_3(ledger):
    with tampering():
        rewrite_transfers("DELETE FROM transfers WHERE id = :id", id=ledger.payment)
        failures = checks_here()
        assert invariants(failures) == {3} and named(failures, 3) == {ledger.alice, ledger.bob}


# --- 4. no overdraft ------------------------------------------------------------------------

def test_an_overdrawn_wallet_breaks_invariant_4(ledger):
    with tampering():  # a transfer the services would have refused, counted consistently
        lift_check_constraints("ledger_accounts", "ck_ledger_accounts_no_overdraft")
        insert_transfer(9001, ledger.bob, ledger.carol, 5000)
        add_counters(ledger.bob, debits_posted=5000)
        add_counters(ledger.carol, credits_posted=5000)
        failures = checks_here()
        assert invariants(failures) == {4} and named(failures, 4) == {ledger.bob}


def open_debt(owner_account: int) -> int:
    """A debt account (owing nothing yet) for the owner of the wallet ``owner_account``;
    its id."""
    owner = db.session.scalar(select(LedgerAccount.owner_id).where(
        LedgerAccount.id == owner_account))
    sql("INSERT INTO ledger_accounts (id, kind, owner_id, currency, no_overdraft, "
        "debits_pending, debits_posted, credits_pending, credits_posted, created_at) VALUES "
        "(9100, 'debt', :owner, 'USD', false, 0, 0, 0, 0, CURRENT_TIMESTAMP)", owner=owner)
    return 9100


def move(id: int, debit: int, credit: int, amount: int, kind: str) -> None:
    insert_transfer(id, debit, credit, amount, kind=kind)
    add_counters(debit, debits_posted=amount)
    add_counters(credit, credits_posted=amount)


def test_a_debt_paid_back_beyond_what_is_owed_breaks_invariant_12(ledger):
    with tampering():
        debt = open_debt(ledger.alice)
        move(9001, debt, ledger.revenue, 100, "chargeback")
        move(9002, ledger.alice, debt, 100, "debt_repayment")
        assert checks_here() == []  # owed, then paid: at zero
        move(9003, ledger.alice, debt, 1, "debt_repayment")  # one cent too many
        failures = checks_here()
        assert invariants(failures) == {12} and named(failures, 12) == {debt}


def test_a_debt_moved_by_anything_but_a_chargeback_or_its_repayment_breaks_invariant_12(
        ledger):
    with tampering():
        debt = open_debt(ledger.alice)
        move(9001, debt, ledger.bob, 100, "transfer")  # a debt spent as money
        failures = checks_here()
        assert invariants(failures) == {12} and named(failures, 12) == {debt, ledger.bob}


def test_the_external_account_is_never_overdrawn(ledger):
    with tampering():
        insert_transfer(9001, ledger.external, ledger.carol, 10**9)
        add_counters(ledger.external, debits_posted=10**9)
        add_counters(ledger.carol, credits_posted=10**9)
        assert checks_here() == []


# --- 5. reservations resolved once ----------------------------------------------------------

def test_a_reservation_resolved_twice_breaks_invariant_5(ledger):
    with tampering():
        lift_unique("transfers", "uq_transfers_pending_id")
        insert_transfer(9001, ledger.alice, ledger.revenue, 100, state="void_pending",
                        pending_id=ledger.charged_hold)
        failures = checks_here()
        assert invariants(failures) == {5}
        assert named(failures, 5) == {ledger.alice, ledger.revenue}
        assert "resolved twice" in str(failures)


def test_posting_more_than_was_reserved_breaks_invariant_5(ledger):
    with tampering():  # 150 of 100 posted, with counters to match
        rewrite_transfers("UPDATE transfers SET amount_minor = 150 WHERE id = :id",
                          id=ledger.charge)
        add_counters(ledger.alice, debits_posted=90)
        add_counters(ledger.revenue, credits_posted=90)
        failures = checks_here()
        assert invariants(failures) == {5}
        assert named(failures, 5) == {ledger.alice, ledger.revenue}
        assert "posts 150 of 100 reserved" in str(failures)


def test_voiding_another_amount_than_was_reserved_breaks_invariant_5(ledger):
    with tampering():
        rewrite_transfers("UPDATE transfers SET amount_minor = 20 WHERE id = :id", id=ledger.void)
        failures = checks_here()
        assert invariants(failures) == {5} and "voids 20 of 50 reserved" in str(failures)


def test_resolving_a_transfer_that_was_not_reserved_breaks_invariant_5(ledger):
    with tampering():
        insert_transfer(9001, ledger.alice, ledger.bob, 300, state="void_pending",
                        pending_id=ledger.payment)
        failures = checks_here()
        assert invariants(failures) == {5} and named(failures, 5) == {ledger.alice, ledger.bob}
        assert "not a reservation" in str(failures)


def test_a_resolution_between_other_accounts_breaks_invariant_5(ledger):
    with tampering():
        rewrite_transfers("UPDATE transfers SET credit_account_id = :bob WHERE id = :id",
                          bob=ledger.bob, id=ledger.void)
        failures = checks_here()
        assert invariants(failures) == {5} and named(failures, 5) == {ledger.alice, ledger.bob}
        assert "other accounts" in str(failures)


# --- 6. one effect per idempotency key ------------------------------------------------------

def test_a_key_whose_batch_is_missing_breaks_invariant_6(ledger):
    with tampering():
        sql("UPDATE idempotency_keys SET batch_id = :b", b="0" * 32)
        failures = checks_here()
        assert invariants(failures) == {6}
        key = db.session.scalars(select(IdempotencyKey)).one()
        assert f"member {key.member_id}" in str(failures)


def test_a_key_whose_transfers_were_deleted_breaks_invariant_6(ledger):
    with tampering():  # the effect erased, counters put back: only the key remembers it
        rewrite_transfers("DELETE FROM transfers WHERE batch_id = :b", b=ledger.keyed_batch)
        add_counters(ledger.bob, debits_posted=-10)
        add_counters(ledger.carol, credits_posted=-10)
        assert invariants(checks_here()) == {6}


def test_two_keys_naming_one_batch_break_invariant_6(ledger, make_member):
    """check_idempotency promises "no batch has two keys" but only checks that each
    key's batch exists: with the unique index gone, a second key on the same batch
    passes unnoticed. Fails until the check counts keys per batch."""
    other = make_member()
    db.session.commit()
    with tampering():
        lift_unique("idempotency_keys", "uq_idempotency_keys_batch_id")
        sql("INSERT INTO idempotency_keys (member_id, key, fingerprint, batch_id, outcome, "
            "created_at) VALUES (:m, 'k2', 'x', :b, '{}', CURRENT_TIMESTAMP)",
            m=other.id, b=ledger.keyed_batch)
        assert invariants(checks_here()) == {6}


# --- 7. transfers are immutable -------------------------------------------------------------

@pytest.mark.parametrize("statement", [
    "UPDATE transfers SET amount_minor = 1 WHERE id = :id",
    "UPDATE transfers SET memo = 'edited' WHERE id = :id",
    "DELETE FROM transfers WHERE id = :id",
])
def test_the_database_refuses_to_change_a_transfer(ledger, statement):
    with pytest.raises(DBAPIError, match="transfers are immutable"):
        sql(statement, id=ledger.payment)
    db.session.rollback()
    with pytest.raises(DBAPIError, match="transfers are immutable"):
        sql("DELETE FROM transfers")
    db.session.rollback()
    payment = db.session.get(Transfer, ledger.payment, populate_existing=True)
    assert (payment.amount_minor, payment.memo) == (300, "")


def test_the_orm_cannot_change_a_transfer_either(ledger):
    payment = db.session.get(Transfer, ledger.payment)
    payment.amount_minor = 1
    with pytest.raises(DBAPIError, match="transfers are immutable"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(Transfer, ledger.payment))
    with pytest.raises(DBAPIError, match="transfers are immutable"):
        db.session.commit()
    db.session.rollback()


def test_missing_immutability_triggers_break_invariant_7(ledger):
    with tampering():
        lift_immutability()
        failures = checks_here()
        assert invariants(failures) == {7}
        assert "transfers_immutable" in str(failures) if is_postgresql() else (
            "transfers_no_delete" in str(failures) and "transfers_no_update" in str(failures))


def test_a_switched_off_immutability_trigger_breaks_invariant_7(ledger):
    """The trigger keeps its name but no longer refuses anything (PostgreSQL: disabled,
    as after a maintenance script that forgot to re-enable it; SQLite: replaced by a
    no-op). Fails until check_immutability looks at what the triggers do, not only at
    their names."""
    with tampering():
        if is_postgresql():
            sql("ALTER TABLE transfers DISABLE TRIGGER transfers_immutable")
        else:
            sql("DROP TRIGGER transfers_no_update")
            sql("CREATE TRIGGER transfers_no_update BEFORE UPDATE ON transfers "
                "BEGIN SELECT 1; END")
        sql("UPDATE transfers SET memo = 'edited' WHERE id = :id", id=ledger.payment)  # goes
        assert invariants(checks_here()) == {7}


# --- 8. commission parts --------------------------------------------------------------------

@pytest.fixture
def commission(ledger) -> tuple[int, int]:
    """A commission batch on the ledger: alice → revenue 37, alice → carol 86. Its cause
    is made up (no commission row), so these tests run the ledger's checks only."""
    legs = post_batch([Leg(ledger.alice, ledger.revenue, 37, TransferKind.COMMISSION),
                       Leg(ledger.alice, ledger.carol, 86, TransferKind.COMMISSION)],
                      cause=Cause("project", 1), actor_id=None).transfer_ids
    db.session.commit()
    assert run_checks() == []
    return tuple(legs)


@pytest.mark.ledger_only
def test_a_commission_with_a_second_payer_breaks_invariant_8(ledger, commission):
    platform_leg, referrer_leg = commission
    with tampering():  # bob pays the referrer's part instead of alice, counters to match
        rewrite_transfers("UPDATE transfers SET debit_account_id = :bob WHERE id = :id",
                          bob=ledger.bob, id=referrer_leg)
        add_counters(ledger.alice, debits_posted=-86)
        add_counters(ledger.bob, debits_posted=86)
        failures = checks_here()
        assert invariants(failures) == {8} and named(failures, 8) == {ledger.alice, ledger.bob}


@pytest.mark.ledger_only
def test_a_commission_with_a_missing_part_breaks_invariant_8(ledger, commission):
    platform_leg, referrer_leg = commission
    with tampering():
        rewrite_transfers("DELETE FROM transfers WHERE id = :id", id=referrer_leg)
        add_counters(ledger.alice, debits_posted=-86)
        add_counters(ledger.carol, credits_posted=-86)
        failures = checks_here()
        assert invariants(failures) == {8} and named(failures, 8) == {ledger.alice}
        assert "has 1 legs" in str(failures)


@pytest.mark.ledger_only
def test_a_commission_with_a_third_part_breaks_invariant_8(ledger, commission):
    batch = db.session.get(Transfer, commission[0]).batch_id
    with tampering():
        insert_transfer(9001, ledger.alice, ledger.bob, 5, kind="commission", batch_id=batch)
        add_counters(ledger.alice, debits_posted=5)
        add_counters(ledger.bob, credits_posted=5)
        failures = checks_here()
        assert invariants(failures) == {8} and "has 3 legs" in str(failures)


# --- the whole check and its command --------------------------------------------------------

def test_every_invariant_has_its_check():
    # (9 and 10 are the features' states against their transfers, 11 the kept counters)
    assert [c.__doc__.split(".")[0] for c in LEDGER_CHECKS] == [
        str(n) for n in range(1, 9)] + ["12"]


def test_the_clean_ledger_passes(ledger):
    assert run_checks() == []


def test_flask_ledger_check_passes_on_a_clean_ledger(app, ledger):
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "ledger check passed" in result.output


def test_flask_ledger_check_fails_naming_the_invariant_and_accounts(app, ledger):
    add_counters(ledger.bob, credits_posted=-100)
    add_counters(ledger.revenue, credits_posted=100)
    db.session.commit()  # the command reads committed data, on a connection of its own
    try:
        result = app.test_cli_runner().invoke(args=["ledger", "check"])
    finally:
        add_counters(ledger.bob, credits_posted=100)
        add_counters(ledger.revenue, credits_posted=-100)
        db.session.commit()
    assert result.exit_code == 1
    assert f"invariant 3 (counters match transfers): credits_posted is 200, transfers say 300 " \
           f"[accounts {ledger.bob}]" in result.output
    assert f"[accounts {ledger.revenue}]" in result.output
    assert "ledger check FAILED: 2 problem(s)" in result.output


def test_flask_ledger_check_fails_on_a_committed_corruption(app, ledger):
    """The same through a separate connection: the command reads what is committed."""
    add_counters(ledger.carol, credits_posted=7)
    db.session.commit()
    try:
        with app.app_context():  # its own session, as in a fresh `flask` process
            result = app.test_cli_runner().invoke(args=["ledger", "check"])
    finally:
        add_counters(ledger.carol, credits_posted=-7)
        db.session.commit()
    assert result.exit_code == 1
    assert "invariant 2 (zero sum)" in result.output
    assert "invariant 3 (counters match transfers)" in result.output
    assert f"[accounts {ledger.carol}]" in result.output
