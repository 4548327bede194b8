"""A member sets up two-factor log-in from the secret on the page, logs in with a code,
then with a backup code, which is refused the second time; a large withdrawal asks for
a code again and goes through after it, as it was typed."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect
from sqlalchemy import select

from offload.core.db import db
from offload.wallet.models import Withdrawal
from tests.support.browser import log_in, password_step
from tests.support.factories import fund
from tests.support.two_factor import code_for, turn_on_two_factor

pytestmark = pytest.mark.browser


def _backup_code_step(page, live_server, username, code):
    password_step(page, live_server, username)
    page.get_by_role("link", name="Use a backup code").click()
    page.get_by_label("Backup code").fill(code)
    page.get_by_role("button", name="Log in").click()


def _accessible(page, where: str) -> None:
    results = Axe().run(page)
    assert results.violations_count == 0, f"{where}:\n{results.generate_report()}"


def _log_out(page):
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out everywhere.")).to_be_visible()


def test_set_up_then_log_in_with_a_code_and_a_backup_code(browser, live_server, make_member,
                                                         shot):
    make_member("ada", display_name="Ada Lovelace")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings")
    page.locator("#two-factor").get_by_role("link", name="Two-factor authentication").click()
    page.get_by_role("button", name="Set up two-factor authentication").click()
    expect(page.get_by_text("Scan the QR code with your app")).to_be_visible()
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    shot(page, "2fa-01-scan")
    _accessible(page, "the set-up page")

    page.get_by_label("Code from your app").fill("000000" if code_for(secret) != "000000"
                                                 else "111111")
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("That code is not right")).to_be_visible()
    expect(page.get_by_label("Code from your app")).to_have_value("")
    page.get_by_label("Code from your app").fill(code_for(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    expect(page.get_by_text("Two-factor authentication is on.")).to_be_visible()
    codes = page.locator("#backup-codes code").all_inner_texts()
    assert len(codes) == 10
    shot(page, "2fa-02-backup-codes")
    _accessible(page, "the backup codes")
    page.get_by_role("link", name="I saved them").click()
    expect(page.get_by_text("You have 10 unused backup codes.")).to_be_visible()
    _log_out(page)

    password_step(page, live_server, "ada")
    expect(page.get_by_text("Enter the 6-digit code from your app.")).to_be_visible()
    shot(page, "2fa-03-code-step")
    _accessible(page, "the code step")
    page.get_by_label("Code").fill(code_for(secret, steps=1))  # the set-up used this step's
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    _log_out(page)

    _backup_code_step(page, live_server, "ada", codes[0])
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    _log_out(page)

    _backup_code_step(page, live_server, "ada", codes[0])
    expect(page.get_by_text("That backup code is not right, or it was used already")) \
        .to_be_visible()
    expect(page.get_by_label("Backup code")).to_have_value("")
    shot(page, "2fa-04-backup-code-refused")
    page.goto(f"{live_server}/settings")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()  # not logged in


def test_a_large_withdrawal_asks_for_a_code_then_goes_through(app, browser, live_server,
                                                              make_member, shot,
                                                              monkeypatch):
    dana = make_member("dana")
    fund(dana, 300_00)
    set_up = turn_on_two_factor(dana)
    secret = set_up.secret
    page = browser.new_context().new_page()
    _backup_code_step(page, live_server, "dana", set_up.backup_codes[0])
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()
    # the code of the log-in counts as old (the server runs in this process)
    fresh_minutes = app.config["TWO_FACTOR_FRESH_MINUTES"]
    monkeypatch.setitem(app.config, "TWO_FACTOR_FRESH_MINUTES", 0)
    page.goto(f"{live_server}/wallet")
    page.get_by_label("Amount to withdraw").fill("150")
    page.get_by_label("Where to send it").fill("IBAN DE89 3704 0044 0532 0130 00")
    page.get_by_role("button", name="Request withdrawal").click()
    expect(page.get_by_role("heading", name="Re-enter your code")).to_be_visible()
    expect(page.get_by_text("Moving this much money out")).to_be_visible()
    expect(page.get_by_text("except your password")).to_have_count(0)  # none was typed
    shot(page, "2fa-05-step-up")
    _accessible(page, "the re-enter your code page")
    monkeypatch.setitem(app.config, "TWO_FACTOR_FRESH_MINUTES", fresh_minutes)
    page.get_by_label("Code from your app, or a backup code").fill(code_for(secret, steps=1))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Your withdrawal of $150.00 is requested")).to_be_visible()
    db.session.rollback()
    assert db.session.scalars(select(Withdrawal.amount_minor)).all() == [150_00]
