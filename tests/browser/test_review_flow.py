"""Reviews in the browser: after a referral project completes, both sides review each
other; neither sees the other's review until both are in; then the rating and the
per-skill stars show on the performer's profile, and the performer replies."""

import re

import pytest
from playwright.sync_api import expect

from offload.commissions.services import complete_referral
from offload.offers.services import accept_award, award_offer, make_offer
from offload.wallet.services import add_funds
from tests.support.browser import gig as _gig
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_both_review_the_reviews_appear_after_both_and_the_profile_shows_the_rating(
        browser, live_server, make_member, shot):
    rhea = make_member("rhea", display_name="Rhea Referrer")
    paul = make_member("paul", display_name="Paul Performer")
    gig = _gig(rhea, "referral", "A clinic's booking system")
    offer = make_offer(gig, actor=paul, price_minor=2_000_00, days_to_deliver=10,
                       cover_letter="I build these.", fee_kind=None, idempotency_key="rv")
    award_offer(offer, actor=rhea)
    project = accept_award(offer, actor=paul)
    add_funds(actor=paul, amount_minor=500_00, idempotency_key="rv-funds")
    complete_referral(project, actor=paul, invoiced_minor=2_000_00, idempotency_key="rv-done")
    project_url = f"{live_server}/projects/{project.id}"

    r = browser.new_context().new_page()
    log_in(r, live_server, "rhea")
    r.goto(project_url)
    reviews = r.locator("#reviews")
    reviews.get_by_role("button", name="Send the review").click()
    expect(r.get_by_text("Choose from 1 to 5 stars.")).to_be_visible()
    reviews.get_by_role("group", name="Overall").get_by_label("5 stars").check()
    reviews.get_by_role("group", name="Python").get_by_label("4 stars").check()
    reviews.get_by_label("Your review").fill("Paul shipped early and kept me posted.")
    reviews.get_by_role("button", name="Send the review").click()
    expect(r.get_by_text("Your review is in.").first).to_be_visible()
    shot(r, "reviews-01-waiting")

    p = browser.new_context().new_page()
    log_in(p, live_server, "paul")
    p.goto(project_url)
    expect(p.locator("#reviews")).not_to_contain_text("shipped early")  # double-blind
    p.locator("#reviews").get_by_role("group", name="Overall").get_by_label("4 stars").check()
    p.get_by_label("Your review").fill("A clear brief and a quick answer to every question.")
    p.locator("#reviews").get_by_role("button", name="Send the review").click()
    expect(p.locator("#reviews")).to_contain_text("shipped early")  # both in: published
    p.get_by_label("Reply in public (once)").fill("Thank you, Rhea!")
    p.get_by_role("button", name="Reply").click()
    expect(p.get_by_text("Your reply is published with the review.")).to_be_visible()

    r.goto(f"{live_server}/members/paul")
    expect(r.locator(".rating")).to_contain_text(re.compile(r"4\.2.*\(1 review\)"))
    expect(r.locator(".rated-skills")).to_contain_text(re.compile(r"Python ★ 4\.0"))
    shot(r, "reviews-02-profile")
    r.get_by_role("link", name="Read the reviews").click()
    expect(r.get_by_text("Thank you, Rhea!")).to_be_visible()
