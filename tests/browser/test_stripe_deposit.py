"""A deposit walked through Stripe Checkout as a member does it: the wallet's form, the
stand-in's checkout page (tests/support/stripe_standin.py), its signed event to the live
site's webhook, and back to the wallet; then one cancelled there and expired by Stripe."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.wallet.models import Deposit, DepositState
from tests.support.browser import log_in
from tests.support.factories import transfer_count
from tests.support.stripe_standin import StripeStandIn, stripe_settings

pytestmark = pytest.mark.browser

SECRET = "whsec_browser_walk"


@pytest.fixture
def stripe(app, live_server, monkeypatch):
    """The live site on Stripe, at the stand-in, whose events reach the site's webhook."""
    with StripeStandIn() as server:
        for name, value in stripe_settings(server, SECRET).items():
            monkeypatch.setitem(app.config, name, value)
        server.webhook_url = f"{live_server}/payments/stripe/webhook"
        server.webhook_secret = SECRET
        yield server


def _deposit() -> Deposit:
    db.session.rollback()  # the live server committed it
    return db.session.scalars(select(Deposit)).one()


def _axe_finds_nothing(page, where: str):
    results = Axe().run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


def _to_checkout(page, stripe, amount: str):
    page.get_by_label("Amount to add").fill(amount)
    page.get_by_role("button", name="Add funds").click()
    expect(page.get_by_role("heading", name=f"Pay ${amount}")).to_be_visible()
    assert page.url.startswith(f"{stripe.url}/checkout/cs_")


def test_a_member_pays_on_stripes_page_and_comes_back_to_the_money(
        browser, live_server, make_member, stripe, shot):
    make_member("ada", display_name="Ada Lovelace")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    page.get_by_role("link", name="Wallet", exact=True).click()
    expect(page.get_by_text("You pay on Stripe's checkout page")).to_be_visible()
    expect(page.get_by_text("no real money moves")).to_have_count(0)
    _to_checkout(page, stripe, "12.50")
    shot(page, "stripe-01-checkout")

    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("Stripe confirmed your payment: $12.50 was added to your "
                            "wallet.")).to_be_visible()
    expect(page.locator("[data-balance=available]")).to_have_text("$12.50")
    expect(page.locator("#history tbody tr", has_text="Deposit")).to_contain_text("+$12.50")
    expect(page.locator("#deposits li")).to_contain_text("completed")
    shot(page, "stripe-02-back-paid")
    _axe_finds_nothing(page, "the wallet back from a paid checkout")

    deposit = _deposit()
    session = stripe.objects[deposit.provider_reference]
    assert stripe.events == [("checkout.session.completed", 200)]
    assert (deposit.state, deposit.payment_reference) == (
        DepositState.COMPLETED, session["payment_intent"])
    assert transfer_count() == 1 and run_checks(MONEY_CHECKS) == []


def test_a_cancelled_checkout_waits_then_stripes_expiry_fails_it_with_nothing_credited(
        browser, live_server, make_member, stripe, shot):
    make_member("bea", display_name="Bea Cancel")
    page = browser.new_context().new_page()
    log_in(page, live_server, "bea")
    page.goto(f"{live_server}/wallet")
    _to_checkout(page, stripe, "12.50")
    page.get_by_role("button", name="Cancel").click()

    listed = page.locator("#deposits li", has_text="$12.50")
    expect(listed).to_contain_text("pending")
    expect(listed).to_contain_text("Waiting for Stripe to confirm the payment.")
    expect(page.locator("[data-balance=total]")).to_have_text("$0.00")
    shot(page, "stripe-03-cancelled")
    _axe_finds_nothing(page, "the wallet with a deposit waiting for payment")
    # the way back to Stripe's page, and out again
    listed.get_by_role("link", name="Pay $12.50 on Stripe's page").click()
    expect(page.get_by_role("heading", name="Pay $12.50")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    expect(listed).to_contain_text("pending")

    deposit = _deposit()
    assert stripe.expire(deposit.provider_reference) == 200  # 24 hours later
    page.reload()
    expect(listed).to_contain_text("failed")
    expect(listed).to_contain_text("Not paid; nothing was charged.")
    expect(listed.get_by_role("link", name="Pay $12.50 on Stripe's page")).to_have_count(0)
    expect(page.locator("[data-balance=total]")).to_have_text("$0.00")
    listed.get_by_role("link", name=f"Deposit #{deposit.id}").click()
    expect(page.get_by_text("Stripe's checkout page expired or the payment failed")
           ).to_be_visible()
    shot(page, "stripe-04-expired")

    assert _deposit().state == DepositState.FAILED
    assert stripe.events == [("checkout.session.expired", 200)]
    assert transfer_count() == 0 and run_checks(MONEY_CHECKS) == []


def test_back_before_stripes_event_the_wallet_says_it_waits_then_shows_the_money(
        browser, live_server, make_member, stripe, shot):
    make_member("cy", display_name="Cy Early")
    stripe.hold_events = True  # the member is back before Stripe's webhook
    page = browser.new_context().new_page()
    log_in(page, live_server, "cy")
    page.goto(f"{live_server}/wallet")
    _to_checkout(page, stripe, "12.50")
    page.get_by_role("button", name="Pay", exact=True).click()
    expect(page.get_by_text("We're waiting for Stripe to confirm your payment of $12.50."
                            )).to_be_visible()
    expect(page.locator("[data-balance=total]")).to_have_text("$0.00")
    expect(page.locator("#deposits li")).to_contain_text("pending")
    # paid there already: the wallet doesn't offer Stripe's page again
    expect(page.get_by_role("link", name="Pay $12.50 on Stripe's page")).to_have_count(0)
    shot(page, "stripe-05-waiting")

    assert stripe.release_events() == [200]
    page.reload()
    expect(page.get_by_text("Stripe confirmed your payment: $12.50 was added to your "
                            "wallet.")).to_be_visible()
    expect(page.locator("[data-balance=total]")).to_have_text("$12.50")
    assert _deposit().state == DepositState.COMPLETED
    assert transfer_count() == 1 and run_checks(MONEY_CHECKS) == []
