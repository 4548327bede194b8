"""An admin invites a developer who signs up (and is logged in at once), confirms the
e-mail and edits the profile."""

import re

import pytest
from playwright.sync_api import expect

from offload.accounts.services import create_admin
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser

ADMIN_PASSWORD = "the admin's long passphrase"
MEMBER_PASSWORD = "newcomer's own passphrase"


def test_invite_signup_confirm_edit_profile(browser, live_server, smtp, shot):
    create_admin(username="root", email="root@example.com", password=ADMIN_PASSWORD)

    admin = browser.new_context().new_page()
    admin.goto(f"{live_server}/login")
    shot(admin, "01-login")
    admin.get_by_label("Username or e-mail").fill("root")
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    expect(admin.get_by_role("heading", name="Hello, root")).to_be_visible()
    shot(admin, "02-dashboard")

    admin.get_by_role("link", name="Invites", exact=True).click()
    admin.get_by_label("Their e-mail address").fill("dana@example.com")
    admin.get_by_label("Why you trust them").fill("Dana rebuilt our billing system in a month.")
    shot(admin, "03-invite-form")
    admin.get_by_role("button", name="Send invite").click()
    expect(admin.get_by_text("Invite sent to dana@example.com")).to_be_visible()
    shot(admin, "04-invite-sent")

    invite_link = first_link(smtp.wait_for("dana@example.com", "invited you"))
    assert invite_link.startswith(live_server + "/join/")

    member = browser.new_context().new_page()
    member.goto(invite_link)
    expect(member.get_by_text("Dana rebuilt our billing system")).to_be_visible()
    expect(member.get_by_label("E-mail address")).to_have_value("dana@example.com")
    member.get_by_label("Username").fill("dana")
    member.get_by_label("Your name").fill("Dana Scully")
    member.get_by_label("Password").fill("short")
    member.get_by_role("button", name="Create my account").click()
    expect(member.get_by_text("Use at least 10 characters.")).to_be_visible()
    expect(member.get_by_label("Username")).to_have_value("dana")
    shot(member, "05-signup-error")
    member.get_by_label("Password").fill(MEMBER_PASSWORD)
    member.get_by_role("button", name="Create my account").click()
    expect(member.get_by_role("heading", name="Hello, Dana Scully")).to_be_visible()
    expect(member.get_by_text("Welcome to Offload, Dana Scully")).to_be_visible()
    shot(member, "06-welcome")

    confirm_link = first_link(smtp.wait_for("dana@example.com", "Confirm your e-mail"))
    member.goto(confirm_link)
    shot(member, "07-confirm")
    member.get_by_role("button", name=re.compile("Confirm dana@example.com")).click()
    expect(member.get_by_text("dana@example.com is confirmed")).to_be_visible()
    expect(member.get_by_role("heading", name="Hello, Dana Scully")).to_be_visible()
    shot(member, "08-member-dashboard")

    member.get_by_role("link", name="Edit your profile").click()
    member.get_by_label("Headline").fill("Payments and billing systems")
    member.get_by_label("About you").fill("I build **billing** systems.")
    member.get_by_label("Skills").fill("Python, PostgreSQL, Stripe")
    shot(member, "09-profile-edit")
    member.get_by_role("button", name="Save profile").click()
    member.get_by_role("link", name="Dana Scully").first.click()
    expect(member.get_by_text("Payments and billing systems")).to_be_visible()
    expect(member.locator("strong", has_text="billing")).to_be_visible()
    expect(member.get_by_text("PostgreSQL")).to_be_visible()
    expect(member.get_by_role("link", name="root", exact=True)).to_be_visible()  # invited by
    shot(member, "10-profile")
