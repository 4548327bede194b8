"""Deposits through Stripe (``StripeProvider`` and its webhook), against the loopback
stand-in for Stripe's API (tests/support/stripe_standin.py): a deposit is pending with
its checkout session until a signed ``checkout.session.*`` event settles it, once."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from offload.accounts.services import create_personal_token
from offload.cases.models import Case, EvidenceKind
from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.payments.models import ProviderEvent
from offload.privacy import services as privacy_services
from offload.privacy.services import delete_account
from offload.wallet.models import Deposit, DepositState
from offload.wallet.providers import ProviderError, stripe_idempotency_key
from offload.wallet.queries import wallet_summary
from offload.wallet.services import add_funds
from tests.support.cases import evidence_of
from tests.support.factories import PASSWORD, count, transfer_count
from tests.support.stripe_standin import WEBHOOK_SECRET, signed_event

SECRET = WEBHOOK_SECRET
WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
def ada(make_member):
    return make_member("ada")


def _deliver(client, event_type, session, *, secret=SECRET, age=0, payload=None):
    body, header = signed_event(event_type, session, secret, timestamp=int(time.time()) - age)
    response = client.post(WEBHOOK, data=payload or body,
                           headers={"Stripe-Signature": header,
                                    "Content-Type": "application/json"})
    return response, body


def _session(standin, deposit, **fields):
    return {**standin.objects[deposit.provider_reference], **fields}


def _state(deposit_id):
    db.session.rollback()
    return db.session.get(Deposit, deposit_id).state


def test_a_deposit_is_pending_with_its_checkout_session_until_the_webhook_credits_it(
        client, standin, ada):
    deposit = add_funds(actor=ada, amount_minor=25_00, idempotency_key="k-1")
    made = standin.objects[deposit.provider_reference]
    (call,) = standin.requests
    assert (call.method, call.path) == ("POST", "/v1/checkout/sessions")
    assert call.params["mode"] == "payment" and call.params["client_reference_id"] == str(ada.id)
    assert call.params["line_items[0][price_data][unit_amount]"] == "2500"
    assert call.params["line_items[0][price_data][currency]"] == "usd"
    assert call.params["metadata[member_id]"] == str(ada.id)
    assert "/wallet?checkout=" in call.params["success_url"]
    assert (deposit.state, deposit.provider, deposit.redirect_url) == (
        DepositState.PENDING, "stripe", made["url"])
    assert transfer_count() == 0 and wallet_summary(ada.id).total == 0

    response, _ = _deliver(client, "checkout.session.completed",
                           _session(standin, deposit, status="complete", payment_status="paid"))
    assert response.status_code == 200
    assert _state(deposit.id) == DepositState.COMPLETED
    assert wallet_summary(ada.id).total == 25_00 and transfer_count() == 1
    assert run_checks(MONEY_CHECKS) == []


def test_a_redelivered_event_credits_once(client, standin, ada):
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    body, header = signed_event("checkout.session.completed",
                                _session(standin, deposit, payment_status="paid"), SECRET,
                                timestamp=int(time.time()))
    for _ in range(2):
        response = client.post(WEBHOOK, data=body, headers={"Stripe-Signature": header})
        assert response.status_code == 200
    db.session.rollback()
    assert wallet_summary(ada.id).total == 10_00 and transfer_count() == 1
    assert count(ProviderEvent) == 1


def test_an_expiry_after_the_payment_changes_nothing_and_an_expiry_fails_a_pending_one(
        client, standin, ada):
    paid = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    _deliver(client, "checkout.session.completed", _session(standin, paid, payment_status="paid"))
    response, _ = _deliver(client, "checkout.session.expired",
                           _session(standin, paid, status="expired"))
    assert response.status_code == 200 and _state(paid.id) == DepositState.COMPLETED
    unpaid = add_funds(actor=ada, amount_minor=5_00, idempotency_key="k-2")
    _deliver(client, "checkout.session.expired", _session(standin, unpaid, status="expired"))
    assert _state(unpaid.id) == DepositState.FAILED
    # a payment reported after the expiry credits nothing either
    _deliver(client, "checkout.session.completed", _session(standin, unpaid,
                                                            payment_status="paid"))
    assert _state(unpaid.id) == DepositState.FAILED
    assert wallet_summary(ada.id).total == 10_00 and transfer_count() == 1
    assert count(ProviderEvent) == 4


def test_an_unpaid_completion_waits_and_the_async_failure_fails_it(client, standin, ada):
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    _deliver(client, "checkout.session.completed", _session(standin, deposit,
                                                            payment_status="unpaid"))
    assert _state(deposit.id) == DepositState.PENDING
    _deliver(client, "checkout.session.async_payment_failed", _session(standin, deposit))
    assert _state(deposit.id) == DepositState.FAILED and transfer_count() == 0


def test_unknown_event_types_are_answered_and_recorded(client, standin):
    response, _ = _deliver(client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200
    assert db.session.scalars(select(ProviderEvent.event_type)).all() == ["customer.created"]


@pytest.mark.parametrize("how", ["forged", "stale", "other secret", "unsigned"])
def test_a_forged_or_stale_delivery_is_a_400_and_changes_nothing(client, standin, ada, how):
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    session = _session(standin, deposit, payment_status="paid")
    if how == "unsigned":
        response = client.post(WEBHOOK, json={"type": "checkout.session.completed"})
    else:
        body, header = signed_event("checkout.session.completed", session,
                                    "whsec_other" if how == "other secret" else SECRET,
                                    timestamp=int(time.time()) - (3600 if how == "stale" else 0))
        if how == "forged":
            body = body.replace(b'"amount_total"', b'"amount_totals"')
        response = client.post(WEBHOOK, data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 400
    assert _state(deposit.id) == DepositState.PENDING
    assert count(ProviderEvent) == 0 and transfer_count() == 0


def test_without_a_webhook_secret_every_delivery_is_refused(app, client, standin, monkeypatch):
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", "")
    response, _ = _deliver(client, "customer.created", {"id": "cus_1", "object": "customer"},
                           secret="")
    assert response.status_code == 400 and count(ProviderEvent) == 0


def test_stripe_failing_is_a_clear_message_and_no_deposit(standin, ada):
    standin.fail_next("/v1/checkout/sessions", 500)
    with pytest.raises(ProviderError, match="couldn't reach our payment provider"):
        add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    assert count(Deposit) == 0 and transfer_count() == 0


def test_stripe_timing_out_is_a_clear_message_and_the_retry_finds_its_session(
        app, monkeypatch, standin, ada):
    monkeypatch.setitem(app.config, "STRIPE_TIMEOUT_SECONDS", 0.3)
    standin.delay_next("/v1/checkout/sessions", 1.0)  # Stripe makes it; we stop waiting
    with pytest.raises(ProviderError, match="couldn't reach our payment provider"):
        add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    assert count(Deposit) == 0 and transfer_count() == 0
    deadline = time.monotonic() + 5
    while not (made := [i for i, o in standin.objects.items()
                        if o.get("object") == "checkout.session"]):
        assert time.monotonic() < deadline, "the slow request never finished"
        time.sleep(0.05)
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    assert [deposit.provider_reference] == made and count(Deposit) == 1


def test_two_events_racing_for_one_deposit_credit_it_once(app, client, standin, ada):
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    paid = _session(standin, deposit, status="complete", payment_status="paid",
                    payment_intent="pi_standin_1")
    first, _ = _deliver(client, "checkout.session.completed", paid)
    second, _ = _deliver(client, "checkout.session.async_payment_succeeded", paid)
    assert first.status_code == second.status_code == 200
    db.session.rollback()
    settled = db.session.get(Deposit, deposit.id)
    assert settled.state == DepositState.COMPLETED and settled.payment_reference == "pi_standin_1"
    assert transfer_count() == 1 and count(ProviderEvent) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_a_retry_reuses_stripes_idempotency_key_and_its_session(standin, ada):
    standin.fail_next("/v1/checkout/sessions", 500)
    with pytest.raises(ProviderError):
        add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    deposit = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")
    again = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-1")  # answered here
    other = add_funds(actor=ada, amount_minor=10_00, idempotency_key="k-2")
    keys = [r.idempotency_key for r in standin.requests]
    assert keys[0] == keys[1] == stripe_idempotency_key(ada.id, "k-1") and len(keys) == 3
    assert keys[2] != keys[0] and again.id == deposit.id != other.id and count(Deposit) == 2


def test_the_wallet_page_sends_the_member_to_stripes_checkout(client, login, standin, ada):
    login(ada)
    response = client.post("/wallet/deposits", data={"deposit-amount": "12.50",
                                                     "deposit-idempotency_key": "k-1"})
    (deposit,) = db.session.scalars(select(Deposit)).all()
    assert response.status_code == 302
    assert response.headers["Location"] == deposit.redirect_url == (
        f"{standin.url}/checkout/{deposit.provider_reference}")
    # back from Stripe before paying, the deposit's page links to the checkout again
    page = client.get(f"/wallet/deposits/{deposit.id}").get_data(as_text=True)
    assert f'href="{deposit.redirect_url}"' in page and "Pay on Stripe's page" in page


def test_the_webhook_answers_without_a_session(client, standin):
    response, _ = _deliver(client, "customer.created", {"id": "cus_1", "object": "customer"})
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_refusal_by_stripe_is_said_on_the_wallet_page(client, login, standin, ada):
    login(ada)
    standin.fail_next("/v1/checkout/sessions", 500)
    response = client.post("/wallet/deposits", data={"deposit-amount": "12.50",
                                                     "deposit-idempotency_key": "k-1"})
    assert response.status_code == 422 and count(Deposit) == 0
    assert "couldn&#39;t reach our payment provider" in response.get_data(as_text=True)


def test_the_apis_deposit_has_the_checkout_url_while_pending(client, standin, ada):
    token = create_personal_token(actor=ada, name="A script", scopes=["wallet"], days=30)
    headers = {"Authorization": f"Bearer {token.secret}"}
    response = client.post("/api/v1/wallet/deposits", json={"amount_minor": 12_50},
                           headers={**headers, "Idempotency-Key": "k-1"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    deposit = db.session.get(Deposit, body["id"])
    assert body["state"] == "pending" and body["provider"] == "stripe"
    assert body["redirect_url"] == f"{standin.url}/checkout/{deposit.provider_reference}"
    _deliver(client, "checkout.session.completed", _session(standin, deposit,
                                                            payment_status="paid"))
    settled = client.get(f"/api/v1/wallet/deposits/{deposit.id}", headers=headers)
    assert settled.get_json()["state"] == "completed"
    assert settled.get_json()["redirect_url"] is None


def test_a_deposit_paid_after_its_member_deleted_their_account_goes_to_the_admins(
        app, client, login, make_member, standin, ada, monkeypatch):
    """The deletion refuses while a deposit is pending; should one slip through (started
    in the same moment), its payment is not credited to an account nobody can use, nor
    dropped: the deposit fails and a case asks the admins to refund it at Stripe."""
    deposit = add_funds(actor=ada, amount_minor=25_00, idempotency_key="k-deleted")
    monkeypatch.setattr(privacy_services, "deletion_blockers", lambda member_id: [])
    delete_account(actor=ada, password=PASSWORD)
    paid = _session(standin, deposit, status="complete", payment_status="paid",
                    payment_intent="pi_after_deletion")
    response, _ = _deliver(client, "checkout.session.completed", paid)
    assert response.status_code == 200
    assert _state(deposit.id) == DepositState.FAILED
    assert wallet_summary(ada.id).total == 0 and transfer_count() == 0
    assert db.session.get(Deposit, deposit.id).payment_reference == "pi_after_deletion"
    assert run_checks(MONEY_CHECKS) == []
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output
    (case,) = db.session.scalars(select(Case)).all()
    assert (case.subject_id, case.kind, case.state, case.source) == (
        ada.id, "other", "open", "system")
    assert all(said in case.summary for said in (
        f"Deposit #{deposit.id}", "$25.00", "pi_after_deletion", "deleted their account",
        "Refund it"))
    assert evidence_of(case.id) == [(EvidenceKind.DEPOSIT, deposit.id)]
    # the same payment told again (another event about it) opens no second case
    _deliver(client, "checkout.session.async_payment_succeeded", paid)
    assert count(Case) == 1 and transfer_count() == 0
    login(make_member("root", admin=True))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "pi_after_deletion" in page and f"Deleted member #{ada.id}" in page
