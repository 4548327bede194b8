"""Withdrawals paid out through Stripe Connect (Express), against the loopback stand-in
for Stripe's API (tests/support/stripe_standin.py) and signed events through the real
webhook route: a member's payout account (created once, onboarded on Stripe, its state
read from Stripe's API), the admin's approval making a Transfer, and the money coming
back when the Transfer is reversed or the payout to the bank fails."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.services import create_personal_token
from offload.cases.models import Case, CaseState
from offload.core.db import db
from offload.core.errors import Conflict, Invalid
from offload.health import MONEY_CHECKS
from offload.jobs.registry import JOBS
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.payments.models import ProviderEvent
from offload.privacy.services import delete_account
from offload.wallet.connect import connect_payout_account, refresh_payout_account
from offload.wallet.models import PayoutAccount, SendFailure, Withdrawal, WithdrawalState
from offload.wallet.providers import ProviderError, TransferRefused, TransferUnsure
from offload.wallet.queries import wallet_summary
from offload.wallet.services import (
    add_funds,
    mark_withdrawal_paid,
    reject_withdrawal,
    request_withdrawal,
    reverse_returning_withdrawals,
    transfer_idempotency_key,
)
from tests.support.factories import PASSWORD, count, fresh, fund, new_key, transfer_count
from tests.support.stripe_standin import configured_standin, fixture, new_id, signed_event

SECRET = "whsec_test_offload"
CONNECT_SECRET = "whsec_test_offload_connect"  # Stripe signs a Connect endpoint apart
WEBHOOK = "/payments/stripe/webhook"
CONNECT_WEBHOOK = "/payments/stripe/connect-webhook"
ACCOUNTS, LINKS, TRANSFERS = "/v1/accounts", "/v1/account_links", "/v1/transfers"


@pytest.fixture
def standin(app, monkeypatch):
    with configured_standin(app, monkeypatch, SECRET) as server:
        monkeypatch.setitem(app.config, "STRIPE_CONNECT_WEBHOOK_SECRET", CONNECT_SECRET)
        yield server


@pytest.fixture
def ada(app, make_member):
    """A member with $100 in the wallet (a sandbox deposit: deposits are tested apart)."""
    member = make_member("ada")
    provider = app.config["PAYMENT_PROVIDER"]
    app.config["PAYMENT_PROVIDER"] = "sandbox"
    try:
        fund(member, 100_00)
    finally:
        app.config["PAYMENT_PROVIDER"] = provider
    return member


@pytest.fixture
def admin(make_member):
    return make_member("root", admin=True)


def _calls(standin, path, method="POST"):
    return [r for r in standin.requests if (r.method, r.path) == (method, path)]


def _ready(standin, member) -> str:
    """Connect ``member``'s payout account and have Stripe say it can be paid."""
    connect_payout_account(actor=member)
    reference = db.session.scalar(select(PayoutAccount.account_reference)
                                  .where(PayoutAccount.member_id == member.id))
    standin.objects[reference].update(details_submitted=True, payouts_enabled=True,
                                      requirements={**standin.objects[reference]["requirements"],
                                                    "currently_due": [], "past_due": []})
    refresh_payout_account(actor=member)
    return reference


def _withdrawal(member, amount_minor=40_00) -> Withdrawal:
    return request_withdrawal(actor=member, amount_minor=amount_minor, payout_details=None,
                              idempotency_key=new_key())


def _fresh(withdrawal_id) -> Withdrawal:
    db.session.rollback()
    return db.session.get(Withdrawal, withdrawal_id)


def _post_event(client, event_type, data_object, *, secret, url, account=None):
    body, header = signed_event(event_type, data_object, secret, timestamp=int(time.time()),
                                account=account)
    return client.post(url, data=body, headers={"Stripe-Signature": header,
                                                "Content-Type": "application/json"})


def _deliver(client, event_type, data_object, account=None):
    """As Stripe delivers: an event on a connected account to the Connect endpoint, signed
    with its secret; one on our own account to the platform endpoint."""
    response = _post_event(client, event_type, data_object, account=account,
                           secret=CONNECT_SECRET if account else SECRET,
                           url=CONNECT_WEBHOOK if account else WEBHOOK)
    assert response.status_code == 200
    return response


def _told(member, kind) -> int:
    db.session.rollback()
    return count(Notification, Notification.user_id == member.id, Notification.kind == kind)


# --- the payout account ----------------------------------------------------------------

def test_connecting_creates_the_account_once_and_sends_the_member_to_onboarding(
        client, login, standin, ada):
    login(ada)
    first = client.post("/wallet/payout-account")
    (account,) = db.session.scalars(select(PayoutAccount)).all()
    link = f"{standin.url}/onboard/{account.account_reference}"
    assert first.status_code == 200  # a page that goes on to Stripe (CSP: no form redirect)
    assert f'content="0;url={link}"' in first.get_data(as_text=True)
    assert f'id="onboarding-link" href="{link}"' in first.get_data(as_text=True)
    (made,) = _calls(standin, ACCOUNTS)
    assert made.params["type"] == "express" and made.params["email"] == ada.email
    assert made.params["capabilities[transfers][requested]"] == "true"
    assert made.idempotency_key == f"offload-connect-account-{ada.id}"
    (link,) = _calls(standin, LINKS)
    assert link.params["account"] == account.account_reference
    assert link.params["type"] == "account_onboarding"
    assert link.params["return_url"].endswith("/wallet/payout-account")
    assert link.params["refresh_url"].endswith("/wallet/payout-account/refresh")
    assert not account.is_payouts_enabled

    again = client.post("/wallet/payout-account")  # onboarding left halfway: a new link
    assert again.status_code == 200 and len(_calls(standin, LINKS)) == 2
    assert len(_calls(standin, ACCOUNTS)) == 1 and count(PayoutAccount) == 1


def test_the_return_page_reads_the_account_from_stripe_never_the_query_string(
        client, login, standin, ada):
    login(ada)
    client.post("/wallet/payout-account")
    reference = db.session.scalar(select(PayoutAccount.account_reference))
    page = client.get("/wallet/payout-account?payouts_enabled=true&status=enabled"
                      "&details_submitted=true")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-payout-status="more information needed"' in html
    assert "6 items due" in html and 'href="/wallet/payout-account/refresh"' in html
    assert len(_calls(standin, f"{ACCOUNTS}/{reference}", "GET")) == 1
    db.session.rollback()
    assert not db.session.scalar(select(PayoutAccount.is_payouts_enabled))
    with pytest.raises(Invalid, match="Connect a payout account first"):
        _withdrawal(ada)

    standin.objects[reference].update(details_submitted=True, payouts_enabled=True)
    html = client.get("/wallet/payout-account").get_data(as_text=True)
    assert 'data-payout-status="ready"' in html
    db.session.rollback()
    assert db.session.scalar(select(PayoutAccount.is_payouts_enabled))
    wallet = client.get("/wallet").get_data(as_text=True)
    assert 'data-payout-status="ready"' in wallet and "withdrawal-payout_details" not in wallet


def test_the_refresh_url_makes_a_fresh_link_and_changes_nothing(client, login, standin, ada):
    login(ada)
    assert client.get("/wallet/payout-account/refresh").headers["Location"] == (
        "/wallet/payout-account")  # no account yet: nothing to link to
    client.post("/wallet/payout-account")
    reference = db.session.scalar(select(PayoutAccount.account_reference))
    response = client.get("/wallet/payout-account/refresh")
    assert response.headers["Location"] == f"{standin.url}/onboard/{reference}"
    assert len(_calls(standin, LINKS)) == 2 and len(_calls(standin, ACCOUNTS)) == 1


def test_account_updated_events_keep_the_accounts_state(client, standin, ada):
    connect_payout_account(actor=ada)
    reference = db.session.scalar(select(PayoutAccount.account_reference))
    account = {**standin.objects[reference], "details_submitted": True,
               "payouts_enabled": True}
    account["requirements"] = {**account["requirements"], "currently_due": []}
    _deliver(client, "account.updated", account, account=reference)
    db.session.rollback()
    stored = db.session.scalars(select(PayoutAccount)).one()
    assert stored.is_payouts_enabled and stored.is_details_submitted
    assert stored.requirements_due == 0
    _deliver(client, "account.updated", {**account, "id": "acct_someone_else"},
             account="acct_someone_else")
    assert count(PayoutAccount) == 1 and count(ProviderEvent) == 2


def test_connect_events_are_verified_with_the_connect_endpoints_own_secret(
        client, standin, ada):
    connect_payout_account(actor=ada)
    reference = db.session.scalar(select(PayoutAccount.account_reference))
    account = {**standin.objects[reference], "details_submitted": True,
               "payouts_enabled": True}
    # signed with the platform endpoint's secret: not Stripe's signature for this one
    refused = _post_event(client, "account.updated", account, account=reference,
                          secret=SECRET, url=CONNECT_WEBHOOK)
    # and the platform endpoint is not signed with the Connect secret
    also_refused = _post_event(client, "account.updated", account, account=reference,
                               secret=CONNECT_SECRET, url=WEBHOOK)
    # a Connect endpoint's event always names the connected account
    unnamed = _post_event(client, "account.updated", account, secret=CONNECT_SECRET,
                          url=CONNECT_WEBHOOK)
    assert [r.status_code for r in (refused, also_refused, unnamed)] == [400, 400, 400]
    assert count(ProviderEvent) == 0
    _deliver(client, "account.updated", account, account=reference)
    db.session.rollback()
    assert db.session.scalars(select(PayoutAccount)).one().is_payouts_enabled


def test_each_endpoint_applies_only_its_own_events(client, standin, ada, admin):
    paid = _paid(standin, ada, admin)
    destination = standin.objects[paid.transfer_reference]["destination"]
    reversed_transfer = {**standin.objects[paid.transfer_reference], "reversed": True,
                         "amount_reversed": 40_00}
    # a platform event type on the Connect endpoint, a Connect one on the platform's
    _deliver(client, "transfer.reversed", reversed_transfer, account=destination)
    assert _post_event(client, "payout.failed", _failed_payout(40_00), account=destination,
                       secret=SECRET, url=WEBHOOK).status_code == 200
    assert _fresh(paid.id).state == WithdrawalState.PAID and not _reversals()
    assert count(ProviderEvent) == 1  # recorded on its endpoint; the stray one ignored


def test_without_the_connect_secret_connect_events_are_refused(
        app, client, monkeypatch, standin, ada):
    monkeypatch.setitem(app.config, "STRIPE_CONNECT_WEBHOOK_SECRET", "")
    response = _post_event(client, "account.updated", {"id": "acct_x"}, account="acct_x",
                           secret="", url=CONNECT_WEBHOOK)
    assert response.status_code == 400 and count(ProviderEvent) == 0


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_stripe_failing_at_the_account_leaves_nothing_and_the_retry_reuses_the_key(
        app, monkeypatch, standin, ada, failure):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    if failure == "500":
        standin.fail_next(ACCOUNTS, 500)
    else:
        standin.delay_next(ACCOUNTS, 1.0)  # Stripe makes it; we stop waiting
    with pytest.raises(ProviderError, match="set up your payout account"):
        connect_payout_account(actor=ada)
    assert count(PayoutAccount) == 0 and not _calls(standin, LINKS)
    deadline = time.monotonic() + 5
    while failure == "timeout" and not [o for o in standin.objects.values()
                                        if o["object"] == "account"]:
        assert time.monotonic() < deadline, "the slow request never finished"
        time.sleep(0.05)
    connect_payout_account(actor=ada)
    keys = {r.idempotency_key for r in _calls(standin, ACCOUNTS)}
    made = [o["id"] for o in standin.objects.values() if o["object"] == "account"]
    assert keys == {f"offload-connect-account-{ada.id}"} and len(made) == 1
    assert db.session.scalar(select(PayoutAccount.account_reference)) == made[0]


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_stripe_failing_at_the_link_keeps_the_account_and_says_so(
        app, client, login, monkeypatch, standin, ada, failure):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    if failure == "500":
        standin.fail_next(LINKS, 500)
    else:
        standin.delay_next(LINKS, 1.0)
    login(ada)
    response = client.post("/wallet/payout-account")
    assert response.status_code == 422
    assert "couldn&#39;t reach our payment provider" in response.get_data(as_text=True)
    assert count(PayoutAccount) == 1
    assert client.post("/wallet/payout-account").status_code == 200
    assert len(_calls(standin, ACCOUNTS)) == 1 and count(PayoutAccount) == 1


# --- paying a withdrawal ---------------------------------------------------------------

def test_an_approved_withdrawal_is_a_transfer_with_its_key_and_posts_the_hold(
        client, caplog, standin, ada, admin, outbox):
    reference = _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    assert withdrawal.payout_details == f"Stripe payout account {reference}"
    assert wallet_summary(ada.id).available == 60_00 and not _calls(standin, TRANSFERS)

    paid = mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    (call,) = _calls(standin, TRANSFERS)
    assert call.idempotency_key == transfer_idempotency_key(withdrawal.id, 0)
    assert (call.params["amount"], call.params["currency"], call.params["destination"]) == (
        "4000", "usd", reference)
    assert call.params["metadata[withdrawal_id]"] == str(withdrawal.id)
    done = _fresh(paid.id)
    assert done.state == WithdrawalState.PAID and done.transfer_reference == (
        [o["id"] for o in standin.objects.values() if o["object"] == "transfer"][0])
    summary = wallet_summary(ada.id)
    assert (summary.total, summary.held) == (60_00, 0)
    assert _told(ada, "withdrawal_paid") == 1 and outbox.to(ada.email)
    assert count(ModerationEntry, ModerationEntry.action == "withdrawal_sending") == 1

    # Stripe's own transfer.created, after the call recorded it, changes nothing
    _deliver(client, "transfer.created", standin.objects[done.transfer_reference])
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert transfer_count() == 3 and _fresh(paid.id).state == WithdrawalState.PAID
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_stripe_failing_at_the_transfer_leaves_it_sending_and_the_retry_pays_once(
        app, monkeypatch, standin, ada, admin, failure):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    if failure == "500":
        standin.fail_next(TRANSFERS, 500)
    else:
        standin.delay_next(TRANSFERS, 1.0)  # Stripe makes it; we stop waiting
    with pytest.raises(TransferUnsure, match="never made twice"):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    sending = _fresh(withdrawal.id)
    assert (sending.state, sending.send_failure) == (WithdrawalState.SENDING, SendFailure.UNSURE)
    assert sending.settle_transfer_id is None and wallet_summary(ada.id).held == 40_00
    assert run_checks(MONEY_CHECKS) == []
    with pytest.raises(Conflict, match="may have made"):  # it may be paid: not released
        reject_withdrawal(sending, actor=admin, reason="Never mind", password=PASSWORD)
    time.sleep(1.0 if failure == "timeout" else 0)

    paid = mark_withdrawal_paid(sending, actor=admin, reason="Retry", password=PASSWORD)
    keys = {r.idempotency_key for r in _calls(standin, TRANSFERS)}
    made = [o["id"] for o in standin.objects.values() if o["object"] == "transfer"]
    assert keys == {transfer_idempotency_key(withdrawal.id, 0)} and len(made) == 1
    assert _fresh(paid.id).state == WithdrawalState.PAID
    assert _fresh(paid.id).transfer_reference == made[0]
    assert wallet_summary(ada.id).total == 60_00 and run_checks(MONEY_CHECKS) == []


def _stripe_deposit(client, standin, member) -> str:
    """A paid $50 Checkout deposit, with the payout account ready; its payment intent."""
    _ready(standin, member)
    deposit = add_funds(actor=member, amount_minor=50_00, idempotency_key=new_key())
    intent = new_id("payment_intent")
    _deliver(client, "checkout.session.completed", {
        **standin.objects[deposit.provider_reference], "status": "complete",
        "payment_status": "paid", "payment_intent": intent})
    return intent


def _owe_the_deposit(client, member, intent) -> None:
    """Hold all that is available, then have the deposit disputed: it is all owed."""
    _withdrawal(member, amount_minor=wallet_summary(member.id).available)
    _deliver(client, "charge.dispute.created", fixture(
        "dispute", id=new_id("dispute"), amount=50_00, payment_intent=intent,
        status="needs_response", reason="fraudulent"))


def test_a_debt_owed_since_an_unsure_transfer_doesnt_block_its_retry(
        client, standin, ada, admin):
    """Stripe may have made the transfer already: the retry (same key) changes nothing at
    Stripe, and refusing it for the debt would leave the hold stuck (nor can the
    withdrawal be rejected while unsure)."""
    intent = _stripe_deposit(client, standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, 500)
    with pytest.raises(TransferUnsure):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    _owe_the_deposit(client, ada, intent)
    assert wallet_summary(ada.id).owed == 50_00

    paid = mark_withdrawal_paid(_fresh(withdrawal.id), actor=admin, reason="Retry",
                                password=PASSWORD)
    assert _fresh(paid.id).state == WithdrawalState.PAID
    assert {r.idempotency_key for r in _calls(standin, TRANSFERS)} == {
        transfer_idempotency_key(withdrawal.id, 0)}
    assert run_checks(MONEY_CHECKS) == []


def test_a_debt_blocks_a_new_transfer_after_a_refusal(client, standin, ada, admin):
    """After Stripe refused, no transfer exists and the retry makes a new one (a new
    key): while the member owes, that would pay out as the debt stays."""
    intent = _stripe_deposit(client, standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, 400)
    with pytest.raises(TransferRefused):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    _owe_the_deposit(client, ada, intent)
    with pytest.raises(Conflict, match="owes"):
        mark_withdrawal_paid(_fresh(withdrawal.id), actor=admin, reason="Retry",
                             password=PASSWORD)
    assert len(_calls(standin, TRANSFERS)) == 1
    assert _fresh(withdrawal.id).state == WithdrawalState.SENDING
    assert run_checks(MONEY_CHECKS) == []


def test_a_transfer_created_event_records_the_transfer_a_timed_out_call_made(
        app, client, monkeypatch, standin, ada, admin):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    standin.delay_next(TRANSFERS, 1.0)
    with pytest.raises(TransferUnsure):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    time.sleep(1.0)
    (transfer,) = [o for o in standin.objects.values() if o["object"] == "transfer"]
    _deliver(client, "transfer.created", {**transfer, "amount": 1})  # not this one's
    assert _fresh(withdrawal.id).state == WithdrawalState.SENDING
    _deliver(client, "transfer.created", transfer)
    paid = _fresh(withdrawal.id)
    assert (paid.state, paid.transfer_reference) == (WithdrawalState.PAID, transfer["id"])
    assert wallet_summary(ada.id).total == 60_00 and run_checks(MONEY_CHECKS) == []


def test_a_refusal_by_stripe_can_be_rejected_to_release_the_hold(standin, ada, admin):
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, 400)
    with pytest.raises(TransferRefused, match="Stripe refused the transfer"):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    refused = _fresh(withdrawal.id)
    assert (refused.send_failure, refused.send_refusals) == (SendFailure.REFUSED, 1)
    rejected = reject_withdrawal(refused, actor=admin, reason="Stripe says no",
                                 password=PASSWORD)
    assert _fresh(rejected.id).state == WithdrawalState.REJECTED
    summary = wallet_summary(ada.id)
    assert (summary.available, summary.held) == (100_00, 0)
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize("status", [401, 403])
def test_stripe_refusing_our_key_is_unsure_not_a_refusal_of_the_transfer(
        standin, ada, admin, status):
    """A 401 or 403 is about our API key (revoked, restricted), not this transfer: it
    is not counted as refused, so the withdrawal can't be rejected (and paid twice if
    the key's problem hid a transfer) and the retry keeps the key."""
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, status)
    with pytest.raises(TransferUnsure):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    sending = _fresh(withdrawal.id)
    assert (sending.send_failure, sending.send_refusals) == (SendFailure.UNSURE, 0)
    with pytest.raises(Conflict, match="may have made"):
        reject_withdrawal(sending, actor=admin, reason="Never mind", password=PASSWORD)
    mark_withdrawal_paid(_fresh(withdrawal.id), actor=admin, reason="Again",
                         password=PASSWORD)
    assert {r.idempotency_key for r in _calls(standin, TRANSFERS)} == {
        transfer_idempotency_key(withdrawal.id, 0)}
    assert run_checks(MONEY_CHECKS) == []


def test_a_transfer_for_a_withdrawal_no_longer_sending_is_an_error(
        client, caplog, standin, ada, admin):
    """Stripe made a transfer for a withdrawal already rejected (its hold released):
    the member may be paid twice, which a person must look at."""
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, 400)
    with pytest.raises(TransferRefused):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    reject_withdrawal(_fresh(withdrawal.id), actor=admin, reason="No", password=PASSWORD)
    transfer = fixture("transfer", id=new_id("transfer"), amount=40_00,
                       metadata={"withdrawal_id": str(withdrawal.id)})
    caplog.clear()
    _deliver(client, "transfer.created", transfer)
    (error,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert error.getMessage() == "stripe transfer for a withdrawal not being sent: " \
        "it may be paid twice"
    assert (error.withdrawal_id, error.transfer_reference, error.state) == (
        withdrawal.id, transfer["id"], WithdrawalState.REJECTED)
    assert _fresh(withdrawal.id).state == WithdrawalState.REJECTED
    assert run_checks(MONEY_CHECKS) == []


def test_a_refusal_by_stripe_can_be_retried_with_a_new_key(standin, ada, admin):
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    standin.fail_next(TRANSFERS, 400)
    with pytest.raises(TransferRefused):
        mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    mark_withdrawal_paid(_fresh(withdrawal.id), actor=admin, reason="Again",
                         password=PASSWORD)
    # Stripe keeps a refused request's answer for its key: the retry needs another one
    assert [r.idempotency_key for r in _calls(standin, TRANSFERS)] == [
        transfer_idempotency_key(withdrawal.id, 0), transfer_idempotency_key(withdrawal.id, 1)]
    assert _fresh(withdrawal.id).state == WithdrawalState.PAID
    assert run_checks(MONEY_CHECKS) == []


def test_the_admin_queue_says_what_stripe_did_and_keeps_the_reason(
        client, login, standin, ada, admin):
    _ready(standin, ada)
    withdrawal = _withdrawal(ada)
    login(admin)
    standin.fail_next(TRANSFERS, 500)
    form = {f"paid-{withdrawal.id}-reason": "Checked the account",
            f"paid-{withdrawal.id}-password": PASSWORD}
    response = client.post(f"/admin/withdrawals/{withdrawal.id}/paid", data=form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Checked the account" in html
    assert "can&#39;t tell yet whether" in html and "Retry transfer" in html
    assert "Reject withdrawal" not in html  # unsure: not releasable
    response = client.post(f"/admin/withdrawals/{withdrawal.id}/paid", data=form)
    assert response.status_code == 302
    assert _fresh(withdrawal.id).state == WithdrawalState.PAID
    queue = client.get("/admin/withdrawals").get_data(as_text=True)
    assert f"Withdrawal #{withdrawal.id} is paid through Stripe" in queue
    assert f'id="withdrawal-{withdrawal.id}"' not in queue


# --- money coming back -----------------------------------------------------------------

def _paid(standin, member, admin) -> Withdrawal:
    _ready(standin, member)
    withdrawal = _withdrawal(member)
    mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    return _fresh(withdrawal.id)


def _failed_payout(amount_minor: int, **fields) -> dict:
    return fixture("payout", id=new_id("payout"), amount=amount_minor, status="failed",
                   **fields)


def _reversals() -> list[Transfer]:
    db.session.rollback()
    return db.session.scalars(select(Transfer).where(
        Transfer.kind == TransferKind.REVERSAL)).all()


def test_a_reversed_transfer_returns_the_money_once_and_tells_the_member(
        client, standin, ada, admin, outbox):
    paid = _paid(standin, ada, admin)
    transfer = {**standin.objects[paid.transfer_reference], "reversed": True,
                "amount_reversed": 40_00}
    for _ in range(2):  # the event, and another one saying the same
        _deliver(client, "transfer.reversed", transfer)
    returned = _fresh(paid.id)
    (reversal,) = _reversals()
    assert returned.state == WithdrawalState.RETURNED
    assert (returned.return_transfer_id, reversal.reverses_id) == (
        reversal.id, paid.settle_transfer_id)
    assert wallet_summary(ada.id).available == 100_00
    assert _told(ada, "withdrawal_returned") == 1
    assert "came back to your wallet" in outbox.to(ada.email)[-1].subject
    assert run_checks(MONEY_CHECKS) == []


def test_a_partly_reversed_transfer_changes_nothing(client, standin, ada, admin):
    paid = _paid(standin, ada, admin)
    _deliver(client, "transfer.reversed", {**standin.objects[paid.transfer_reference],
                                           "amount_reversed": 10_00})
    assert _fresh(paid.id).state == WithdrawalState.PAID and not _reversals()


def test_a_failed_payout_reverses_the_transfer_then_returns_the_money_once(
        client, standin, ada, admin, outbox):
    paid = _paid(standin, ada, admin)
    reference = standin.objects[paid.transfer_reference]["destination"]
    payout = _failed_payout(40_00, failure_code="account_closed")
    _deliver(client, "payout.failed", payout, account=reference)
    # the money is on the member's Stripe balance, not ours: nothing credited yet
    assert _fresh(paid.id).state == WithdrawalState.RETURNING
    assert wallet_summary(ada.id).total == 60_00 and run_checks(MONEY_CHECKS) == []

    assert reverse_returning_withdrawals() == 1
    (call,) = _calls(standin, f"{TRANSFERS}/{paid.transfer_reference}/reversals")
    assert call.idempotency_key == f"offload-withdrawal-{paid.id}-reversal"
    assert standin.objects[paid.transfer_reference]["reversed"] is True
    assert _fresh(paid.id).state == WithdrawalState.RETURNED
    assert wallet_summary(ada.id).available == 100_00 and len(_reversals()) == 1
    assert _told(ada, "withdrawal_returned") == 1

    # Stripe's transfer.reversed for that reversal, the same failure again, another run
    _deliver(client, "transfer.reversed", standin.objects[paid.transfer_reference])
    _deliver(client, "payout.failed", payout, account=reference)
    assert reverse_returning_withdrawals() == 0
    assert len(_reversals()) == 1 and _told(ada, "withdrawal_returned") == 1
    assert wallet_summary(ada.id).available == 100_00 and run_checks(MONEY_CHECKS) == []


def test_the_reversal_event_first_then_the_failed_payout_returns_once(
        client, standin, ada, admin):
    paid = _paid(standin, ada, admin)
    transfer = standin.objects[paid.transfer_reference]
    payout = _failed_payout(40_00)
    _deliver(client, "transfer.reversed", {**transfer, "reversed": True,
                                           "amount_reversed": 40_00})
    _deliver(client, "payout.failed", payout, account=transfer["destination"])
    assert reverse_returning_withdrawals() == 0
    assert _fresh(paid.id).state == WithdrawalState.RETURNED and len(_reversals()) == 1
    assert wallet_summary(ada.id).available == 100_00 and run_checks(MONEY_CHECKS) == []


def test_a_reversal_stripe_fails_is_retried_by_the_next_run_with_the_same_key(
        client, standin, ada, admin):
    paid = _paid(standin, ada, admin)
    destination = standin.objects[paid.transfer_reference]["destination"]
    _deliver(client, "payout.failed", _failed_payout(40_00), account=destination)
    path = f"{TRANSFERS}/{paid.transfer_reference}/reversals"
    standin.fail_next(path, 500)
    assert reverse_returning_withdrawals() == 0
    assert _fresh(paid.id).state == WithdrawalState.RETURNING and not _reversals()
    assert reverse_returning_withdrawals() == 1
    assert len({r.idempotency_key for r in _calls(standin, path)}) == 1
    assert _fresh(paid.id).state == WithdrawalState.RETURNED
    assert run_checks(MONEY_CHECKS) == []


def test_a_reversal_stripe_refuses_gets_a_new_key_then_goes_to_the_admins(
        app, client, login, caplog, standin, ada, admin):
    """Stripe replays a refused request's answer for its key: each refusal counts in the
    next key, and after STRIPE_REVERSAL_REFUSALS_MAX the job stops and tells people."""
    assert app.config["STRIPE_REVERSAL_REFUSALS_MAX"] == 3
    paid = _paid(standin, ada, admin)
    destination = standin.objects[paid.transfer_reference]["destination"]
    _deliver(client, "payout.failed", _failed_payout(40_00), account=destination)
    path = f"{TRANSFERS}/{paid.transfer_reference}/reversals"
    for _ in range(3):
        standin.fail_next(path, 400)
        assert reverse_returning_withdrawals() == 0
    assert [r.idempotency_key for r in _calls(standin, path)] == [
        f"offload-withdrawal-{paid.id}-reversal", f"offload-withdrawal-{paid.id}-reversal-1",
        f"offload-withdrawal-{paid.id}-reversal-2"]
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == [
        "withdrawal reversal refused; left to an admin"]
    assert reverse_returning_withdrawals() == 0 and len(_calls(standin, path)) == 3
    stuck = _fresh(paid.id)
    assert (stuck.state, stuck.send_failure) == (WithdrawalState.RETURNING, SendFailure.REFUSED)

    login(admin)
    queue = client.get("/admin/withdrawals").get_data(as_text=True)
    assert f'id="withdrawal-{paid.id}"' in queue
    assert "Reversal refused: Stripe refused the reversal (400): The stand-in was told " \
        "to fail." in queue
    # an admin reverses it in Stripe's dashboard: its event brings the money back
    _deliver(client, "transfer.reversed", {**standin.objects[paid.transfer_reference],
                                           "reversed": True, "amount_reversed": 40_00})
    assert _fresh(paid.id).state == WithdrawalState.RETURNED
    assert f'id="withdrawal-{paid.id}"' not in client.get("/admin/withdrawals").get_data(
        as_text=True)
    assert run_checks(MONEY_CHECKS) == []


def test_our_own_accounts_failed_payout_is_not_a_members(client, standin, ada, admin):
    paid = _paid(standin, ada, admin)
    _deliver(client, "payout.failed", _failed_payout(40_00))
    assert _fresh(paid.id).state == WithdrawalState.PAID and count(ProviderEvent) == 1


def test_without_stripe_the_sandbox_withdrawal_is_unchanged(client, login, make_member):
    member = make_member("grace")
    fund(member, 50_00)
    login(member)
    page = client.get("/wallet").get_data(as_text=True)
    assert "withdrawal-payout_details" in page and "payout-account" not in page
    assert "no payout account to connect" in client.get(
        "/wallet/payout-account").get_data(as_text=True)
    withdrawal = request_withdrawal(actor=member, amount_minor=20_00, payout_details="IBAN X",
                                    idempotency_key=new_key())
    assert withdrawal.payout_account_id is None and count(PayoutAccount) == 0


def test_the_apis_withdrawal_goes_to_the_payout_account_without_details(
        client, standin, ada):
    token = create_personal_token(actor=ada, name="A script", scopes=["wallet"], days=30)
    headers = {"Authorization": f"Bearer {token.secret}"}
    refused = client.post("/api/v1/wallet/withdrawals", json={"amount_minor": 40_00},
                          headers={**headers, "Idempotency-Key": "k-1"})
    assert refused.status_code == 422
    assert "Connect a payout account first" in refused.get_json()["detail"]
    reference = _ready(standin, ada)
    made = client.post("/api/v1/wallet/withdrawals", json={"amount_minor": 40_00},
                       headers={**headers, "Idempotency-Key": "k-2"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["payout_details"] == f"Stripe payout account {reference}"
    assert made.get_json()["state"] == "requested" and wallet_summary(ada.id).held == 40_00


# --- money coming back for a member who deleted their account ---------------------------

def _paid_then_deleted(standin, member, admin) -> Withdrawal:
    """All of ``member``'s $100 paid out, then the account deleted (nothing blocks it)."""
    _ready(standin, member)
    withdrawal = _withdrawal(member, 100_00)
    mark_withdrawal_paid(withdrawal, actor=admin, reason="Checked", password=PASSWORD)
    delete_account(actor=fresh(User, member.id), password=PASSWORD)
    return _fresh(withdrawal.id)


def _set_aside_for_the_admins(member, withdrawal) -> None:
    db.session.rollback()
    assert withdrawal.state == WithdrawalState.RETURNED
    assert wallet_summary(member.id).total == 0  # nobody could spend it there
    unclaimed = db.session.scalar(select(LedgerAccount).where(
        LedgerAccount.kind == AccountKind.UNCLAIMED))
    assert unclaimed.balance == 100_00
    (case,) = db.session.scalars(select(Case).where(Case.subject_id == member.id)).all()
    assert case.state == CaseState.OPEN and f"Withdrawal #{withdrawal.id}" in case.summary
    assert "unclaimed account" in case.summary
    assert _told(member, "withdrawal_returned") == 0
    assert run_checks(MONEY_CHECKS) == []


def test_a_transfer_reversed_after_the_member_deleted_their_account_goes_to_the_admins(
        client, standin, ada, admin):
    paid = _paid_then_deleted(standin, ada, admin)
    transfer = {**standin.objects[paid.transfer_reference], "reversed": True,
                "amount_reversed": 100_00}
    for _ in range(2):
        _deliver(client, "transfer.reversed", transfer)
    _set_aside_for_the_admins(ada, _fresh(paid.id))


def test_a_payout_failing_after_the_member_deleted_their_account_goes_to_the_admins(
        client, standin, ada, admin):
    paid = _paid_then_deleted(standin, ada, admin)
    destination = standin.objects[paid.transfer_reference]["destination"]
    _deliver(client, "payout.failed", _failed_payout(100_00), account=destination)
    (job,) = [job for job in JOBS if job.name == "reverse_returning_withdrawals"]
    assert job.run() == "returned 1 withdrawals whose payout failed"
    _deliver(client, "transfer.reversed", standin.objects[paid.transfer_reference])
    _set_aside_for_the_admins(ada, _fresh(paid.id))
