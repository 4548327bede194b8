"""Accessibility in the browser: axe-core finds nothing on the main pages (as a visitor,
a member and an admin, at a phone's width and a desktop's), and a refused form takes
focus to its error summary, with every field in error marked aria-invalid.

axe-core comes from the PyPI package axe-playwright-python (the test extra), which
bundles axe.min.js and runs it in the page through Playwright.
"""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.support.authorization import build_world
from tests.support.browser import gig as _gig
from tests.support.browser import log_in, log_in_again

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SIGNUP_TOKEN = "a-known-invite-token-for-axe"

# (name, who, path): {name} in a path is one of the matrix world's sample ids
PAGES = [
    ("landing", "anonymous", "/"),
    ("log-in", "anonymous", "/login"),
    ("sign-up", "anonymous", f"/join/{SIGNUP_TOKEN}"),
    ("dashboard", "member", "/dashboard"),
    ("board", "member", "/gigs"),
    ("board-filtered", "member", "/gigs?q=flask&kind=referral"),
    ("gig", "member", "/gigs/{gig_id}"),
    ("gig-new", "member", "/gigs/new"),
    ("offer", "member", "/offers/{offer_id}"),
    ("project", "member", "/projects/{project_id}"),
    ("wallet", "member", "/wallet"),
    ("receipt", "member", "/wallet/receipts/{cause}/{cause_id}"),
    ("profile", "member", "/members/{username}"),
    ("members", "member", "/members?skill=Python"),
    ("notifications", "member", "/notifications"),
    ("messages", "member", "/conversations"),
    ("invites", "member", "/invites"),
    ("settings", "member", "/settings"),
    ("delete-account", "member", "/privacy/delete"),
    ("webhooks", "member", "/webhooks"),
    ("webhook", "member", "/webhooks/{webhook_id}"),
    ("contact", "anonymous", "/contact"),
    ("contact-message", "member", "/contact/{contact_id}"),
    ("moderation-log", "member", "/moderation"),
    ("admin", "admin", "/admin"),
    ("admin-withdrawals", "admin", "/admin/withdrawals"),
    ("admin-cases", "admin", "/admin/cases"),
    ("admin-reports", "admin", "/admin/reports"),
    ("admin-tree", "admin", "/admin/tree/{username}"),
    ("admin-disputes", "admin", "/admin/disputes"),
    ("admin-dispute", "admin", "/admin/disputes/{dispute_id}"),
    ("admin-contact", "admin", "/admin/contact"),
    ("admin-webhook", "admin", "/admin/webhooks/{site_webhook_id}"),
]


@pytest.fixture(scope="module")
def axe():
    return Axe()


@pytest.fixture(scope="module")
def a11y_world(app):
    from unittest import mock

    from offload.invites import services as invites

    with mock.patch.object(invites, "new_token", return_value=SIGNUP_TOKEN):
        return build_world(app)  # the member's invite is sent with the known token


@pytest.fixture(scope="module")
def pages_by(browser, live_server):
    """A page per (role, viewport), made on first use, logged in for each test."""
    pages: dict = {}

    def get(role: str, username: str | None, viewport: dict):
        key = (role, viewport["width"])
        if key not in pages:
            pages[key] = browser.new_context(viewport=viewport).new_page()
        if username:  # each test restored the snapshot: its signed-in device is gone
            log_in_again(pages[key], live_server, username)
        return pages[key]

    yield get
    for page in pages.values():
        page.context.close()


def assert_no_violations(axe, page, where: str):
    results = axe.run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["390px", "1280px"])
@pytest.mark.parametrize(("name", "role", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_nothing_on_the_main_pages(live_server, a11y_world, pages_by, axe,
                                             name, role, path, viewport):
    a11y_world.snapshot.restore()
    login = a11y_world.logins[role]
    page = pages_by(role, login.username if login else None, viewport)
    response = page.goto(live_server + path.format(**a11y_world.url_values))
    assert response.status == 200, (name, response.status)
    if name == "sign-up":  # the form itself, not the page for a link that doesn't work
        expect(page.get_by_role("button", name="Create my account")).to_be_visible()
    assert_no_violations(axe, page, f"{name} ({path}) as {role}")


def test_a_refused_gig_form_focuses_its_summary_and_marks_each_field(
        browser, live_server, make_member, axe):
    make_member("fern", display_name="Fern Formfiller")
    page = browser.new_context().new_page()
    log_in(page, live_server, "fern")
    page.goto(f"{live_server}/gigs/new")
    page.get_by_label("Title").fill("A gig with no description")
    page.get_by_role("button", name="Post the gig").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Description")).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value("A gig with no description")  # kept
    description = page.get_by_label("Description")
    expect(description).to_have_attribute("aria-invalid", "true")
    assert "description-error" in description.get_attribute("aria-describedby").split()
    expect(page.locator("#description-error")).to_have_text("Describe the work.")
    expect(page.get_by_label("Title")).not_to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link", name="Description").click()
    expect(description).to_be_focused()  # each line of the summary leads to its field
    assert_no_violations(axe, page, "the new gig form with errors")


def test_a_refused_radio_group_marks_every_option(browser, live_server, make_member, axe):
    poster = make_member("pam", display_name="Pam Poster")
    make_member("otto", display_name="Otto Offerer")
    gig = _gig(poster, "task", "Fix a flaky CI job")
    page = browser.new_context().new_page()
    log_in(page, live_server, "otto")
    page.goto(f"{live_server}/gigs/{gig.id}/offers/new")
    page.get_by_label("Your price").fill("150")
    page.get_by_role("button", name="Send the offer").click()

    expect(page.locator("[data-error-summary]")).to_be_focused()
    options = page.get_by_role("group", name="Response fee").get_by_role("radio")
    assert options.count() == 2
    for i in range(options.count()):
        expect(options.nth(i)).to_have_attribute("aria-invalid", "true")
        expect(options.nth(i)).to_have_attribute("aria-describedby", "offer-fee_kind-error")
    expect(page.locator("#offer-fee_kind-error")).to_have_text(
        "Choose a prepaid or a postpaid click.")
    page.locator("[data-error-summary]").get_by_role("link", name="Response fee").click()
    expect(options.first).to_be_focused()
    assert_no_violations(axe, page, "the offer form with errors")
