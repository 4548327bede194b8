"""Invariant 10 for deposits and withdrawals: each state matches its transfers.

Each corruption is made with raw SQL, detected, then put back, so the suite's own
after-test ledger check passes.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from offload.core.db import atomic, db, utcnow
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, TransferKind
from offload.ledger.services import (
    Cause,
    Leg,
    post_transfer,
    reserve,
    system_account,
    wallet_account,
)
from offload.wallet.checks import (
    WALLET_CHECKS,
    check_chargebacks_match_transfers,
    check_deposits_match_transfers,
    check_no_orphan_wallet_transfers,
    check_withdrawals_match_holds,
)
from offload.wallet.models import ChargebackKind, Deposit, Withdrawal
from offload.wallet.services import mark_withdrawal_paid, reject_withdrawal, take_back_deposit
from tests.support.factories import PASSWORD


def sql(statement: str, **params) -> None:
    with atomic():
        db.session.execute(text(statement), params)


@pytest.fixture
def world(make_member, admin, fund, withdraw):
    """A member with a completed deposit and a withdrawal in each state."""
    alice = make_member("alice")
    deposit = fund(alice, 100_00)
    requested = withdraw(alice, 10_00)
    paid = withdraw(alice, 20_00)
    rejected = withdraw(alice, 30_00)
    mark_withdrawal_paid(paid, actor=admin, reason="Paid", password=PASSWORD)
    reject_withdrawal(rejected, actor=admin, reason="No", password=PASSWORD)
    db.session.commit()
    return {"alice": alice, "deposit": deposit, "requested": requested, "paid": paid,
            "rejected": rejected, "wallet": wallet_account(alice.id).id,
            "external": system_account(AccountKind.EXTERNAL).id}


def test_the_wallet_checks_are_part_of_the_money_checks():
    assert set(WALLET_CHECKS) <= set(MONEY_CHECKS)


def test_every_state_matches_its_transfers(world):
    assert run_checks(MONEY_CHECKS) == []


def test_a_requested_withdrawal_marked_paid_without_its_transfer_is_caught(world):
    w = world["requested"]
    sql("UPDATE withdrawals SET state = 'paid', decided_at = :at WHERE id = :id",
        at=utcnow().replace(tzinfo=None), id=w.id)
    failures = check_withdrawals_match_holds()
    assert len(failures) == 1
    failure = failures[0]
    assert failure.invariant == 10 and failure.account_ids == (world["wallet"],
                                                               world["external"])
    assert f"withdrawal {w.id} is paid but its hold is open" in failure.detail
    assert "invariant 10 (withdrawal matches its hold)" in str(failure)
    sql("UPDATE withdrawals SET state = 'requested', decided_at = NULL WHERE id = :id", id=w.id)
    assert check_withdrawals_match_holds() == []


def test_a_paid_withdrawal_turned_back_to_requested_is_caught(world):
    w = world["paid"]
    settle_id = w.settle_transfer_id
    sql("UPDATE withdrawals SET state = 'requested', decided_at = NULL, "
        "settle_transfer_id = NULL WHERE id = :id", id=w.id)
    details = " ".join(f.detail for f in check_withdrawals_match_holds())
    assert "is requested but its hold is post_pending (should be open)" in details
    sql("UPDATE withdrawals SET state = 'paid', decided_at = :at, settle_transfer_id = :s "
        "WHERE id = :id", at=utcnow().replace(tzinfo=None), s=settle_id, id=w.id)
    assert check_withdrawals_match_holds() == []


def test_a_rejected_withdrawal_said_to_be_paid_is_caught(world):
    w = world["rejected"]
    sql("UPDATE withdrawals SET state = 'paid', reason = NULL WHERE id = :id", id=w.id)
    details = " ".join(f.detail for f in check_withdrawals_match_holds())
    assert "is paid but its hold is void_pending (should be post_pending)" in details
    sql("UPDATE withdrawals SET state = 'rejected', reason = 'No' WHERE id = :id", id=w.id)
    assert run_checks(MONEY_CHECKS) == []


def test_a_withdrawal_amount_that_differs_from_its_hold_is_caught(world):
    w = world["requested"]
    sql("UPDATE withdrawals SET amount_minor = 11000 WHERE id = :id", id=w.id)
    details = " ".join(f.detail for f in check_withdrawals_match_holds())
    assert "holds 1000 for an amount of 11000" in details
    sql("UPDATE withdrawals SET amount_minor = 1000 WHERE id = :id", id=w.id)
    assert check_withdrawals_match_holds() == []


def test_a_withdrawal_without_its_hold_is_caught(world):
    w = world["requested"]
    hold_id = w.hold_transfer_id
    sql("UPDATE withdrawals SET hold_transfer_id = NULL WHERE id = :id", id=w.id)
    details = " ".join(f.detail for f in run_checks(WALLET_CHECKS))
    assert f"withdrawal {w.id} has no hold" in details
    # and its transfer now belongs to no withdrawal
    assert f"withdrawal transfer {hold_id} (cause withdrawal:{w.id}) has no" in details
    sql("UPDATE withdrawals SET hold_transfer_id = :h WHERE id = :id", h=hold_id, id=w.id)
    assert run_checks(WALLET_CHECKS) == []


def test_a_deposit_whose_state_disagrees_with_its_transfer_is_caught(world):
    d = world["deposit"]
    transfer_id = d.transfer_id
    sql("UPDATE deposits SET state = 'failed', transfer_id = NULL, completed_at = NULL "
        "WHERE id = :id", id=d.id)
    failures = check_deposits_match_transfers()
    assert [f.invariant for f in failures] == [10]
    assert f"deposit {d.id} is failed but has transfers {transfer_id}" in failures[0].detail
    assert failures[0].account_ids == (world["external"], world["wallet"])
    sql("UPDATE deposits SET state = 'completed', transfer_id = :t, completed_at = :at "
        "WHERE id = :id", t=transfer_id, at=utcnow().replace(tzinfo=None), id=d.id)
    assert check_deposits_match_transfers() == []


def test_a_deposit_amount_that_differs_from_its_transfer_is_caught(world):
    d = world["deposit"]
    sql("UPDATE deposits SET amount_minor = 1 WHERE id = :id", id=d.id)
    assert "not posted 1" in " ".join(f.detail for f in check_deposits_match_transfers())
    sql("UPDATE deposits SET amount_minor = 10000 WHERE id = :id", id=d.id)
    assert check_deposits_match_transfers() == []


def test_a_deposit_transfer_without_its_row_is_caught_until_the_row_exists(make_member):
    alice = make_member("alice")
    external, wallet = system_account(AccountKind.EXTERNAL).id, wallet_account(alice.id).id
    transfer = post_transfer(Leg(external, wallet, 5_00, TransferKind.DEPOSIT),
                             cause=Cause("deposit", 999), actor_id=None)
    db.session.commit()
    failures = check_no_orphan_wallet_transfers()
    assert len(failures) == 1 and failures[0].invariant == 10
    assert failures[0].account_ids == (external, wallet)
    assert f"deposit transfer {transfer.id} (cause deposit:999)" in failures[0].detail
    with atomic():  # transfers can't be deleted: give it the row it should have had
        db.session.add(Deposit(id=999, member_id=alice.id, amount_minor=5_00,
                               provider="sandbox", provider_reference="sandbox-adopted",
                               state="completed", transfer_id=transfer.id,
                               completed_at=utcnow()))
    assert run_checks(MONEY_CHECKS) == []


def test_a_withdrawal_transfer_without_its_row_is_caught_until_the_row_exists(
        make_member, fund):
    alice = make_member("alice")
    fund(alice, 10_00)
    external, wallet = system_account(AccountKind.EXTERNAL).id, wallet_account(alice.id).id
    hold = reserve(Leg(wallet, external, 4_00, TransferKind.WITHDRAWAL),
                   cause=Cause("withdrawal", 999), actor_id=None)
    db.session.commit()
    failures = check_no_orphan_wallet_transfers()
    assert [f.invariant for f in failures] == [10]
    assert f"withdrawal transfer {hold.id} (cause withdrawal:999)" in failures[0].detail
    with atomic():  # transfers can't be deleted: give it the row it should have had
        db.session.add(Withdrawal(id=999, member_id=alice.id, amount_minor=4_00,
                                  payout_details="IBAN", state="requested",
                                  hold_transfer_id=hold.id))
    assert run_checks(MONEY_CHECKS) == []


def test_flask_ledger_check_reports_invariant_10_and_fails(app, world):
    w = world["requested"]
    sql("UPDATE withdrawals SET amount_minor = 999 WHERE id = :id", id=w.id)
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"invariant 10 (withdrawal matches its hold): withdrawal {w.id}" in result.output
    assert f"[accounts {world['wallet']}, {world['external']}]" in result.output
    sql("UPDATE withdrawals SET amount_minor = 1000 WHERE id = :id", id=w.id)
    assert app.test_cli_runner().invoke(args=["ledger", "check"]).exit_code == 0


@pytest.fixture
def taken(world):
    """The world's deposit (100.00) disputed in full: 70.00 available goes, 30.00 is owed."""
    deposit = world["deposit"]
    sql("UPDATE deposits SET payment_reference = 'pi_1' WHERE id = :id", id=deposit.id)
    chargeback = take_back_deposit(provider=deposit.provider, payment_reference="pi_1",
                                   reference="dp_1", kind=ChargebackKind.DISPUTE,
                                   amount_minor=100_00)
    assert (chargeback.covered_minor, chargeback.debt_minor) == (70_00, 30_00)
    return chargeback


def test_a_chargeback_whose_parts_disagree_with_its_transfers_is_caught(taken):
    assert run_checks(MONEY_CHECKS) == []
    sql("UPDATE chargebacks SET covered_minor = 6000, debt_minor = 4000 WHERE id = :id",
        id=taken.id)
    (failure,) = check_chargebacks_match_transfers()
    assert failure.invariant == 10 and f"chargeback {taken.id} took" in failure.detail
    sql("UPDATE chargebacks SET covered_minor = 7000, debt_minor = 3000 WHERE id = :id",
        id=taken.id)
    assert check_chargebacks_match_transfers() == []


def test_chargebacks_taking_more_than_their_deposit_are_caught(world, taken):
    deposit = world["deposit"]
    sql("UPDATE deposits SET amount_minor = 5000 WHERE id = :id", id=deposit.id)
    (failure,) = check_chargebacks_match_transfers()
    assert f"takes 10000 of deposit {deposit.id}'s 5000" in failure.detail
    sql("UPDATE deposits SET amount_minor = 10000 WHERE id = :id", id=deposit.id)
    assert check_chargebacks_match_transfers() == []


def test_a_chargeback_said_returned_without_its_money_back_is_caught(taken):
    sql("UPDATE chargebacks SET state = 'returned', returned_at = :at WHERE id = :id",
        at=utcnow().replace(tzinfo=None), id=taken.id)
    (failure,) = check_chargebacks_match_transfers()
    assert "is returned but 0 of 10000 came back" in failure.detail
    sql("UPDATE chargebacks SET state = 'taken', returned_at = NULL WHERE id = :id",
        id=taken.id)
    assert check_chargebacks_match_transfers() == []
