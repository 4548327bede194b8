"""A member with two-factor log-in adds a passkey (Chromium's virtual authenticator,
through the DevTools protocol) and logs in with it instead of the code; to add a second
one the page asks for a code first (a passkey does not vouch for another); without
JavaScript the page says passkeys need it.

Browsers refuse an IP address as a relying party's id, so this test reaches the live
server as ``localhost`` and names that as the relying party."""

import re
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.support.browser import password_step
from tests.support.two_factor import code_for, turn_on_two_factor

pytestmark = pytest.mark.browser


@pytest.fixture
def site(app, live_server, monkeypatch):
    port = urlsplit(live_server).port
    monkeypatch.setitem(app.config, "WEBAUTHN_RP_ID", "localhost")
    monkeypatch.setitem(app.config, "WEBAUTHN_ORIGIN", f"http://localhost:{port}")
    return f"http://localhost:{port}"


def _accessible(page, where: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


def _virtual_authenticator(devtools) -> str:
    return devtools.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
        "hasUserVerification": True, "isUserVerified": True}})["authenticatorId"]


def test_add_a_passkey_then_log_in_with_it(browser, site, make_member, shot):
    setup = turn_on_two_factor(make_member("ada", display_name="Ada Lovelace"))
    secret = setup.secret
    context = browser.new_context()
    page = context.new_page()
    devtools = context.new_cdp_session(page)
    devtools.send("WebAuthn.enable")
    authenticator = _virtual_authenticator(devtools)

    password_step(page, site, "ada")
    expect(page.get_by_role("button", name="Use a passkey")).to_have_count(0)  # none yet
    page.get_by_label("Code").fill(code_for(secret, steps=1))  # the set-up used this step's
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()

    page.goto(f"{site}/settings/two-factor")
    expect(page.get_by_text("You have no passkeys.")).to_be_visible()
    expect(page.get_by_text("Passkeys need JavaScript")).to_be_hidden()
    page.get_by_label("Name it").fill("This laptop")
    shot(page, "passkeys-01-add")
    _accessible(page, "the two-factor page with passkeys")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “This laptop” added")).to_be_visible()
    listed = page.locator("#passkeys").get_by_role("cell", name="This laptop", exact=True)
    expect(listed).to_be_visible()
    stored = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1
    shot(page, "passkeys-02-listed")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out everywhere.")).to_be_visible()
    password_step(page, site, "ada")
    shot(page, "passkeys-03-code-step")
    _accessible(page, "the code step with a passkey")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    page.goto(f"{site}/settings/two-factor")
    expect(page.locator("#passkeys").get_by_role("cell", name="never")).to_have_count(0)
    used = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert used["credentials"][0]["signCount"] >= 1

    # logged in with the passkey: another one needs the app's code or a backup code first
    passkeys = page.locator("#passkeys")
    expect(passkeys.get_by_text("Enter a code from your app, or a backup code")).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_have_count(0)
    shot(page, "passkeys-04-code-first")
    _accessible(page, "the two-factor page asking for a code before a passkey")
    passkeys.get_by_label("Code from your app, or a backup code").fill(setup.backup_codes[0])
    passkeys.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("your code is accepted")).to_be_visible()
    devtools.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": authenticator})
    phone = _virtual_authenticator(devtools)
    page.get_by_label("Name it").fill("Phone")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_text("Passkey “Phone” added")).to_be_visible()
    expect(passkeys.get_by_role("cell", name="Phone", exact=True)).to_be_visible()
    assert len(devtools.send("WebAuthn.getCredentials", {"authenticatorId": phone}
                             )["credentials"]) == 1


def test_without_javascript_the_page_says_passkeys_need_it(browser, site, make_member):
    secret = turn_on_two_factor(make_member("bea")).secret
    page = browser.new_context(java_script_enabled=False).new_page()
    password_step(page, site, "bea")
    page.get_by_label("Code").fill(code_for(secret, steps=1))
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{site}/settings/two-factor")
    expect(page.get_by_text("Passkeys need JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_hidden()
