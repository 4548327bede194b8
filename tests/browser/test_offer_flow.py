"""A task gig from posting to award in three browsers: A posts; B asks and A answers;
B makes a postpaid offer and C a prepaid one; A and B settle new terms; A awards B;
B accepts; C's offer is declined; the wallets show B charged the postpaid fee and
C's prepaid fee kept. CSRF is on; each page's screenshot is saved."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.wallet.services import add_funds
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_task_gig_offers_negotiation_award_and_fees(browser, live_server, make_member, shot):
    make_member("alicia", display_name="Alicia Customer")
    bob = make_member("bobby", display_name="Bobby Builder")
    carol = make_member("carla", display_name="Carla Coder")
    for member in (bob, carol):
        add_funds(actor=member, amount_minor=10_00, idempotency_key=f"browser-{member.id}")
    deadline = (utcnow().date() + timedelta(days=30)).isoformat()

    a = browser.new_context().new_page()
    log_in(a, live_server, "alicia")
    a.get_by_role("link", name="Gigs", exact=True).click()
    a.get_by_role("link", name="Post a gig").click()
    a.get_by_label("Task:").check()
    a.get_by_label("Title").fill("Speed up our invoice exports")
    a.get_by_label("Description").fill("Exports take **minutes**; make them seconds.")
    a.get_by_label("Skills").fill("Python, PostgreSQL")
    a.get_by_label("Category").select_option("backend")
    a.get_by_label("Budget (lowest)").fill("300")
    a.get_by_label("Budget (highest)").fill("600")
    a.get_by_label("Deadline").fill(deadline)
    a.get_by_role("button", name="Post the gig").click()
    expect(a.get_by_text("Your gig is on the board.")).to_be_visible()
    gig_url = a.url
    shot(a, "offers-01-task-posted")

    b = browser.new_context().new_page()
    log_in(b, live_server, "bobby")
    b.goto(gig_url)
    b.get_by_label("Your question").fill("Which PostgreSQL version do you run?")
    b.get_by_role("button", name="Ask").click()
    expect(b.get_by_text("Your question is posted")).to_be_visible()

    a.reload()
    a.get_by_label("Your answer").fill("PostgreSQL 15.")
    a.get_by_role("button", name="Answer").click()
    expect(a.get_by_text("Your answer is posted")).to_be_visible()
    shot(a, "offers-02-answered")

    b.reload()
    expect(b.locator("[id^=question-]")).to_contain_text("PostgreSQL 15.")
    b.get_by_role("link", name="Make an offer").click()
    expect(b.get_by_text("Postpaid click: $2.00, held now")).to_be_visible()
    expect(b.locator(".wallet-balance")).to_contain_text("$10.00")
    b.get_by_label("Your price").fill("450")
    b.get_by_label("Days to deliver").fill("12")
    b.get_by_label("Cover letter").fill("I have tuned exports like this with COPY.")
    shot(b, "offers-03-offer-form")
    b.get_by_role("button", name="Send the offer").click()
    expect(b.get_by_text("Choose a prepaid or a postpaid click.")).to_be_visible()
    expect(b.get_by_label("Cover letter")).to_have_value(
        "I have tuned exports like this with COPY.")
    b.get_by_role("radio", name=re.compile("Postpaid click")).check()
    b.get_by_role("button", name="Send the offer").click()
    expect(b.get_by_text("Your offer is sent")).to_be_visible()
    expect(b.get_by_text("place 1 of 1")).to_be_visible()
    expect(b.locator(".offer-fee")).to_have_text("postpaid click, $2.00 held")
    bob_offer_url = b.url
    shot(b, "offers-04-postpaid-offer")

    c = browser.new_context().new_page()
    log_in(c, live_server, "carla")
    c.goto(gig_url)
    c.get_by_role("link", name="Make an offer").click()
    c.get_by_label("Your price").fill("380")
    c.get_by_label("Days to deliver").fill("9")
    c.get_by_label("Cover letter").fill("Fast and careful.")
    c.get_by_role("radio", name=re.compile("Prepaid click")).check()
    c.get_by_role("button", name="Send the offer").click()
    expect(c.get_by_text("place 2 of 2")).to_be_visible()
    shot(c, "offers-05-prepaid-offer")

    a.goto(gig_url)
    expect(a.locator(".offer-count")).to_have_text("2")
    shot(a, "offers-06-gig-with-offers")
    a.locator("#offers").get_by_role("link", name="Bobby Builder").click()
    a.get_by_label("Price").fill("400")
    a.get_by_label("Days to deliver").fill("10")
    a.get_by_label("Note (optional)").fill("Could you do it for 400 in 10 days?")
    a.get_by_role("button", name="Propose").click()
    expect(a.get_by_text("Your proposal is sent")).to_be_visible()

    b.goto(bob_offer_url)
    expect(b.get_by_text("Could you do it for 400 in 10 days?")).to_be_visible()
    shot(b, "offers-07-proposal")
    b.get_by_role("button", name="Accept $400.00 in 10 days").click()
    expect(b.get_by_text("You agreed to the new terms.")).to_be_visible()
    expect(b.locator(".offer-price")).to_have_text("$400.00")

    a.reload()
    a.get_by_role("button", name="Award the gig").click()
    expect(a.get_by_text("You chose this offer.")).to_be_visible()
    shot(a, "offers-08-awarded")

    b.reload()
    b.get_by_role("button", name="Accept the award").click()
    expect(b.get_by_text("You accepted the award: the project has started.")).to_be_visible()
    expect(b.locator(".offer-fee")).to_have_text("postpaid click, $2.00 charged")
    shot(b, "offers-09-accepted")

    c.get_by_role("link", name="My offers").click()
    row = c.locator(".offer-item", has_text="Speed up our invoice exports")
    expect(row).to_contain_text("Closed: another offer was chosen")
    shot(c, "offers-10-declined")

    b.get_by_role("link", name="Wallet").click()
    expect(b.locator("[data-balance=available]")).to_have_text("$8.00")
    expect(b.locator("[data-balance=held]")).to_have_text("$0.00")
    fee_lines = b.locator("tr", has_text="Offer fee (postpaid click)")
    expect(fee_lines).to_have_count(2)  # the hold, then the hold charged
    expect(fee_lines.filter(has_text="hold charged")).to_contain_text("$2.00")
    shot(b, "offers-11-bob-wallet")
    c.get_by_role("link", name="Wallet").click()
    expect(c.locator("[data-balance=available]")).to_have_text("$9.00")
    expect(c.locator("tr", has_text="Offer fee (prepaid click)")).to_contain_text("charged")
    shot(c, "offers-12-carol-wallet")
    a.get_by_role("link", name="Wallet").click()  # the poster pays nothing for offers
    expect(a.locator("[data-balance=available]")).to_have_text("$0.00")
    expect(a.locator("[data-balance=held]")).to_have_text("$0.00")
