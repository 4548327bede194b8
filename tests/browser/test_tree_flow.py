"""Reparenting in the browser: an admin moves a member to another inviter; the old
inviter's Invites page frees the place and marks the invite moved (the record stays),
and the new inviter's page lists the member moved to them."""

import re

import pytest
from playwright.sync_api import expect

from offload.invites.services import accept_invite, send_invite
from tests.support.browser import log_in
from tests.support.factories import PASSWORD
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


def _invite_and_join(smtp, inviter, username: str, name: str):
    """A real invite, accepted: the link comes through SMTP as a member's would."""
    address = f"{username}@example.com"
    send_invite(actor=inviter, email=address, vouch_note=f"{name} shipped good work for me.")
    token = first_link(smtp.wait_for(address, "invited you")).rsplit("/", 1)[-1]
    return accept_invite(token, username=username, email=address, password=PASSWORD,
                         display_name=name, account_type="individual", organization_name="")


def test_reparenting_frees_the_old_inviters_place_and_marks_the_invite_moved(
        app, browser, live_server, make_member, smtp, shot):
    admin = make_member("ada", display_name="Ada Admin", admin=True)
    olga = make_member("olga", display_name="Olga Old", inviter=admin)
    make_member("nina", display_name="Nina New", inviter=admin)
    for n in range(app.config["INVITE_QUOTA"] - 1):
        _invite_and_join(smtp, olga, f"kept{n}", f"Kept {n}")
    _invite_and_join(smtp, olga, "mo", "Mo Moved")

    o = browser.new_context().new_page()
    log_in(o, live_server, "olga")
    o.goto(f"{live_server}/invites")
    expect(o.get_by_text("You have 0 invites left.")).to_be_visible()

    a = browser.new_context().new_page()
    log_in(a, live_server, "ada")
    a.goto(f"{live_server}/admin/tree/mo")
    a.get_by_label("New inviter (username)").fill("nina")
    a.get_by_label("Reason").fill("Olga vouched for Mo by mistake; Nina knows Mo's work.")
    a.get_by_role("button", name="Move").click()
    expect(a.get_by_text("Mo Moved now answers to Nina New.")).to_be_visible()

    o.goto(f"{live_server}/invites")
    expect(o.get_by_text("You have 1 invite left.")).to_be_visible()
    row = o.locator("tr", has_text="mo@example.com")
    expect(row.locator(".pill")).to_have_text("moved")
    expect(row).to_contain_text("an admin moved them to Nina New")
    expect(o.locator("tr", has_text="kept0@example.com").locator(".pill")).to_have_text(
        "accepted")
    expect(o.get_by_label("Their e-mail address")).to_be_visible()  # may invite again
    shot(o, "tree-01-old-inviter-place-freed")

    n = browser.new_context().new_page()
    log_in(n, live_server, "nina")
    n.goto(f"{live_server}/invites")
    expect(n.get_by_text(f"You have {app.config['INVITE_QUOTA'] - 1} invites left.")
           ).to_be_visible()
    moved = n.locator("ul.moved-in li")
    expect(moved).to_have_count(1)
    expect(moved).to_contain_text("Mo Moved")
    expect(moved).to_contain_text(re.compile("Nina knows Mo's work"))
    shot(n, "tree-02-new-inviter-sees-moved-in")
