"""A member makes an API token in Settings, sees it once, uses it, and revokes it; the
API's docs page runs under the site's CSP with its own files."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_create_see_once_use_and_revoke_a_token(browser, live_server, make_member, shot):
    make_member("ada", display_name="Ada Lovelace")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings")
    tokens = page.locator("#api-tokens")
    expect(tokens.get_by_role("heading", name="API tokens")).to_be_visible()
    expect(tokens.get_by_text("You have no API tokens.")).to_be_visible()

    tokens.get_by_role("button", name="Create token").click()  # no name, no luck
    expect(page.get_by_text("Name the token.")).to_be_visible()
    tokens = page.locator("#api-tokens")
    tokens.get_by_label("Token name").fill("Deploy script")
    expect(tokens.get_by_role("checkbox", name=re.compile("^Read"))).to_be_checked()
    tokens.get_by_role("checkbox", name=re.compile("^Offers")).check()
    tokens.get_by_label("Expires after").select_option(label="90 days")
    shot(page, "api-01-new-token-form")
    tokens.get_by_role("button", name="Create token").click()

    shown = page.get_by_role("status").filter(has_text="Copy it now")
    expect(shown).to_contain_text("won't be shown again")
    secret = shown.locator("code").inner_text()
    assert re.fullmatch(r"offload_pat_[A-Za-z0-9_-]{43}", secret)
    row = page.get_by_role("row").filter(has_text="Deploy script")
    expect(row).to_contain_text("read, offers")
    expect(row).to_contain_text("never")  # not used yet
    shot(page, "api-02-token-shown-once")

    api = page.request.get(f"{live_server}/api/v1/me",
                           headers={"Authorization": f"Bearer {secret}"})
    assert api.status == 200 and api.json()["username"] == "ada"
    # the page's own session, without the token, is nobody to the API
    assert page.request.get(f"{live_server}/api/v1/me").status == 401

    page.goto(f"{live_server}/settings")
    expect(page.get_by_text(secret)).to_have_count(0)  # once means once
    row = page.get_by_role("row").filter(has_text="Deploy script")
    expect(row).not_to_contain_text("never")  # used a moment ago
    row.get_by_role("button", name="Revoke Deploy script").click()
    expect(page.get_by_text("Revoked “Deploy script”: it no longer works.")).to_be_visible()
    expect(page.get_by_text("You have no API tokens.")).to_be_visible()
    shot(page, "api-03-token-revoked")
    assert page.request.get(f"{live_server}/api/v1/me",
                            headers={"Authorization": f"Bearer {secret}"}).status == 401


def test_the_docs_page_runs_swagger_ui_under_the_csp(browser, live_server, shot):
    page = browser.new_context().new_page()
    violations, errors = [], []
    page.on("console", lambda m: violations.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/api/v1/docs")
    expect(page.locator("#operations-gigs-get_api_v1_gigs__gig_id_")
           .get_by_role("link", name="/api/v1/gigs/{gig_id}")).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    shot(page, "api-04-docs")
    assert violations == [] and errors == []
