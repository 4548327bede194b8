"""Discovery in the browser: a member saves a board search as an alert, a matching gig
arrives in the daily digest by real SMTP, the mail's stop link stops it without a
log-in; member search finds a member by availability after they mark themselves busy."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.alerts.services import send_daily_digests
from offload.core.db import utcnow
from tests.support.browser import gig as _gig
from tests.support.browser import log_in
from tests.support.smtp import text_part

pytestmark = pytest.mark.browser


def test_save_a_search_as_an_alert_get_the_digest_and_stop_it_from_the_mail(
        app, browser, live_server, make_member, smtp, shot, monkeypatch):
    make_member("mira", display_name="Mira Seeker")
    poster = make_member("piet", display_name="Piet Poster")
    _gig(poster, "referral", "Flask shop for a bakery")

    page = browser.new_context().new_page()
    log_in(page, live_server, "mira")
    page.goto(f"{live_server}/gigs")
    page.get_by_label("Search").fill("flask")
    page.get_by_role("button", name="Show gigs").click()
    expect(page.get_by_text("Flask shop for a bakery")).to_be_visible()
    page.get_by_role("link", name="Get new gigs for this search by e-mail").click()
    expect(page.get_by_role("heading", name="Save a search as an alert")).to_be_visible()
    page.get_by_label("Name").fill("Flask work")
    page.get_by_label("Daily digest").check()
    page.get_by_role("button", name="Save the alert").click()
    expect(page.get_by_text("Alert saved.")).to_be_visible()
    expect(page.locator("#main")).to_contain_text("daily digest")
    page.go_back()  # the same search again: refused, what was typed kept
    page.get_by_label("Name").fill("Flask again")
    page.get_by_role("button", name="Save the alert").click()
    expect(page.get_by_text("You have an alert for this search already.")).to_be_visible()
    expect(page.get_by_label("Name")).to_have_value("Flask again")
    page.goto(f"{live_server}/alerts")
    shot(page, "discovery-01-alerts")

    _gig(poster, "referral", "Flask API for a florist")
    monkeypatch.setitem(app.config, "ALERT_DIGEST_HOUR", 0)
    assert send_daily_digests(now=utcnow() + timedelta(seconds=5)) == 1
    mail = smtp.wait_for("mira@example.com")
    body = text_part(mail)
    assert "Flask work" in body and "Flask API for a florist" in body
    assert "bakery" not in body  # posted before the alert was saved
    stop_url = "".join(str(mail["List-Unsubscribe"]).split()).strip("<>")  # may be folded
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    anonymous = browser.new_context().new_page()
    anonymous.goto(stop_url)
    expect(anonymous.get_by_role("heading", name="Stop this alert?")).to_be_visible()
    anonymous.get_by_role("button", name="Stop the alert").click()
    expect(anonymous.get_by_role("heading", name="The alert is stopped")).to_be_visible()

    page.goto(f"{live_server}/alerts")
    expect(page.locator("#main")).to_contain_text("stopped")
    page.get_by_role("button", name="Resume").click()
    expect(page.get_by_text("is running again")).to_be_visible()


def test_mark_yourself_busy_and_be_found_by_availability(browser, live_server, make_member):
    make_member("nora", display_name="Nora Busy")
    make_member("olaf", display_name="Olaf Free")
    page = browser.new_context().new_page()
    log_in(page, live_server, "nora")
    page.goto(f"{live_server}/members/nora")
    expect(page.get_by_text("Available for new work")).to_be_visible()
    page.get_by_role("button", name="Mark me busy").click()
    expect(page.get_by_text("You're shown as busy.")).to_be_visible()

    page.goto(f"{live_server}/members")
    page.get_by_label("Availability").select_option("busy")
    page.get_by_role("button", name="Find members").click()
    results = page.get_by_role("region", name="Members")
    expect(results).to_contain_text("Nora Busy")
    expect(results).not_to_contain_text("Olaf Free")
    page.get_by_label("Completed projects, at least").fill("-1")
    page.get_by_role("button", name="Find members").click()
    expect(page.get_by_text("Enter a whole number of completed projects")).to_be_visible()
    expect(page.get_by_label("Availability")).to_have_value("busy")  # the rest is kept
