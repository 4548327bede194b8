"""A developer in Tokyo signs up: the browser tells the site its zone, the settings show
it, and a change there shows times in the new zone. Without JavaScript the member
starts in UTC and picks the zone from the list."""

import re

import pytest
from playwright.sync_api import expect

from offload.invites.services import send_invite
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser

PASSWORD = "a developer's long passphrase"


def _sign_up(page, link: str, username: str) -> None:
    page.goto(link)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_text("Welcome to Offload")).to_be_visible()


def _invite(inviter, smtp, email: str) -> str:
    send_invite(actor=inviter, email=email, vouch_note="We shipped a payments API together.")
    return first_link(smtp.wait_for(email, "invited you"))


def test_sign_up_in_tokyo_then_change_the_zone(browser, live_server, make_member, smtp, shot):
    inviter = make_member("kenji")
    link = _invite(inviter, smtp, "yuki@example.com")

    tokyo = browser.new_context(timezone_id="Asia/Tokyo").new_page()
    _sign_up(tokyo, link, "yuki")
    tokyo.goto(f"{live_server}/settings")
    section = tokyo.locator("#time-zone")
    expect(section.get_by_label("Your time zone")).to_have_value("Asia/Tokyo")
    expect(section).to_contain_text("Times are shown in Asia/Tokyo")
    expect(section).to_contain_text("(JST, UTC+09:00)")
    shot(tokyo, "time-zone-01-settings-tokyo")

    section.get_by_label("Your time zone").select_option("Europe/Paris")
    section.get_by_role("button", name="Save").click()
    expect(tokyo.get_by_text("Saved: times are now shown in Europe/Paris.")).to_be_visible()
    section = tokyo.locator("#time-zone")
    expect(section.get_by_label("Your time zone")).to_have_value("Europe/Paris")
    expect(section).to_contain_text(re.compile(r"Europe/Paris \(CES?T, UTC\+0[12]:00\)"))
    shot(tokyo, "time-zone-02-settings-paris")


def test_without_javascript_a_member_starts_in_utc(browser, live_server, make_member, smtp,
                                                    shot):
    link = _invite(make_member("kenji"), smtp, "noscript@example.com")
    page = browser.new_context(timezone_id="Asia/Tokyo", java_script_enabled=False).new_page()
    _sign_up(page, link, "noscript")
    page.goto(f"{live_server}/settings")
    section = page.locator("#time-zone")
    expect(section.get_by_label("Your time zone")).to_have_value("UTC")
    expect(section).to_contain_text("Times are shown in UTC (UTC, UTC+00:00)")
    section.get_by_label("Your time zone").select_option("Asia/Tokyo")
    section.get_by_role("button", name="Save").click()
    expect(page.locator("#time-zone").get_by_label("Your time zone")).to_have_value("Asia/Tokyo")
    shot(page, "time-zone-03-no-javascript")
