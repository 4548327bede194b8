"""``flask payments reconcile --since DATE`` against the stand-in for Stripe's API: the
ledger's Stripe deposits compared with Stripe's balance transactions (from Stripe's own
fixtures, with only the amounts, ids and times a test controls overridden)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from offload.core import db as core_db
from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.payments import reconcile as reconciling
from offload.payments.queries import LedgerItem
from offload.payments.reconcile import SOURCES, reconcile
from offload.payments.services import apply_event
from offload.wallet.connect import connect_payout_account, refresh_payout_account
from offload.wallet.models import PayoutAccount, Withdrawal
from offload.wallet.providers import TransferUnsure
from offload.wallet.services import (
    add_funds,
    mark_withdrawal_paid,
    request_withdrawal,
    settle_deposit,
)
from tests.support.factories import PASSWORD, new_key
from tests.support.stripe_standin import StripeStandIn, fixture, new_id

TODAY = datetime.now(UTC).date().isoformat()


@pytest.fixture
def stripe_api(app, monkeypatch):
    with StripeStandIn() as server:
        for name, value in (("PAYMENT_PROVIDER", "stripe"), ("STRIPE_API_BASE", server.url),
                            ("STRIPE_SECRET_KEY", "sk_test_standin")):
            monkeypatch.setitem(app.config, name, value)
        yield server


@pytest.fixture
def ada(make_member):
    return make_member("ada")


def deposit_paid(member, amount_minor: int):
    """A deposit through Stripe Checkout, credited by its webhook's verdict; its payment
    intent's id."""
    deposit = add_funds(actor=member, amount_minor=amount_minor, idempotency_key=new_key())
    intent = new_id("payment_intent")
    settle_deposit(provider="stripe", reference=deposit.provider_reference, paid=True,
                   payment_reference=intent)
    return intent


def charged(stripe_api, intent: str, amount_minor: int, *, fee_minor: int = 0,
            ago: timedelta = timedelta(0)):
    """Stripe's charge for ``intent`` and its balance transaction."""
    created = int(time.time() - ago.total_seconds())
    charge = stripe_api.add("charge", payment_intent=intent, amount=amount_minor,
                            created=created)
    return stripe_api.add("balance_transaction", source=charge["id"], type="charge",
                          reporting_category="charge", amount=amount_minor, fee=fee_minor,
                          net=amount_minor - fee_minor, created=created)


def run(app, since: str = TODAY):
    return app.test_cli_runner().invoke(args=["payments", "reconcile", "--since", since])


def test_a_clean_run_exits_0_with_the_fees_in_the_summary(app, stripe_api, ada):
    for amount, fee in ((25_00, 1_03), (40_00, 1_46)):
        charged(stripe_api, deposit_paid(ada, amount), amount, fee_minor=fee)
    stripe_api.add("balance_transaction", source=new_id("payout"), type="payout",
                   reporting_category="payout", amount=-10_00, fee=0, net=-10_00,
                   created=int(time.time()))
    result = run(app)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"reconcile since {TODAY}T00:00:00+00:00: 2 matched, 0 mismatch(es); Stripe's fees "
        "2.49 USD on 2 balance transaction(s) (not mismatches); not compared (not ledger "
        "movements): payout 1"]
    (listed,) = [r for r in stripe_api.requests if r.path == "/v1/balance_transactions"]
    since = datetime.fromisoformat(TODAY).replace(tzinfo=UTC) - timedelta(days=1)
    assert listed.method == "GET" and listed.params["created[gte]"] == str(
        int(since.timestamp()))
    assert listed.params["expand[0]"] == "data.source" and listed.params["limit"] == "100"
    assert run_checks(MONEY_CHECKS) == []


def test_planted_mismatches_are_each_named_and_exit_1(app, stripe_api, ada):
    matched = deposit_paid(ada, 10_00)
    charged(stripe_api, matched, 10_00)
    unknown = charged(stripe_api, new_id("payment_intent"), 15_00)  # no deposit
    lost = deposit_paid(ada, 20_00)  # no balance transaction
    differs = deposit_paid(ada, 30_00)
    short = charged(stripe_api, differs, 29_00)
    unknown_intent = stripe_api.objects[unknown["source"]]["payment_intent"]
    result = run(app)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert sorted(lines[:-1]) == sorted([
        f"missing in the ledger: {unknown_intent} (charge {unknown['id']}): 15.00 at Stripe, "
        "nothing in the ledger",
        f"missing at Stripe: {lost} (deposit #2): 20.00 in the ledger, no balance "
        "transaction",
        f"amount differs: {differs} (deposit #3; charge {short['id']}): 30.00 in the ledger, "
        "29.00 usd at Stripe"])
    assert "1 matched, 3 mismatch(es)" in lines[-1]
    assert run_checks(MONEY_CHECKS) == []


def test_every_page_of_balance_transactions_is_read(app, stripe_api, ada, monkeypatch):
    monkeypatch.setattr(reconciling, "PAGE_LIMIT", 2)
    for amount in (1_00, 2_00, 3_00, 4_00, 5_00):
        charged(stripe_api, deposit_paid(ada, amount), amount)
    result = run(app)
    assert result.exit_code == 0, result.output
    assert "5 matched, 0 mismatch(es)" in result.output
    pages = [r.params for r in stripe_api.requests if r.path == "/v1/balance_transactions"]
    assert len(pages) == 3 and "starting_after" not in pages[0]
    assert [p["starting_after"] for p in pages[1:]] == [
        t["id"] for t in list(stripe_api.objects.values())
        if t["object"] == "balance_transaction"][1:4:2]


def test_a_charge_just_before_the_window_matches_its_deposit_credited_inside_it(
        app, stripe_api, ada):
    charged(stripe_api, deposit_paid(ada, 12_00), 12_00, ago=timedelta(minutes=10))
    since = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S")
    result = run(app, since)
    assert result.exit_code == 0, result.output
    assert "1 matched, 0 mismatch(es)" in result.output


def test_another_source_plugs_in_as_one_function(app, stripe_api):
    transfer = new_id("transfer")
    stripe_api.add("balance_transaction", source=transfer, type="transfer",
                   reporting_category="transfer", amount=-7_50, fee=0, net=-7_50,
                   created=int(time.time()))
    now = datetime.now(UTC)

    def payouts(since):
        return [LedgerItem(transfer, -7_50, "withdrawal #1", now)]

    report = reconcile(now - timedelta(hours=1), sources=[*SOURCES, payouts])
    assert (report.matched, report.mismatches) == (1, [])
    (missing,) = reconcile(now - timedelta(hours=1)).mismatches  # without it
    assert (missing.stripe_id, missing.ledger, missing.stripe_minor) == (transfer, (), -7_50)
    assert str(missing).startswith(f"missing in the ledger: {transfer} (transfer txn_")


def test_stripe_failing_exits_2_and_says_so(app, stripe_api):
    stripe_api.fail_next("/v1/balance_transactions", 500)
    result = run(app)
    assert result.exit_code == 2
    assert "could not list Stripe's balance transactions" in result.output


def test_without_a_stripe_key_it_exits_2_before_asking(app, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_SECRET_KEY", "")
    result = run(app)
    assert result.exit_code == 2
    assert "OFFLOAD_STRIPE_SECRET_KEY is not set" in result.output


def _stripe_balance(stripe_api, source: str, kind: str, amount_minor: int, *,
                    ago: timedelta = timedelta(0)):
    return stripe_api.add("balance_transaction", source=source, type=kind,
                          reporting_category=kind, amount=amount_minor, fee=0,
                          net=amount_minor, created=int(time.time() - ago.total_seconds()))


def _paid_out(stripe_api, member, admin, amount_minor: int) -> Withdrawal:
    """A withdrawal paid into the member's connected account by a Stripe Transfer."""
    withdrawal = request_withdrawal(actor=member, amount_minor=amount_minor,
                                    payout_details=None, idempotency_key=new_key())
    mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    db.session.rollback()
    return db.session.get(Withdrawal, withdrawal.id)


def _reversed(stripe_api, withdrawal: Withdrawal) -> None:
    """Stripe reverses the withdrawal's Transfer in full (a reversal and its balance
    transaction), and its ``transfer.reversed`` event returns the withdrawal."""
    reference, amount = withdrawal.transfer_reference, withdrawal.amount_minor
    reversal = stripe_api.add("transfer_reversal", transfer=reference, amount=amount)
    _stripe_balance(stripe_api, reversal["id"], "transfer_refund", amount)
    apply_event(provider="stripe", event_id=new_id("event"), event_type="transfer.reversed",
                data_object={**stripe_api.objects[reference], "reversed": True,
                             "amount_reversed": amount})


def test_chargebacks_and_payouts_are_compared_with_their_balance_transactions(
        app, stripe_api, ada, make_member):
    admin = make_member("keeper", admin=True)
    disputed = deposit_paid(ada, 80_00)
    charged(stripe_api, disputed, 80_00)
    dispute = fixture("dispute", id=new_id("dispute"), amount=30_00, payment_intent=disputed,
                      status="needs_response", reason="fraudulent")
    apply_event(provider="stripe", event_id=new_id("event"),
                event_type="charge.dispute.created", data_object=dispute)
    stripe_api.objects[dispute["id"]] = dispute
    _stripe_balance(stripe_api, dispute["id"], "adjustment", -30_00)

    _ready_payout_account(stripe_api, ada)
    kept = _paid_out(stripe_api, ada, admin, 20_00)
    _stripe_balance(stripe_api, kept.transfer_reference, "transfer", -20_00)
    returned = _paid_out(stripe_api, ada, admin, 10_00)
    _stripe_balance(stripe_api, returned.transfer_reference, "transfer", -10_00)
    _reversed(stripe_api, returned)
    assert run_checks(MONEY_CHECKS) == []

    result = run(app)
    assert result.exit_code == 0, result.output
    assert "4 matched, 0 mismatch(es)" in result.output  # the charge, dispute, 2 transfers

    # Stripe says the dispute took 35.00, and a transfer the ledger never made
    stray = new_id("transfer")
    _stripe_balance(stripe_api, dispute["id"], "adjustment", -5_00)
    _stripe_balance(stripe_api, stray, "transfer", -1_00)
    result = run(app)
    # exit 1 by the command's own sys.exit, not an exception (which click also makes 1)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exc_info
    lines = result.output.splitlines()
    assert any(line.startswith(f"amount differs: {dispute['id']} (dispute #")
               and "30.00 in the ledger" in line and "35.00 usd at Stripe" in line
               for line in lines), result.output
    assert any(line.startswith(f"missing in the ledger: {stray}") for line in lines)
    assert "3 matched, 2 mismatch(es)" in lines[-1]


# --- a movement whose parts fall in different windows ----------------------------------

@contextmanager
def back_in_time(monkeypatch, ago: timedelta):
    """The ledger's clock (``offload.core.db.utcnow``, every row's default) ``ago`` in the
    past: transfers are immutable, so a test dates them by when they are written."""

    class Then(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) - ago

    with monkeypatch.context() as patched:
        patched.setattr(core_db, "datetime", Then)
        yield


def _reconciles_alone(app) -> None:
    """The ledger holds, and reconcile since today matches one movement, and no more."""
    assert run_checks(MONEY_CHECKS) == []
    result = run(app)
    assert result.exit_code == 0, result.output
    assert "1 matched, 0 mismatch(es)" in result.output


def _funded_with_payout_account(stripe_api, member, monkeypatch, ago: timedelta) -> None:
    """``member`` deposited 50.00 through Stripe ``ago``, and has a ready payout account."""
    with back_in_time(monkeypatch, ago):
        charged(stripe_api, deposit_paid(member, 50_00), 50_00, ago=ago)
    _ready_payout_account(stripe_api, member)


def _ready_payout_account(stripe_api, member) -> None:
    connect_payout_account(actor=member)
    account = db.session.scalar(select(PayoutAccount.account_reference)
                                .where(PayoutAccount.member_id == member.id))
    stripe_api.objects[account].update(details_submitted=True, payouts_enabled=True)
    refresh_payout_account(actor=member)


def test_a_dispute_won_long_after_it_was_taken_matches_its_reinstatement(
        app, stripe_api, ada, monkeypatch):
    with back_in_time(monkeypatch, timedelta(days=61)):
        disputed = deposit_paid(ada, 80_00)
    charged(stripe_api, disputed, 80_00, ago=timedelta(days=61))
    dispute = fixture("dispute", id=new_id("dispute"), amount=30_00, payment_intent=disputed,
                      status="needs_response", reason="fraudulent")
    with back_in_time(monkeypatch, timedelta(days=60)):
        apply_event(provider="stripe", event_id=new_id("event"),
                    event_type="charge.dispute.created", data_object=dispute)
    _stripe_balance(stripe_api, dispute["id"], "adjustment", -30_00, ago=timedelta(days=60))
    apply_event(provider="stripe", event_id=new_id("event"),
                event_type="charge.dispute.closed", data_object={**dispute, "status": "won"})
    _stripe_balance(stripe_api, dispute["id"], "adjustment", 30_00)
    _reconciles_alone(app)  # the reinstatement alone


def test_a_withdrawal_returned_days_after_it_was_paid_matches_its_reversal(
        app, stripe_api, ada, make_member, monkeypatch):
    admin = make_member("keeper", admin=True)
    _funded_with_payout_account(stripe_api, ada, monkeypatch, timedelta(days=11))
    with back_in_time(monkeypatch, timedelta(days=10)):
        returned = _paid_out(stripe_api, ada, admin, 10_00)
    _stripe_balance(stripe_api, returned.transfer_reference, "transfer", -10_00,
                    ago=timedelta(days=10))
    _reversed(stripe_api, returned)
    _reconciles_alone(app)  # the reversal alone


def test_a_withdrawal_sent_on_a_retry_days_after_its_approval_matches_its_transfer(
        app, stripe_api, ada, make_member, monkeypatch):
    admin = make_member("keeper", admin=True)
    _funded_with_payout_account(stripe_api, ada, monkeypatch, timedelta(days=4))
    withdrawal = request_withdrawal(actor=ada, amount_minor=20_00, payout_details=None,
                                    idempotency_key=new_key())
    stripe_api.fail_next("/v1/transfers", 500)
    with back_in_time(monkeypatch, timedelta(days=3)), pytest.raises(TransferUnsure):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    db.session.rollback()
    sending = db.session.get(Withdrawal, withdrawal.id)
    mark_withdrawal_paid(sending, actor=admin, reason="Retried", password=PASSWORD)
    db.session.rollback()
    paid = db.session.get(Withdrawal, withdrawal.id)
    assert paid.decided_at < datetime.now(UTC) - timedelta(days=2)
    _stripe_balance(stripe_api, paid.transfer_reference, "transfer", -20_00)
    _reconciles_alone(app)  # the transfer made today


# --- which balance transactions are ledger movements ------------------------------------

def test_a_refund_that_failed_nets_to_nothing_on_both_sides(app, stripe_api, ada):
    intent = deposit_paid(ada, 40_00)
    charged(stripe_api, intent, 40_00)
    refund = stripe_api.add("refund", id=new_id("refund"), amount=15_00,
                            payment_intent=intent, status="pending")
    apply_event(provider="stripe", event_id=new_id("event"), event_type="refund.created",
                data_object=refund)
    _stripe_balance(stripe_api, refund["id"], "refund", -15_00)
    apply_event(provider="stripe", event_id=new_id("event"), event_type="refund.failed",
                data_object={**refund, "status": "failed"})
    _stripe_balance(stripe_api, refund["id"], "refund_failure", 15_00)
    assert run_checks(MONEY_CHECKS) == []

    result = run(app)
    assert result.exit_code == 0, result.output
    assert "2 matched, 0 mismatch(es)" in result.output  # the charge, the refund
    assert "not compared" not in result.output


def test_a_payment_reversed_at_stripe_is_compared_with_its_deposit(app, stripe_api, ada):
    intent = deposit_paid(ada, 25_00)
    paid = charged(stripe_api, intent, 25_00)
    reversed_ = _stripe_balance(stripe_api, paid["source"], "payment_reversal", -25_00)

    result = run(app)
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"amount differs: {intent} (deposit #1; charge {paid['id']}, "
        f"payment_reversal {reversed_['id']}): 25.00 in the ledger, 0.00 usd at Stripe")
    assert "not compared" not in result.output


def test_a_delayed_payment_that_failed_nets_to_nothing_and_is_no_mismatch(
        app, stripe_api, ada):
    deposit = add_funds(actor=ada, amount_minor=30_00, idempotency_key=new_key())
    intent = new_id("payment_intent")
    settle_deposit(provider="stripe", reference=deposit.provider_reference, paid=False,
                   payment_reference=intent)
    charge = stripe_api.add("charge", payment_intent=intent, amount=30_00,
                            created=int(time.time()))
    _stripe_balance(stripe_api, charge["id"], "payment", 30_00)
    _stripe_balance(stripe_api, charge["id"], "payment_failure_refund", -30_00)

    result = run(app)
    assert result.exit_code == 0, result.output
    assert "1 matched, 0 mismatch(es)" in result.output  # 0.00 on both sides
