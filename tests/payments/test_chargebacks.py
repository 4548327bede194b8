"""Chargebacks and refunds of Stripe deposits, through the real webhook route with
events signed as Stripe signs them (tests/support/stripe_standin.py): the deposit's
amount leaves the wallet for the chargebacks account, what the wallet lacks is owed
(a debt account, a case on the member with their inviter on the hook), and each
dispute or refund moves money once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.services import create_personal_token
from offload.cases.models import Case, CaseEvidence, CaseKind, CaseSource
from offload.core.db import atomic, db
from offload.core.errors import Conflict
from offload.gigs.policies import why_cannot_post
from offload.health import MONEY_CHECKS
from offload.invites.policies import why_cannot_invite
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind
from offload.notifications.models import Notification, OutboxEmail
from offload.payments.models import ProviderEvent
from offload.payments.services import apply_event
from offload.privacy.services import delete_account
from offload.wallet.models import (
    Chargeback,
    ChargebackState,
    Deposit,
    DepositState,
    PayoutAccount,
    Withdrawal,
    WithdrawalState,
)
from offload.wallet.queries import receipt_for, wallet_summary
from offload.wallet.services import (
    WithdrawalWhileOwing,
    add_funds,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
)
from tests.support.factories import PASSWORD, count, fresh
from tests.support.stripe_standin import WEBHOOK_SECRET, fixture, new_id, signed_event

SECRET = WEBHOOK_SECRET
WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
def ivan(make_member):
    return make_member("ivan")


@pytest.fixture
def ada(make_member, ivan):
    """Invited by Ivan, with a payout account ready (withdrawals go to it with Stripe)."""
    member = make_member("ada", inviter=ivan)
    db.session.add(PayoutAccount(member_id=member.id, provider="stripe",
                                 account_reference=new_id("account"), is_details_submitted=True,
                                 is_payouts_enabled=True))
    db.session.commit()
    return member


def deliver(client, event_type: str, data_object: dict) -> None:
    body, header = signed_event(event_type, data_object, SECRET, timestamp=int(time.time()))
    response = client.post(WEBHOOK, data=body, headers={"Stripe-Signature": header,
                                                        "Content-Type": "application/json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()  # what the webhook committed, read afresh


def paid_deposit(client, standin, member, amount: int, key: str) -> Deposit:
    """A deposit through Stripe Checkout, paid: its webhook keeps the payment intent."""
    deposit = add_funds(actor=member, amount_minor=amount, idempotency_key=key)
    intent = new_id("payment_intent")
    deliver(client, "checkout.session.completed", {
        **standin.objects[deposit.provider_reference], "status": "complete",
        "payment_status": "paid", "payment_intent": intent})
    paid = fresh(Deposit, deposit.id)
    assert paid.state == DepositState.COMPLETED and paid.payment_reference == intent
    return paid


def dispute(deposit: Deposit, amount: int | None = None, **fields) -> dict:
    """Stripe's example dispute, about this deposit's payment."""
    return fixture("dispute", **{
        "id": new_id("dispute"), "amount": deposit.amount_minor if amount is None else amount,
        "payment_intent": deposit.payment_reference, "status": "needs_response",
        "reason": "fraudulent", **fields})


def refund(deposit: Deposit, amount: int, **fields) -> dict:
    """Stripe's example refund, of this deposit's payment."""
    return fixture("refund", **{"id": new_id("refund"), "amount": amount,
                                "payment_intent": deposit.payment_reference, **fields})


def standin_calls(standin, path: str) -> list:
    return [r for r in standin.requests if (r.method, r.path) == ("POST", path)]


def owed(member) -> int:
    return wallet_summary(member.id).owed


def chargebacks_balance() -> int:
    account = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.kind == AccountKind.CHARGEBACKS))
    return account.balance if account else 0


def transfers(kind: TransferKind) -> list[tuple[int, int, int]]:
    return [tuple(r) for r in db.session.execute(
        select(Transfer.debit_account_id, Transfer.credit_account_id, Transfer.amount_minor)
        .where(Transfer.kind == kind).order_by(Transfer.id))]


def assert_money_checks_pass() -> None:
    assert run_checks(MONEY_CHECKS) == []


def test_a_dispute_the_wallet_covers_moves_the_deposit_to_chargebacks(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    deliver(client, "charge.dispute.created", dispute(deposit))
    (chargeback,) = db.session.scalars(select(Chargeback)).all()
    assert (chargeback.deposit_id, chargeback.kind, chargeback.state, chargeback.amount_minor,
            chargeback.covered_minor, chargeback.debt_minor, chargeback.reason) == (
        deposit.id, "dispute", ChargebackState.TAKEN, 40_00, 40_00, 0, "fraudulent")
    assert wallet_summary(ada.id).total == 0 and owed(ada) == 0
    assert chargebacks_balance() == 40_00
    assert count(Case) == 0  # nothing owed: nobody on the hook
    (note,) = db.session.scalars(select(Notification).where(
        Notification.kind == "chargeback")).all()
    assert note.user_id == ada.id and "$40.00 of your deposit" in note.title
    assert note.link == f"/wallet/deposits/{deposit.id}#chargebacks"
    (mail,) = db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == ada.id))
    assert "taken back" in (mail.context or mail.subject)
    assert_money_checks_pass()


def test_a_dispute_the_wallet_doesnt_cover_leaves_a_debt_and_a_case(
        client, login, standin, make_member, ada, ivan, fund):
    deposit = paid_deposit(client, standin, ada, 50_00, "k-1")
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=30_00,
                       payout_details="IBAN DE02 1203 0000 0000 2020 51", idempotency_key="w-1")
    deliver(client, "charge.dispute.created", dispute(deposit))

    # the available 20.00 went; the 30.00 held for the withdrawal stayed; 30.00 is owed
    (chargeback,) = db.session.scalars(select(Chargeback)).all()
    assert (chargeback.amount_minor, chargeback.covered_minor, chargeback.debt_minor) == (
        50_00, 20_00, 30_00)
    summary = wallet_summary(ada.id)
    assert (summary.available, summary.held, summary.owed) == (0, 30_00, 30_00)
    assert chargebacks_balance() == 50_00
    assert_money_checks_pass()

    # the withdrawal asked for before the dispute is not paid out while she owes
    admin = make_member("keeper", admin=True)
    withdrawal = db.session.scalars(select(Withdrawal)).one()
    with pytest.raises(Conflict, match=r"owes \$30.00"):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    assert not standin_calls(standin, "/v1/transfers")
    assert fresh(Withdrawal, withdrawal.id).state == WithdrawalState.REQUESTED
    assert_money_checks_pass()

    # a case about ada, opened by the system, with the deposit as its evidence
    (case,) = db.session.scalars(select(Case)).all()
    assert (case.subject_id, case.kind, case.source, case.chargeback_id, case.is_open) == (
        ada.id, CaseKind.CHARGEBACK, CaseSource.SYSTEM, chargeback.id, True)
    assert "$50.00 was taken back" in case.summary and "owes the other $30.00" in case.summary
    assert db.session.execute(select(CaseEvidence.kind, CaseEvidence.target_id)).all() == [
        ("deposit", deposit.id)]
    told = db.session.execute(select(Notification.user_id).where(
        Notification.kind == "case_opened")).scalars().all()
    assert sorted(told) == sorted([ada.id, ivan.id])

    # ada and her inviter are on the hook, as for an overdue commission
    for member in (ada, ivan):
        assert f"case #{case.id}" in why_cannot_post(fresh(User, member.id))
        assert f"case #{case.id}" in why_cannot_invite(fresh(User, member.id))
    assert why_cannot_post(fresh(User, make_member("tom").id)) is None

    # no withdrawal while she owes, in the service and on the page
    with pytest.raises(WithdrawalWhileOwing, match=r"while you owe \$30\.00"):
        request_withdrawal(actor=fresh(User, ada.id), amount_minor=10_00,
                           payout_details="IBAN DE02", idempotency_key="w-2")
    login(fresh(User, ada.id))
    page = client.get("/wallet").get_data(as_text=True)
    assert 'You owe <span data-owed>$30.00</span>' in page
    assert "You can't withdraw while you owe $30.00" in page
    assert "pays the $30.00 you owe first" in page
    refused = client.post("/wallet/withdrawals", data={
        "withdrawal-amount": "10.00", "withdrawal-payout_details": "IBAN DE02",
        "withdrawal-idempotency_key": "w-3"})
    assert refused.status_code == 422 and "while you owe $30.00" in refused.get_data(
        as_text=True)

    # the case page shows what was taken back and what is owed; the deposit's page too
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "owes the other $30.00" in shown and "<dd data-owed-now>$30.00" in shown
    deposit_page = client.get(f"/wallet/deposits/{deposit.id}").get_data(as_text=True)
    assert f'id="chargeback-{chargeback.id}"' in deposit_page and "$30.00 owed" in deposit_page
    login(make_member("root", admin=True))  # an admin follows the evidence to the deposit
    shown = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert f'href="/wallet/deposits/{deposit.id}#chargebacks"' in shown
    assert f'id="chargeback-{chargeback.id}"' in client.get(
        f"/wallet/deposits/{deposit.id}").get_data(as_text=True)

    # a later deposit pays the debt first
    paid_deposit(client, standin, ada, 20_00, "k-2")
    assert (owed(ada), wallet_summary(ada.id).available) == (10_00, 0)
    paid_deposit(client, standin, ada, 25_00, "k-3")
    assert (owed(ada), wallet_summary(ada.id).available) == (0, 15_00)
    assert [t[2] for t in transfers(TransferKind.DEBT_REPAYMENT)] == [20_00, 10_00]
    assert_money_checks_pass()
    # paid up: she may withdraw again (the case stays open for an admin to resolve)
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=15_00,
                       payout_details="IBAN DE02", idempotency_key="w-4")
    assert_money_checks_pass()


def test_a_partial_refund_moves_only_the_refunded_part(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    first = refund(deposit, 15_00, status="succeeded")
    deliver(client, "refund.created", first)
    assert wallet_summary(ada.id).total == 25_00 and chargebacks_balance() == 15_00
    # its update (succeeded again) and the charge.refunded Stripe sends beside it move nothing
    deliver(client, "refund.updated", first)
    deliver(client, "charge.refunded", fixture(
        "charge", id=new_id("charge"), payment_intent=deposit.payment_reference,
        amount=40_00, amount_refunded=15_00, refunded=False))
    assert wallet_summary(ada.id).total == 25_00 and count(Chargeback) == 1
    # a second refund of the same payment is its own
    deliver(client, "refund.created", refund(deposit, 5_00, status="succeeded"))
    assert wallet_summary(ada.id).total == 20_00 and chargebacks_balance() == 20_00
    assert [c.kind for c in db.session.scalars(select(Chargeback))] == ["refund", "refund"]
    assert count(Case) == 0
    assert_money_checks_pass()


def test_a_pending_refund_is_taken_then_given_back_when_it_fails(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 30_00, "k-1")
    pending = refund(deposit, 30_00, status="pending")
    deliver(client, "refund.created", pending)
    assert wallet_summary(ada.id).total == 0
    deliver(client, "refund.failed", {**pending, "status": "failed"})
    assert wallet_summary(ada.id).total == 30_00 and chargebacks_balance() == 0
    assert fresh(Chargeback, db.session.scalar(select(Chargeback.id))).state == "returned"
    assert_money_checks_pass()


def test_one_dispute_moves_money_once_whatever_events_speak_of_it(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    opened = dispute(deposit)
    body, header = signed_event("charge.dispute.created", opened, SECRET,
                                timestamp=int(time.time()))
    for _ in range(2):  # the same event redelivered
        assert client.post(WEBHOOK, data=body,
                           headers={"Stripe-Signature": header}).status_code == 200
    # other events about the same dispute: funds withdrawn, closed as lost
    deliver(client, "charge.dispute.funds_withdrawn", opened)
    deliver(client, "charge.dispute.closed", {**opened, "status": "lost"})
    assert count(Chargeback) == 1 and count(ProviderEvent) == 4  # (the payment's + 3)
    assert len(transfers(TransferKind.CHARGEBACK)) == 1
    assert wallet_summary(ada.id).total == 0 and chargebacks_balance() == 40_00
    # a second dispute can't take back more than the deposit brought in
    deliver(client, "charge.dispute.created", dispute(deposit))
    assert count(Chargeback) == 1 and chargebacks_balance() == 40_00
    assert_money_checks_pass()


def test_a_dispute_won_gives_the_money_back_paying_the_debt_first(
        client, standin, ada, fund):
    deposit = paid_deposit(client, standin, ada, 50_00, "k-1")
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=30_00,
                       payout_details="IBAN DE02", idempotency_key="w-1")
    opened = dispute(deposit)
    deliver(client, "charge.dispute.created", opened)
    assert owed(ada) == 30_00
    deliver(client, "charge.dispute.closed", {**opened, "status": "won"})
    summary = wallet_summary(ada.id)
    assert (summary.available, summary.held, summary.owed) == (20_00, 30_00, 0)
    assert chargebacks_balance() == 0
    assert sorted(t[2] for t in transfers(TransferKind.CHARGEBACK_RETURN)) == [20_00, 30_00]
    # funds reinstated, sent beside it, gives nothing more
    deliver(client, "charge.dispute.funds_reinstated", {**opened, "status": "won"})
    assert len(transfers(TransferKind.CHARGEBACK_RETURN)) == 2
    assert fresh(Chargeback, db.session.scalar(select(Chargeback.id))).state == "returned"
    notes = db.session.scalars(select(Notification.title).where(
        Notification.kind == "chargeback").order_by(Notification.id)).all()
    assert len(notes) == 2 and "came back to you. $30.00 of it paid what you owed" in notes[1]
    assert_money_checks_pass()


def test_a_dispute_won_before_its_opening_arrives_moves_nothing(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    opened = dispute(deposit)
    deliver(client, "charge.dispute.closed", {**opened, "status": "won"})
    deliver(client, "charge.dispute.created", opened)  # late, out of order
    assert wallet_summary(ada.id).total == 40_00 and chargebacks_balance() == 0
    (chargeback,) = db.session.scalars(select(Chargeback)).all()
    assert (chargeback.state, chargeback.amount_minor) == ("returned", 0)
    assert_money_checks_pass()


def test_an_inquiry_takes_nothing(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    deliver(client, "charge.dispute.created", dispute(deposit, status="warning_needs_response"))
    assert wallet_summary(ada.id).total == 40_00 and count(Chargeback) == 0


@pytest.mark.parametrize("event_type", ["charge.dispute.created", "refund.created"])
def test_events_for_a_payment_no_deposit_has_move_nothing(client, standin, ada, event_type):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    stranger = {"charge.dispute.created": dispute(deposit, payment_intent="pi_someone_else"),
                "refund.created": refund(deposit, 10_00, payment_intent="pi_someone_else",
                                         status="succeeded")}[event_type]
    deliver(client, event_type, stranger)  # answered 200
    assert count(Chargeback) == 0 and wallet_summary(ada.id).total == 40_00
    assert count(ProviderEvent) == 2
    assert_money_checks_pass()


def test_admins_see_every_chargeback_and_the_case_it_opened(
        client, login, standin, make_member, ada):
    covered = paid_deposit(client, standin, ada, 10_00, "k-1")
    deliver(client, "refund.created", refund(covered, 10_00, status="succeeded"))
    uncovered = paid_deposit(client, standin, ada, 20_00, "k-2")
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=15_00,
                       payout_details="IBAN DE02", idempotency_key="w-1")
    deliver(client, "charge.dispute.created", dispute(uncovered))
    first, second = db.session.scalars(select(Chargeback).order_by(Chargeback.id)).all()
    case_id = db.session.scalar(select(Case.id))
    login(make_member("root", admin=True))
    page = client.get("/admin/chargebacks").get_data(as_text=True)
    assert page.index(f'id="chargeback-{second.id}"') < page.index(f'id="chargeback-{first.id}"')
    assert f'href="/cases/{case_id}">#{case_id}</a>' in page
    assert f'href="/wallet/deposits/{covered.id}"' in page and "$15.00" in page  # owed
    assert 'href="/admin/chargebacks"' in client.get("/admin").get_data(as_text=True)


def test_events_about_one_dispute_racing_move_its_money_once(client, standin, race, ada):
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    opened = dispute(deposit)
    kinds = ["charge.dispute.created", "charge.dispute.funds_withdrawn",
             "charge.dispute.closed", "charge.dispute.created"]

    def deliver_one(i: int) -> bool:
        data = {**opened, "status": "lost"} if kinds[i] == "charge.dispute.closed" else opened
        return apply_event(provider="stripe", event_id=f"evt_race_{i}", event_type=kinds[i],
                           data_object=data)

    results, errors = race(4, deliver_one)
    assert errors == [] and results == [True] * 4
    assert count(Chargeback) == 1 and len(transfers(TransferKind.CHARGEBACK)) == 1
    assert wallet_summary(ada.id).total == 0 and chargebacks_balance() == 40_00
    assert_money_checks_pass()


def test_the_api_says_what_is_owed_and_refuses_a_withdrawal_meanwhile(client, standin, ada):
    deposit = paid_deposit(client, standin, ada, 30_00, "k-1")
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=20_00,
                       payout_details="IBAN DE02", idempotency_key="w-1")
    deliver(client, "charge.dispute.created", dispute(deposit))
    token = create_personal_token(actor=fresh(User, ada.id), name="A script",
                                  scopes=["wallet"], days=30)
    headers = {"Authorization": f"Bearer {token.secret}"}
    wallet = client.get("/api/v1/wallet", headers=headers).get_json()
    assert (wallet["available_minor"], wallet["held_minor"], wallet["owed_minor"]) == (
        0, 20_00, 20_00)
    refused = client.post("/api/v1/wallet/withdrawals", headers={
        **headers, "Idempotency-Key": "w-2"}, json={"amount_minor": 10_00,
                                                    "payout_details": "IBAN DE02"})
    assert refused.status_code == 403
    assert "while you owe $20.00" in refused.get_json()["detail"]


def post_event(client, event_type: str, data_object: dict):
    """Deliver one signed event; answer its (body, header) too, for Stripe's redelivery."""
    body, header = signed_event(event_type, data_object, SECRET, timestamp=int(time.time()))
    response = client.post(WEBHOOK, data=body, headers={"Stripe-Signature": header,
                                                        "Content-Type": "application/json"})
    db.session.rollback()
    return response, body, header


@pytest.mark.parametrize("event_type", ["refund.created", "charge.dispute.created"])
def test_a_chargeback_before_its_deposit_completes_is_refused_until_it_does(
        client, standin, ada, event_type):
    deposit = add_funds(actor=ada, amount_minor=40_00, idempotency_key="k-1")
    intent = new_id("payment_intent")
    taken = {"refund.created": fixture("refund", id=new_id("refund"), amount=40_00,
                                       payment_intent=intent, status="succeeded"),
             "charge.dispute.created": fixture("dispute", id=new_id("dispute"), amount=40_00,
                                               payment_intent=intent,
                                               status="needs_response")}[event_type]
    early, body, header = post_event(client, event_type, taken)
    # not recorded and not 2xx: Stripe delivers it again later
    assert early.status_code == 409, early.get_data(as_text=True)
    assert count(ProviderEvent) == 0 and count(Chargeback) == 0
    deliver(client, "checkout.session.completed", {
        **standin.objects[deposit.provider_reference], "status": "complete",
        "payment_status": "paid", "payment_intent": intent})
    assert wallet_summary(ada.id).total == 40_00
    # Stripe's redelivery, the same event, now finds the deposit and takes it back
    again = client.post(WEBHOOK, data=body, headers={"Stripe-Signature": header,
                                                     "Content-Type": "application/json"})
    db.session.rollback()
    assert again.status_code == 200
    assert wallet_summary(ada.id).total == 0 and chargebacks_balance() == 40_00
    assert count(Chargeback) == 1 and count(ProviderEvent) == 2
    assert_money_checks_pass()


def test_a_refund_failed_before_its_deposit_completes_is_refused_until_it_does(
        client, standin, ada):
    add_funds(actor=ada, amount_minor=30_00, idempotency_key="k-1")
    intent = new_id("payment_intent")
    failed = fixture("refund", id=new_id("refund"), amount=30_00, payment_intent=intent,
                     status="failed")
    early, _, _ = post_event(client, "refund.failed", failed)
    assert early.status_code == 409 and count(ProviderEvent) == 0


def test_a_chargeback_for_an_unknown_payment_is_recorded_when_no_deposit_waits(
        client, standin, ada):
    # nothing pending: no deposit of ours could ever have that payment
    response, _, _ = post_event(client, "refund.created", fixture(
        "refund", id=new_id("refund"), amount=10_00, payment_intent=new_id("payment_intent"),
        status="succeeded"))
    assert response.status_code == 200 and count(ProviderEvent) == 1
    assert count(Chargeback) == 0


def test_a_debtors_rejected_withdrawal_pays_the_debt_first(client, standin, make_member, ada):
    deposit = paid_deposit(client, standin, ada, 50_00, "k-1")
    withdrawal = request_withdrawal(actor=fresh(User, ada.id), amount_minor=40_00,
                                    payout_details=None, idempotency_key="w-1")
    deliver(client, "refund.created", refund(deposit, 20_00, status="succeeded"))
    assert (owed(ada), wallet_summary(ada.id).available) == (10_00, 0)
    reject_withdrawal(fresh(Withdrawal, withdrawal.id), actor=make_member("keeper", admin=True),
                      reason="Owes for a refund", password=PASSWORD)
    db.session.rollback()
    # the 40.00 released paid the 10.00 owed first; only the rest can be spent
    summary = wallet_summary(ada.id)
    assert (summary.owed, summary.available, summary.held) == (0, 30_00, 0)
    (repayment,) = db.session.scalars(select(Transfer).where(
        Transfer.kind == TransferKind.DEBT_REPAYMENT)).all()
    assert (repayment.amount_minor, repayment.cause_type, repayment.cause_id) == (
        10_00, "withdrawal", withdrawal.id)
    assert_money_checks_pass()


def test_a_debtors_returned_withdrawal_pays_the_debt_first(client, standin, make_member, ada):
    deposit = paid_deposit(client, standin, ada, 50_00, "k-1")
    withdrawal = request_withdrawal(actor=fresh(User, ada.id), amount_minor=50_00,
                                    payout_details=None, idempotency_key="w-1")
    mark_withdrawal_paid(withdrawal, actor=make_member("keeper", admin=True), reason="Checked",
                         password=PASSWORD)
    paid = fresh(Withdrawal, withdrawal.id)
    assert paid.state == WithdrawalState.PAID
    deliver(client, "charge.dispute.created", dispute(deposit))
    assert owed(ada) == 50_00
    # the payout failed at the bank: Stripe reverses the transfer, the money comes back
    deliver(client, "transfer.reversed", {**standin.objects[paid.transfer_reference],
                                          "reversed": True, "amount_reversed": 50_00})
    assert fresh(Withdrawal, withdrawal.id).state == WithdrawalState.RETURNED
    summary = wallet_summary(ada.id)
    assert (summary.owed, summary.available) == (0, 0)
    assert [t[2] for t in transfers(TransferKind.DEBT_REPAYMENT)] == [50_00]
    assert_money_checks_pass()


def test_a_dispute_won_while_its_opening_commits_gives_the_money_back(
        client, standin, race, ada):
    # "created" holds the deposit's row while "won" arrives: won must wait for that lock
    # before it looks for the chargeback, else (PostgreSQL) it finds none, records
    # nothing, and the money stays taken although the dispute was won
    deposit = paid_deposit(client, standin, ada, 40_00, "k-1")
    opened = dispute(deposit)

    def deliver_one(i: int) -> None:
        if i == 0:
            with atomic():
                apply_event(provider="stripe", event_id="evt_created",
                            event_type="charge.dispute.created", data_object=opened)
                time.sleep(0.6)  # holding the deposit's lock, not committed yet
        else:
            time.sleep(0.2)
            apply_event(provider="stripe", event_id="evt_won",
                        event_type="charge.dispute.closed",
                        data_object={**opened, "status": "won"})

    results, errors = race(2, deliver_one)
    assert errors == []
    (chargeback,) = db.session.scalars(select(Chargeback)).all()
    assert (chargeback.state, chargeback.amount_minor) == (ChargebackState.RETURNED, 40_00)
    assert wallet_summary(ada.id).total == 40_00 and chargebacks_balance() == 0
    assert_money_checks_pass()


def test_the_receipt_names_the_debt_a_deposit_paid(client, login, standin, ada):
    deposit = paid_deposit(client, standin, ada, 30_00, "k-1")
    request_withdrawal(actor=fresh(User, ada.id), amount_minor=30_00, payout_details=None,
                       idempotency_key="w-1")
    deliver(client, "charge.dispute.created", dispute(deposit))
    later = paid_deposit(client, standin, ada, 20_00, "k-2")
    lines = receipt_for(fresh(User, ada.id), "deposit", later.id).lines
    assert [(line.amount_minor, line.counterparty) for line in lines] == [
        (20_00, "Outside the site (the payment provider)"),
        (-20_00, "Your debt for a deposit taken back")]
    login(fresh(User, ada.id))
    page = client.get(f"/wallet/receipts/deposit/{later.id}").get_data(as_text=True)
    assert "Your debt for a deposit taken back" in page and ">debt<" not in page


# --- a chargeback after the member deleted their account --------------------------------

def _spent_and_deleted(client, standin, make_member, member) -> Deposit:
    """A paid $50 deposit, all of it withdrawn and paid out, then the account deleted."""
    deposit = paid_deposit(client, standin, member, 50_00, "k-1")
    withdrawal = request_withdrawal(actor=fresh(User, member.id), amount_minor=50_00,
                                    payout_details=None, idempotency_key="w-1")
    mark_withdrawal_paid(withdrawal, actor=make_member("keeper", admin=True),
                         reason="Checked", password=PASSWORD)
    delete_account(actor=fresh(User, member.id), password=PASSWORD)
    return deposit


def _case_about(member) -> Case:
    (case,) = db.session.scalars(select(Case).where(Case.subject_id == member.id)).all()
    return case


def test_a_dispute_after_the_member_deleted_their_account_leaves_no_debt_but_a_case(
        client, standin, make_member, ada, ivan):
    deposit = _spent_and_deleted(client, standin, make_member, ada)
    deliver(client, "charge.dispute.created", dispute(deposit))
    summary = wallet_summary(ada.id)
    assert (summary.total, summary.owed) == (0, 0)  # no debt on a deleted account
    assert not transfers(TransferKind.CHARGEBACK)
    case = _case_about(ada)
    assert case.kind == CaseKind.OTHER and case.source == CaseSource.SYSTEM
    assert f"deposit #{deposit.id}" in case.summary and "$50.00" in case.summary
    assert why_cannot_invite(fresh(User, ivan.id)) is None  # nobody on the hook for it
    assert count(Notification, Notification.kind == "chargeback") == 0
    assert_money_checks_pass()


def test_a_dispute_won_after_the_member_deleted_their_account_is_set_aside(
        client, standin, make_member, ada):
    deposit = paid_deposit(client, standin, ada, 50_00, "k-0")
    opened = dispute(deposit)
    deliver(client, "charge.dispute.created", opened)  # the wallet covers it
    delete_account(actor=fresh(User, ada.id), password=PASSWORD)
    deliver(client, "charge.dispute.closed", {**opened, "status": "won"})
    assert wallet_summary(ada.id).total == 0 and chargebacks_balance() == 0
    unclaimed = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.kind == AccountKind.UNCLAIMED))
    assert unclaimed.balance == 50_00
    case = _case_about(ada)
    assert f"deposit #{deposit.id}" in case.summary and "unclaimed account" in case.summary
    assert count(Notification, Notification.kind == "chargeback",
                 Notification.user_id == ada.id) == 0
    assert_money_checks_pass()


def test_a_dispute_taken_and_won_after_deletion_moves_nothing_and_says_so(
        client, standin, make_member, ada):
    deposit = _spent_and_deleted(client, standin, make_member, ada)
    opened = dispute(deposit)
    deliver(client, "charge.dispute.created", opened)
    deliver(client, "charge.dispute.closed", {**opened, "status": "won"})
    assert wallet_summary(ada.id).total == 0
    assert not transfers(TransferKind.CHARGEBACK_RETURN)
    taken, won = db.session.scalars(select(Case).where(Case.subject_id == ada.id)
                                    .order_by(Case.id)).all()
    assert "came back" in won.summary and f"deposit #{deposit.id}" in won.summary
    assert_money_checks_pass()
