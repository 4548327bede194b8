"""The payment tests' stand-in for Stripe (tests/support/stripe_standin.py), driven by the
official ``stripe`` library: it must answer the calls the provider will make in shapes
the library reads, replay idempotent requests as Stripe does, fail when told to, and
sign events the library verifies."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from tests.support.stripe_standin import RESOURCES, StripeStandIn, signed_event
from tests.support.webhooks import Receiver

SECRET = "whsec_test_secret"


@pytest.fixture
def standin(monkeypatch):
    with StripeStandIn() as server:
        monkeypatch.setattr(stripe, "api_base", server.url)
        monkeypatch.setattr(stripe, "api_key", "sk_test_standin")
        monkeypatch.setattr(stripe, "max_network_retries", 0)
        yield server


def _checkout(success_url="https://offload.example/wallet", **extra):
    return stripe.checkout.Session.create(
        mode="payment", success_url=success_url,
        cancel_url="https://offload.example/wallet", client_reference_id="deposit-7",
        metadata={"deposit_id": "7"},
        line_items=[{"quantity": 1, "price_data": {
            "currency": "eur", "unit_amount": 25_00,
            "product_data": {"name": "Funds for your Offload wallet"}}}], **extra)


def test_a_checkout_session_has_stripes_shape_with_what_was_asked(standin):
    session = _checkout()
    assert session.object == "checkout.session" and session.id.startswith("cs_")
    assert (session.amount_total, session.currency, session.status) == (25_00, "eur", "open")
    assert session.metadata["deposit_id"] == "7" and session.client_reference_id == "deposit-7"
    assert session.url == f"{standin.url}/checkout/{session.id}"
    # every other field is Stripe's own example's
    assert set(session.keys()) == set(RESOURCES["checkout.session"])
    assert stripe.checkout.Session.retrieve(session.id).id == session.id
    (made, fetched) = standin.requests
    assert (made.method, made.path, fetched.method) == ("POST", "/v1/checkout/sessions", "GET")


def test_a_repeated_key_replays_the_first_answer_and_another_body_is_refused(standin):
    first = _checkout(idempotency_key="deposit-7-key")
    again = _checkout(idempotency_key="deposit-7-key")
    assert again.id == first.id
    assert [r.idempotency_key for r in standin.requests] == ["deposit-7-key"] * 2
    with pytest.raises(stripe.IdempotencyError):
        _checkout(idempotency_key="deposit-7-key", customer_email="other@example.com")


def test_an_unknown_id_and_a_forced_failure_raise_the_librarys_errors(standin):
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.Transfer.retrieve("tr_missing")
    assert missing.value.code == "resource_missing"
    standin.fail_next("/v1/transfers", 500)
    with pytest.raises(stripe.APIError):
        stripe.Transfer.create(amount=10_00, currency="eur", destination="acct_1")
    made = stripe.Transfer.create(amount=10_00, currency="eur", destination="acct_1")
    assert (made.amount, made.destination, made.reversed) == (10_00, "acct_1", False)


def test_balance_transactions_are_listed_in_pages(standin):
    added = [standin.add("balance_transaction", amount=n * 100) for n in range(1, 4)]
    page = stripe.BalanceTransaction.list(limit=2)
    assert [t.id for t in page.data] == [t["id"] for t in added[:2]] and page.has_more
    assert [t.amount for t in page.auto_paging_iter()] == [100, 200, 300]


def test_signed_events_verify_and_a_forged_or_stale_one_does_not():
    now = int(time.time())
    payload, header = signed_event("checkout.session.completed",
                                   {"id": "cs_1", "object": "checkout.session"}, SECRET,
                                   timestamp=now)
    event = stripe.Webhook.construct_event(payload, header, SECRET, tolerance=300)
    assert (event.type, event.data.object.id) == ("checkout.session.completed", "cs_1")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload.replace(b"cs_1", b"cs_2"), header, SECRET)
    stale, stale_header = signed_event("checkout.session.completed", {"id": "cs_1"}, SECRET,
                                       timestamp=now - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(stale, stale_header, SECRET, tolerance=300)


@pytest.fixture
def site(standin):
    """The site's webhook endpoint, as the checkout page's events reach it."""
    with Receiver(status=200) as receiver:
        standin.webhook_url, standin.webhook_secret = receiver.url, SECRET
        yield receiver


def _events(site):
    return [stripe.Webhook.construct_event(r.body.encode(), r.headers["stripe-signature"],
                                           SECRET, tolerance=300) for r in site.received]


def test_paying_on_the_checkout_page_completes_the_session_signs_its_event_and_returns(
        standin, site):
    session = _checkout(success_url="https://offload.example/wallet?checkout={CHECKOUT_SESSION_ID}")
    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200 and "<h1>Pay 25.00 EUR</h1>" in page.text
    assert f'action="/checkout/{session.id}/cancel"' in page.text
    paid = requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5)
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"https://offload.example/wallet?checkout={session.id}"
    (event,) = _events(site)
    assert (event.type, event.data.object.id) == ("checkout.session.completed", session.id)
    assert (event.data.object.status, event.data.object.payment_status) == ("complete", "paid")
    assert event.data.object.payment_intent.startswith("pi_")
    assert standin.events == [("checkout.session.completed", 200)]
    fetched = stripe.checkout.Session.retrieve(session.id)
    assert (fetched.status, fetched.url) == ("complete", None)
    # a completed session's page is gone, and it can't be paid twice
    assert requests.get(session.url, timeout=5).status_code == 410
    assert requests.post(f"{session.url}/pay", allow_redirects=False, timeout=5).status_code == 410
    assert len(site.received) == 1


def test_cancelling_returns_with_the_session_open_until_stripe_expires_it(standin, site):
    session = _checkout()
    cancelled = requests.post(f"{session.url}/cancel", allow_redirects=False, timeout=5)
    assert (cancelled.status_code, cancelled.headers["Location"]) == (
        303, "https://offload.example/wallet")
    assert site.received == [] and stripe.checkout.Session.retrieve(session.id).status == "open"
    assert standin.expire(session.id) == 200
    (event,) = _events(site)
    assert (event.type, event.data.object.status) == ("checkout.session.expired", "expired")
    assert requests.get(session.url, timeout=5).status_code == 410
    assert requests.get(f"{standin.url}/checkout/cs_unknown", timeout=5).status_code == 404
