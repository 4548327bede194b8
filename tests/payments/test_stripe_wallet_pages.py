"""What the wallet's pages tell a member paying through Stripe Checkout: where each
deposit stands, read from our database (a query string only says which deposit), and
the way back to Stripe's page while one waits."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from offload.accounts.services import create_personal_token
from offload.core.db import db
from offload.wallet.models import Deposit
from tests.support.stripe_standin import StripeStandIn, signed_event, stripe_settings

SECRET = "whsec_test_wallet_pages"
WAITING = "We're waiting for Stripe to confirm your payment of $12.50."
ADDED = "Stripe confirmed your payment: $12.50 was added to your wallet."
NOT_TAKEN = "Stripe didn't take your payment of $12.50; nothing was charged."


@pytest.fixture
def standin(app, monkeypatch):
    with StripeStandIn() as server:
        for name, value in stripe_settings(server, SECRET).items():
            monkeypatch.setitem(app.config, name, value)
        yield server


@pytest.fixture
def ada(make_member, login):
    member = make_member("ada")
    login(member)
    return member


def _start(client, amount="12.50", key="k-1") -> Deposit:
    response = client.post("/wallet/deposits", data={"deposit-amount": amount,
                                                     "deposit-idempotency_key": key})
    assert response.status_code == 302
    return db.session.scalars(select(Deposit).order_by(Deposit.id.desc())).first()


def _stripe_says(client, standin, deposit, event_type, **fields):
    session = {**standin.objects[deposit.provider_reference], **fields}
    body, header = signed_event(event_type, session, SECRET, timestamp=int(time.time()))
    assert client.post("/payments/stripe/webhook", data=body,
                       headers={"Stripe-Signature": header}).status_code == 200


def _wallet(client, **args) -> str:
    response = client.get("/wallet", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_stripe_sends_the_member_back_to_the_wallet_naming_the_checkout_session(
        client, standin, ada):
    _start(client)
    (call,) = standin.requests
    # Stripe puts the session's id in place of the template (the deposit's id is
    # known only after the session is made)
    assert call.params["success_url"] == (
        "https://offload.example/wallet?checkout={CHECKOUT_SESSION_ID}")
    assert call.params["cancel_url"] == "https://offload.example/wallet#deposits"


def test_back_from_checkout_the_wallet_says_where_the_deposit_stands_from_our_database(
        client, standin, ada):
    deposit = _start(client)
    page = _wallet(client, checkout=deposit.provider_reference)
    assert WAITING in page and ADDED not in page
    assert deposit.redirect_url not in page  # just paid there: not offered again
    assert "$12.50 is waiting for the payment provider" not in page  # no stale flash
    _stripe_says(client, standin, deposit, "checkout.session.completed",
                 status="complete", payment_status="paid")
    page = _wallet(client, checkout=deposit.provider_reference)
    assert ADDED in page and WAITING not in page
    assert 'data-balance="available">$12.50<' in page


def test_an_expired_checkout_shows_the_deposit_failed_and_nothing_credited(
        client, standin, ada):
    deposit = _start(client)
    _stripe_says(client, standin, deposit, "checkout.session.expired", status="expired")
    page = _wallet(client, checkout=deposit.provider_reference)
    assert NOT_TAKEN in page and 'data-balance="total">$0.00<' in page
    listed = page.split(f'id="deposit-{deposit.id}"', 1)[1].split("</li>", 1)[0]
    assert ">failed<" in listed and deposit.redirect_url not in listed
    own = client.get(f"/wallet/deposits/{deposit.id}").get_data(as_text=True)
    assert "Stripe's checkout page expired or the payment failed" in own
    assert "Nothing was charged" in own and deposit.redirect_url not in own


def test_another_members_or_an_unknown_session_says_nothing(client, standin, ada,
                                                            make_member, login):
    deposit = _start(client)
    login(make_member("bob"))
    for session_id in (deposit.provider_reference, "cs_unknown", "x" * 500):
        page = _wallet(client, checkout=session_id)
        assert "confirm your payment" not in page and "$12.50" not in page


def test_the_wallet_lists_a_deposit_waiting_for_payment_with_the_way_back_to_stripe(
        client, standin, ada):
    """A member who cancelled on Stripe's page lands on the wallet (cancel_url): the
    deposit they started is there, pending, with its checkout page."""
    deposit = _start(client)
    page = _wallet(client)
    assert "Stripe's checkout page" in page and "Sandbox" not in page
    listed = page.split(f'id="deposit-{deposit.id}"', 1)[1].split("</li>", 1)[0]
    assert ">pending<" in listed and f'href="/wallet/deposits/{deposit.id}"' in listed
    assert f'href="{deposit.redirect_url}"' in listed
    assert "Pay $12.50 on Stripe's page" in listed
    assert "confirm your payment" not in page  # no return from checkout: no banner


def test_the_wallets_forms_may_be_redirected_to_stripes_checkout_and_nowhere_else(
        app, client, standin, ada, monkeypatch):
    """Chrome applies the page's form-action to the redirect after a form's POST: with
    only 'self' there, Add funds stopped on the wallet instead of reaching Stripe."""
    def form_action(path: str) -> str:
        csp = client.get(path).headers["Content-Security-Policy"]
        (directive,) = [d.strip() for d in csp.split(";") if d.strip().startswith("form-action")]
        return directive

    assert form_action("/wallet") == f"form-action 'self' {standin.url}"
    assert "default-src 'self'" in client.get("/wallet").headers["Content-Security-Policy"]
    refused = client.post("/wallet/deposits", data={"deposit-amount": "0",
                                                    "deposit-idempotency_key": "k-1"})
    assert refused.status_code == 422
    assert f"form-action 'self' {standin.url}" in refused.headers["Content-Security-Policy"]
    assert form_action("/settings") == "form-action 'self'"
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "sandbox")
    assert form_action("/wallet") == "form-action 'self'"


def test_paid_by_a_debit_that_clears_later_the_deposit_waits_without_its_closed_checkout(
        client, standin, ada):
    """Stripe closes the checkout page once the member has paid there; a bank debit
    completes the session unpaid and clears days later. Its page must not be offered
    again, on the wallet, the deposit's page or the API."""
    deposit = _start(client)
    checkout = deposit.redirect_url
    token = create_personal_token(actor=ada, name="A script", scopes=["wallet"], days=30)
    api = {"Authorization": f"Bearer {token.secret}"}
    before = client.get(f"/api/v1/wallet/deposits/{deposit.id}", headers=api).get_json()
    assert before["redirect_url"] == checkout
    _stripe_says(client, standin, deposit, "checkout.session.completed",
                 status="complete", payment_status="unpaid", url=None)
    page = _wallet(client, checkout=deposit.provider_reference)
    assert WAITING in page and checkout not in page
    listed = page.split(f'id="deposit-{deposit.id}"', 1)[1].split("</li>", 1)[0]
    assert ">pending<" in listed and "on Stripe's page" not in listed
    assert checkout not in client.get(f"/wallet/deposits/{deposit.id}").get_data(as_text=True)
    waiting = client.get(f"/api/v1/wallet/deposits/{deposit.id}", headers=api).get_json()
    assert (waiting["state"], waiting["redirect_url"]) == ("pending", None)
    _stripe_says(client, standin, deposit, "checkout.session.async_payment_succeeded",
                 status="complete", payment_status="paid")
    assert ADDED in _wallet(client, checkout=deposit.provider_reference)
