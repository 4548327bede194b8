"""A member adds funds and asks for a withdrawal; an admin pays it; the history shows each step."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from offload.core.db import db
from offload.wallet.models import Withdrawal
from offload.wallet.services import reject_withdrawal
from tests.support.browser import log_in
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser

IBAN = "IBAN DE89 3704 0044 0532 0130 00"


def history_row(page, text):
    return page.locator("#history tbody tr", has_text=text)


def test_add_funds_request_a_withdrawal_and_see_both_in_the_history(
        browser, live_server, make_member, shot):
    make_member("dana", display_name="Dana Scully")
    make_member("root", admin=True)

    member = browser.new_context().new_page()
    log_in(member, live_server, "dana")
    member.get_by_role("link", name="Wallet", exact=True).click()
    expect(member.get_by_role("heading", name="Wallet", exact=True)).to_be_visible()
    expect(member.get_by_text("no real money moves; funds are credited at once")).to_be_visible()
    expect(member.get_by_text("Nothing yet.")).to_be_visible()
    shot(member, "wallet-01-empty")

    member.get_by_label("Amount to add").fill("12.345")
    member.get_by_role("button", name="Add funds").click()
    expect(member.get_by_text("Use at most two decimals (for example 12.50).")).to_be_visible()
    expect(member.get_by_label("Amount to add")).to_have_value("12.345")
    shot(member, "wallet-02-bad-amount")

    member.get_by_label("Amount to add").fill("50.00")
    member.get_by_role("button", name="Add funds").click()
    expect(member.get_by_text("$50.00 was added to your wallet.")).to_be_visible()
    expect(member.locator("[data-balance=available]")).to_have_text("$50.00")
    expect(history_row(member, "Deposit")).to_contain_text("+$50.00")
    expect(history_row(member, "Deposit")).to_contain_text("paid")

    member.get_by_label("Amount to withdraw").fill("80")
    member.get_by_label("Where to send it").fill(IBAN)
    member.get_by_role("button", name="Request withdrawal").click()
    expect(member.get_by_text("You can't withdraw $80.00: your available balance is "
                              "$50.00.")).to_be_visible()
    expect(member.get_by_label("Where to send it")).to_have_value(IBAN)
    shot(member, "wallet-03-over-balance")

    member.get_by_label("Amount to withdraw").fill("20")
    member.get_by_role("button", name="Request withdrawal").click()
    expect(member.get_by_text("Your withdrawal of $20.00 is requested")).to_be_visible()
    expect(member.locator("[data-balance=available]")).to_have_text("$30.00")
    expect(member.locator("[data-balance=held]")).to_have_text("$20.00")
    expect(member.locator("[data-balance=total]")).to_have_text("$50.00")
    expect(history_row(member, "Withdrawal")).to_contain_text("-$20.00")
    expect(history_row(member, "Withdrawal")).to_contain_text("held")
    expect(history_row(member, "Deposit")).to_contain_text("paid")
    expect(member.locator("#withdrawals")).to_contain_text("requested")
    shot(member, "wallet-04-withdrawal-held")

    admin = browser.new_context().new_page()
    log_in(admin, live_server, "root")
    admin.get_by_role("link", name="Admin", exact=True).click()
    expect(admin.get_by_text("checks pass")).to_be_visible()
    expect(admin.get_by_text("1 withdrawal waiting")).to_be_visible()
    shot(admin, "wallet-05-admin")
    admin.get_by_role("link", name="The withdrawal queue").click()
    expect(admin.get_by_text(IBAN)).to_be_visible()
    paid_form = admin.locator("details", has_text="Mark as paid")
    paid_form.locator("summary").click()
    paid_form.get_by_label("Reason").fill("Sent by SEPA, reference 4711")
    paid_form.get_by_label("Your password").fill("wrong password entirely")
    paid_form.get_by_role("button", name="Mark paid").click()
    expect(admin.get_by_text("Your password is not correct.")).to_be_visible()
    shot(admin, "wallet-06-admin-wrong-password")
    paid_form = admin.locator("details", has_text="Mark as paid")
    expect(paid_form.get_by_label("Reason")).to_have_value("Sent by SEPA, reference 4711")
    paid_form.get_by_label("Your password").fill(PASSWORD)
    paid_form.get_by_role("button", name="Mark paid").click()
    expect(admin.get_by_text("is marked paid; the member is notified.")).to_be_visible()
    expect(admin.get_by_text("No withdrawals are waiting.")).to_be_visible()
    shot(admin, "wallet-07-admin-paid")

    member.reload()
    expect(member.locator("[data-balance=total]")).to_have_text("$30.00")
    expect(member.locator("[data-balance=held]")).to_have_text("$0.00")
    expect(history_row(member, "Withdrawal: paid out")).to_contain_text("paid")
    expect(member.locator("#withdrawals")).to_contain_text("paid")
    shot(member, "wallet-08-history")
    member.locator("#history").get_by_role("link", name=re.compile(r"^Withdrawal #")).first.click()
    expect(member.get_by_text(IBAN)).to_be_visible()
    expect(member.get_by_text("The amount was paid out")).to_be_visible()
    shot(member, "wallet-09-withdrawal")


def after(row) -> tuple[str, str]:
    return (row.locator("[data-after=available]").inner_text(),
            row.locator("[data-after=held]").inner_text())


def test_a_released_hold_is_its_own_line_and_every_line_shows_the_balances_after_it(
        browser, live_server, make_member, shot):
    rene = make_member("rene", display_name="Rene Saver")
    admin = make_member("judge", admin=True)

    member = browser.new_context().new_page()
    log_in(member, live_server, "rene")
    member.goto(f"{live_server}/wallet")
    member.get_by_label("Amount to add").fill("50")
    member.get_by_role("button", name="Add funds").click()
    expect(member.get_by_text("$50.00 was added to your wallet.")).to_be_visible()
    member.get_by_label("Amount to withdraw").fill("20")
    member.get_by_label("Where to send it").fill(IBAN)
    member.get_by_role("button", name="Request withdrawal").click()
    expect(member.get_by_text("Your withdrawal of $20.00 is requested")).to_be_visible()

    withdrawal = db.session.scalars(select(Withdrawal).where(
        Withdrawal.member_id == rene.id)).one()
    reject_withdrawal(withdrawal, actor=admin, reason="The IBAN bounced", password=PASSWORD)

    member.reload()
    rows = member.locator("#history tbody tr")
    expect(rows).to_have_count(3)
    released = history_row(member, "hold released")
    expect(released).to_contain_text("Withdrawal: hold released")
    expect(released).to_contain_text("+$20.00")
    expect(released.locator("[data-after=available]")).to_have_text("$50.00")
    expect(released.locator("[data-after=held]")).to_have_text("$0.00")
    assert [after(rows.nth(n)) for n in range(3)] == [
        ("$50.00", "$0.00"), ("$30.00", "$20.00"), ("$50.00", "$0.00")]
    expect(member.locator("[data-balance=available]")).to_have_text("$50.00")
    expect(member.locator("[data-balance=held]")).to_have_text("$0.00")
    expect(member.get_by_role("columnheader", name="Available after")).to_be_visible()
    shot(member, "wallet-10-hold-released")
