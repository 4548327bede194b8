"""A member signed in on a laptop and a phone (two browser contexts) is mailed about the
phone, sees both devices in Settings, logs the phone out, then everywhere else."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in
from tests.support.smtp import text_part

pytestmark = pytest.mark.browser

PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
         "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")


def test_see_and_log_out_signed_in_devices(browser, live_server, make_member, smtp, shot):
    make_member("devi", email="devi@example.com")
    laptop = browser.new_context().new_page()  # Debian's headless Chromium on Linux
    log_in(laptop, live_server, "devi")
    phone = browser.new_context(user_agent=PHONE, viewport={"width": 390, "height": 844}
                                ).new_page()
    log_in(phone, live_server, "devi")

    mail = smtp.wait_for("devi@example.com", "New sign-in to your Offload account")
    body = text_part(mail)
    assert "Safari on iOS" in body and "127.0.0.1" in body
    assert f"{live_server}/settings/sessions" in body

    laptop.goto(f"{live_server}/settings")
    laptop.locator("#devices").get_by_role("link", name="Signed-in devices").click()
    expect(laptop.get_by_role("heading", name="Signed-in devices")).to_be_visible()
    rows = laptop.locator("#devices tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Chrome on Linux")
    expect(rows.nth(0)).to_contain_text("This device")
    expect(rows.nth(1)).to_contain_text("Safari on iOS")
    expect(rows.nth(1)).to_contain_text("127.0.0.1")
    shot(laptop, "sessions-01-two-devices")

    rows.nth(1).get_by_role("button", name=re.compile("^Log out Safari on iOS")).click()
    expect(laptop.get_by_text("That device is logged out.")).to_be_visible()
    expect(laptop.locator("#devices tbody tr")).to_have_count(1)
    expect(laptop.get_by_text("No other device is signed in.")).to_be_visible()
    phone.goto(f"{live_server}/settings")
    expect(phone).to_have_url(re.compile(r"/login"))

    log_in(phone, live_server, "devi")  # the phone again: known now, no second mail
    laptop.reload()
    expect(laptop.locator("#devices tbody tr")).to_have_count(2)
    laptop.get_by_role("button", name="Log out everywhere else").click()
    expect(laptop.get_by_text("Logged out everywhere else (1 device).")).to_be_visible()
    shot(laptop, "sessions-02-everywhere-else")
    phone.goto(f"{live_server}/settings")
    expect(phone).to_have_url(re.compile(r"/login"))
    laptop.goto(f"{live_server}/settings")
    expect(laptop.get_by_role("heading", name="Settings")).to_be_visible()
    assert sum("New sign-in" in m["Subject"] for m in smtp.messages
               if "devi@example.com" in m["X-Envelope-To"]) == 1
