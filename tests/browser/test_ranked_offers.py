"""The offers tab in a browser: the poster sees each offerer's rating, number of reviews
and the start of the cover letter; a member with a live offer sees it (terms, state,
place, link, withdraw) on the gig page and never a form that would be refused."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.core.db import db, utcnow
from offload.gigs.services import ClientInfo, post_gig
from offload.offers.services import make_offer
from offload.reviews.models import MemberRating
from tests.support.browser import log_in

pytestmark = pytest.mark.browser

LETTER = ("I have **shipped** three [Django shops](https://example.com/shops) for clients "
          "like yours.\n\n- Stripe checkout\n- Celery for the e-mails\n\nI would start "
          "with the catalogue, then the cart, then payments; each is reviewed with you "
          "before the next begins, so that nothing at all surprises you at the end.")


def test_ranked_offers_show_ratings_and_a_live_offer_replaces_the_form(
        browser, live_server, make_member, shot):
    paula = make_member("paula", display_name="Paula Poster")
    rae = make_member("rae", display_name="Rae Rated")
    make_member("ned", display_name="Ned Newcomer")
    db.session.add(MemberRating(member_id=rae.id, reviews=3, stars_sum=14))  # 34/8 = 4.25
    db.session.commit()
    gig = post_gig(actor=paula, kind="referral", title="Django shop rewrite",
                   description="A shop for a bakery.", skill_names=["Python"],
                   category="backend", budget_min_minor=50_000, budget_max_minor=100_000,
                   deadline=utcnow().date() + timedelta(days=30),
                   client_details=ClientInfo("Bakery", "owner@bakery.example", ""))
    make_offer(gig, actor=rae, price_minor=900_00, days_to_deliver=20, cover_letter=LETTER,
               fee_kind=None, idempotency_key="browser-rae")
    gig_url = f"{live_server}/gigs/{gig.id}"

    n = browser.new_context().new_page()
    log_in(n, live_server, "ned")
    n.goto(gig_url)
    n.get_by_role("link", name="Make an offer").click()
    n.get_by_label("Your price").fill("800")
    n.get_by_label("Days to deliver").fill("15")
    n.get_by_label("Cover letter").fill("New here, but *careful*.")
    n.get_by_role("button", name="Send the offer").click()
    expect(n.get_by_text("Your offer is sent")).to_be_visible()

    n.goto(gig_url)
    mine = n.locator(".my-offer")
    expect(mine).to_contain_text("$800.00 in 15 days")
    expect(mine).to_contain_text("Active")
    expect(mine).to_contain_text("place 2 of 2")
    expect(mine.get_by_role("link", name="Open your offer")).to_be_visible()
    expect(mine.get_by_role("button", name="Withdraw your offer")).to_be_visible()
    expect(n.get_by_role("link", name="Make an offer")).to_have_count(0)
    shot(n, "ranked-01-my-live-offer")

    n.goto(f"{gig_url}/offers/new")
    expect(n.get_by_text("You already have an offer on this gig: here it is.")).to_be_visible()
    expect(n.get_by_role("button", name="Send the offer")).to_have_count(0)
    expect(n.get_by_role("heading", name="Your offer")).to_be_visible()
    assert re.search(r"/offers/\d+$", n.url)
    shot(n, "ranked-02-new-offer-leads-to-mine")

    p = browser.new_context().new_page()
    log_in(p, live_server, "paula")
    p.goto(gig_url)
    rae_item = p.locator(".offer-item", has_text="Rae Rated")
    expect(rae_item).to_contain_text("4.2")
    expect(rae_item).to_contain_text("(3 reviews)")
    expect(rae_item.locator(".letter-start")).to_contain_text(
        "I have shipped three Django shops for clients like yours. Stripe checkout")
    expect(rae_item.locator(".letter-start")).not_to_contain_text("**")
    expect(rae_item.locator(".letter-start")).not_to_contain_text("surprises you at the end")
    ned_item = p.locator(".offer-item", has_text="Ned Newcomer")
    expect(ned_item).to_contain_text("no reviews yet")
    expect(ned_item.locator(".letter-start")).to_have_text("New here, but careful.")
    shot(p, "ranked-03-poster-sees-ratings")
    p.goto(f"{gig_url}/offers")
    expect(p.locator(".offer-item", has_text="Rae Rated")).to_contain_text("(3 reviews)")

    n.goto(gig_url)
    n.locator(".my-offer").get_by_role("button", name="Withdraw your offer").click()
    expect(n.get_by_text("Your offer is withdrawn.")).to_be_visible()
    n.goto(gig_url)
    expect(n.get_by_role("link", name="Make an offer")).to_be_visible()
    shot(n, "ranked-04-withdrawn")
