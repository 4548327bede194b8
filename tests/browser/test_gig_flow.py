"""Member A posts a referral gig; member B finds it on the board and asks; A answers and
cancels. CSRF is on: every form on the way must carry its token."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.gigs.services import post_gig
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_post_find_ask_answer_and_cancel_a_gig(browser, live_server, make_member, shot):
    make_member("alice", display_name="Alice Referrer")
    make_member("bob", display_name="Bob Builder")
    deadline = (utcnow().date() + timedelta(days=21)).isoformat()

    alice = browser.new_context().new_page()
    log_in(alice, live_server, "alice")
    alice.get_by_role("link", name="Gigs", exact=True).click()
    alice.get_by_role("link", name="Post a gig").click()
    alice.get_by_label("Referral:").check()
    alice.get_by_label("Title").fill("Rebuild a bakery's order site")
    alice.get_by_label("Description").fill("Orders by **postcode**; a Flask app.")
    alice.get_by_label("Skills").fill("Python, Flask")
    alice.get_by_label("Category").select_option("web")
    alice.get_by_label("Budget (lowest)").fill("1200.555")
    alice.get_by_label("Deadline").fill(deadline)
    alice.get_by_label("Client's name").fill("Crumbs Bakery")
    alice.get_by_label("Client's contact").fill("owner@crumbs.example")
    alice.get_by_role("button", name="Post the gig").click()
    expect(alice.get_by_text("Use at most two decimals (for example 12.50).")).to_be_visible()
    expect(alice.get_by_label("Client's name")).to_have_value("Crumbs Bakery")
    shot(alice, "gigs-01-bad-amount")

    alice.get_by_label("Budget (lowest)").fill("1200")
    alice.get_by_label("Budget (highest)").fill("1500")
    alice.get_by_role("button", name="Post the gig").click()
    expect(alice.get_by_text("Your gig is on the board.")).to_be_visible()
    expect(alice.get_by_role("heading", name="Rebuild a bakery's order site")).to_be_visible()
    expect(alice.get_by_text("Crumbs Bakery")).to_be_visible()
    expect(alice.get_by_text("10% commission on completion: 3% platform, 7% to the "
                             "referrer")).to_be_visible()
    shot(alice, "gigs-02-posted")

    bob = browser.new_context().new_page()
    log_in(bob, live_server, "bob")
    bob.get_by_role("link", name="Gigs", exact=True).click()
    bob.get_by_label("Search").fill("bakery")
    bob.get_by_label("Kind").select_option("referral")
    bob.get_by_role("button", name="Show gigs").click()
    expect(bob).to_have_url(re.compile(r"q=bakery.*kind=referral"))
    shot(bob, "gigs-03-board")
    bob.get_by_role("link", name="Rebuild a bakery's order site").click()
    expect(bob.get_by_text("Crumbs Bakery")).to_have_count(0)
    bob.get_by_label("Your question").fill("Do they take card payments online?")
    bob.get_by_role("button", name="Ask").click()
    expect(bob.get_by_text("Your question is posted")).to_be_visible()
    shot(bob, "gigs-04-asked")

    alice.reload()
    alice.get_by_label("Your answer").fill("Yes, through Stripe.")
    alice.get_by_role("button", name="Answer").click()
    expect(alice.get_by_text("Your answer is posted")).to_be_visible()

    bob.reload()
    expect(bob.locator("[id^=question-]")).to_contain_text("Yes, through Stripe.")
    shot(bob, "gigs-05-answered")

    alice.get_by_label("Reason (optional)").fill("The bakery hired in-house.")
    alice.get_by_role("button", name="Cancel the gig").click()
    expect(alice.get_by_text("The gig is cancelled and off the board.")).to_be_visible()
    alice.get_by_role("link", name="My gigs", exact=True).click()
    alice.get_by_label("State").select_option("cancelled")
    alice.get_by_role("button", name="Show").click()
    expect(alice.get_by_role("link", name="Rebuild a bakery's order site")).to_be_visible()
    shot(alice, "gigs-06-my-gigs")


def test_a_search_shows_the_best_match_first_and_newest_is_one_click_away(
        browser, live_server, make_member, shot):
    poster = make_member("pia", display_name="Pia Poster")
    make_member("sam", display_name="Sam Seeker")
    deadline = utcnow().date() + timedelta(days=30)
    for title, description in (
            ("Physiotherapy clinic booking", "Appointments for a small practice."),
            ("Calendar sync", "For a physiotherapy practice and a dentist."),
            ("Invoices for a gym", "Also sends reminders; a physiotherapist rents a room.")):
        post_gig(actor=poster, kind="task", title=title, description=description,
                 skill_names=["Python"], category="web", budget_min_minor=500_00,
                 budget_max_minor=500_00, deadline=deadline, client_details=None)

    sam = browser.new_context().new_page()
    log_in(sam, live_server, "sam")
    sam.get_by_role("link", name="Gigs", exact=True).click()
    sam.get_by_label("Search").fill("physio")  # the start of a word finds it
    sam.get_by_role("button", name="Show gigs").click()
    titles = sam.locator(".gig-list .gig-title")
    expect(titles).to_have_text(["Physiotherapy clinic booking", "Calendar sync",
                                 "Invoices for a gym"])
    expect(sam.locator(".board-sort")).to_contain_text("Sorted by Relevance · Newest")
    expect(sam.get_by_label("Sort")).to_have_value("relevance")
    shot(sam, "gigs-search-01-relevance")

    sam.locator(".board-sort").get_by_role("link", name="Newest").click()
    expect(sam).to_have_url(re.compile(r"q=physio.*sort=newest"))
    expect(titles).to_have_text(["Invoices for a gym", "Calendar sync",
                                 "Physiotherapy clinic booking"])
    expect(sam.get_by_label("Sort")).to_have_value("newest")
    shot(sam, "gigs-search-02-newest")
