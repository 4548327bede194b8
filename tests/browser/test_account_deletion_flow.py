"""A member with money in the wallet is refused deletion, with the reason and its link;
another deletes their account from Settings' last card, told what closes, what is erased
and what is kept: asked for the password, deleted, logged out, mailed at the old
address, unable to log in again; their profile shows the placeholder, and their gig on
the board is cancelled for the member who made an offer on it."""

import pytest
from playwright.sync_api import expect

from offload.accounts.models import User
from offload.core.db import db
from tests.support.browser import log_in
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_delete_an_account(browser, live_server, make_member, make_gig, make_offer, fund,
                           smtp, shot):
    bob = make_member("bob", display_name="Bob Builder")
    fund(bob, 12_00)
    delia = make_member("delia", display_name="Delia Smith")
    ada_id = delia.id
    gig = make_gig(poster=delia, title="Port a shop to Django")  # a referral: no fee held
    make_offer(gig, db.session.get(User, bob.id))
    gig_id = gig.id
    db.session.commit()
    other = browser.new_context().new_page()
    log_in(other, live_server, "bob")
    other.goto(f"{live_server}/privacy/delete")
    refused = other.locator("#deletion-refused")
    expect(refused.get_by_text("Your wallet holds $12.00")).to_be_visible()
    expect(refused.get_by_role("link", name="Your wallet")).to_have_attribute("href", "/wallet")
    expect(other.get_by_label("Your password")).to_have_count(0)
    shot(other, "deletion-01-refused")

    page = browser.new_context().new_page()
    log_in(page, live_server, "delia")
    page.goto(f"{live_server}/settings")
    # the danger zone is the page's last card, after API tokens and the rest
    expect(page.locator("section.card").last).to_have_id("delete-account")
    page.locator("#delete-account").get_by_role("link", name="Delete my account").click()
    expect(page.locator("#deletion-closes").get_by_text(
        "Your gigs on the board are cancelled")).to_be_visible()
    expect(page.get_by_role("heading", name="Everything we erase")).to_be_visible()
    expect(page.locator("#deletion-erases").get_by_text(
        "Your signed-in devices: browsers, systems and addresses")).to_be_visible()
    expect(page.locator("#deletion-keeps").get_by_text(
        "Who invited whom, and why they vouched")).to_be_visible()
    shot(page, "deletion-02-what-goes")
    form = page.locator("#delete-account")
    form.get_by_label("Your password").fill("not my password")
    form.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your password is not correct.")).to_be_visible()
    shot(page, "deletion-03-wrong-password")
    page.locator("#delete-account").get_by_label("Your password").fill(PASSWORD)
    page.locator("#delete-account").get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account is deleted.")).to_be_visible()
    shot(page, "deletion-04-deleted")

    mail = smtp.wait_for("delia@example.com", "Your Offload account is deleted")
    assert "Delia Smith" in str(mail)
    page.goto(f"{live_server}/settings")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()  # logged out
    page.get_by_label("Username or e-mail").fill("delia")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("That username or password is not right.")).to_be_visible()

    other.goto(f"{live_server}/members/deleted.{ada_id}")
    expect(other.get_by_role("heading", name=f"Deleted member #{ada_id}")).to_be_visible()
    expect(other.get_by_text("Delia")).to_have_count(0)
    shot(other, "deletion-05-profile")
    other.goto(f"{live_server}/gigs/{gig_id}")  # bob made an offer on her gig
    expect(other.get_by_text("Its poster deleted their account.").first).to_be_visible()
    shot(other, "deletion-06-gig-cancelled")
    db.session.expire_all()
    assert db.session.get(User, ada_id).deleted_at is not None
