"""An invoiced amount under the agreed price in the browser: the performer must say why,
the referrer sees both amounts and contests, an admin corrects the amount on the case
page (with their password again), and both sides then read the corrected commission
(paid again through the ledger)."""

import re

import pytest
from playwright.sync_api import expect

from offload.offers.services import accept_award, award_offer, make_offer
from offload.wallet.services import add_funds
from tests.support.browser import gig as _gig
from tests.support.browser import log_in
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_under_price_contested_and_corrected(browser, live_server, make_member, shot):
    rhea = make_member("ivy", display_name="Ivy Referrer")
    paul = make_member("ian", display_name="Ian Performer")
    make_member("ada", display_name="Ada Admin", admin=True)
    gig = _gig(rhea, "referral", "A bakery's order system")
    offer = make_offer(gig, actor=paul, price_minor=2_000_00, days_to_deliver=10,
                       cover_letter="I build these.", fee_kind=None, idempotency_key="ir")
    award_offer(offer, actor=rhea)
    project = accept_award(offer, actor=paul)
    add_funds(actor=paul, amount_minor=500_00, idempotency_key="ir-funds")
    project_url = f"{live_server}/projects/{project.id}"

    p = browser.new_context().new_page()
    log_in(p, live_server, "ian")
    p.goto(project_url)
    settlement = p.locator("#settlement")
    settlement.get_by_label("Amount invoiced to the client").fill("1200")
    settlement.get_by_role("button", name="Mark the work complete").click()
    # said beside the field (and in the summary at the top of the refused page)
    expect(p.locator("#complete-reason-error")).to_contain_text(
        "$1,200.00 is under the agreed price ($2,000.00): say why.")
    expect(p.locator("#settlement").get_by_label("Amount invoiced to the client")
           ).to_have_value("1200")
    p.locator("#settlement").get_by_label("If it is under the agreed price, why").fill(
        "The client dropped the delivery module.")
    p.locator("#settlement").get_by_role("button", name="Mark the work complete").click()
    expect(p.locator(".commission-state")).to_contain_text("Paid")
    expect(p.locator(".invoice-review")).to_contain_text("Awaiting the referrer")

    r = browser.new_context().new_page()
    log_in(r, live_server, "ivy")
    r.goto(project_url)
    facts = r.locator(".commission-facts")
    expect(facts.locator(".agreed")).to_have_text("$2,000.00")
    expect(facts.locator(".invoiced")).to_contain_text("$1,200.00")
    expect(facts.locator(".invoice-reason")).to_have_text(
        "The client dropped the delivery module.")
    shot(r, "invoice-01-review")
    r.get_by_role("button", name="Contest the amount").click()
    expect(r.get_by_text("Say why you contest the amount.", exact=True)).to_be_visible()
    r.get_by_label("Why you contest it").fill("The client told me they paid the full price.")
    r.get_by_role("button", name="Contest the amount").click()
    expect(r.get_by_text("You contested the invoiced amount")).to_be_visible()
    expect(r.locator(".invoice-review")).to_contain_text("Contested")
    expect(r.get_by_role("button", name="Contest the amount")).to_have_count(0)

    a = browser.new_context().new_page()
    log_in(a, live_server, "ada")
    a.goto(f"{live_server}/admin/cases")
    a.get_by_role("link", name=re.compile(r"^Case #\d+$")).first.click()
    expect(a.locator(".contested-invoice .agreed")).to_have_text("$2,000.00")
    expect(a.locator(".contested-invoice .invoiced")).to_contain_text("$1,200.00")
    expect(a.get_by_text("The client told me they paid the full price.").first).to_be_visible()
    a.get_by_label("Warned: the member is told, nothing else changes").check()
    a.get_by_label("Reason").fill("The client's receipt shows $2,000.")
    a.get_by_label("Corrected invoiced amount (optional)").fill("2000")
    a.get_by_role("button", name="Resolve the case").click()  # the password is asked again
    expect(a.get_by_text("Enter your password to confirm.")).to_be_visible()
    expect(a.get_by_label("Corrected invoiced amount (optional)")).to_have_value("2000")
    expect(a.get_by_label("Reason")).to_have_value("The client's receipt shows $2,000.")
    a.get_by_label("Your password").fill("not my password")
    a.get_by_role("button", name="Resolve the case").click()
    expect(a.get_by_text("Your password is not correct.")).to_be_visible()
    a.get_by_label("Your password").fill(PASSWORD)
    shot(a, "invoice-02-correct")
    a.get_by_role("button", name="Resolve the case").click()
    expect(a.get_by_text(re.compile(r"Case #\d+ is resolved: warned"))).to_be_visible()
    expect(a.locator(".contested-invoice .invoiced")).to_contain_text(
        "$2,000.00 (corrected; the performer entered $1,200.00)")

    for page in (p, r):
        page.goto(project_url)
        facts = page.locator(".commission-facts")
        expect(facts.locator(".invoiced")).to_contain_text("$2,000.00")
        expect(facts.locator(".invoiced")).to_contain_text("the performer entered $1,200.00")
        expect(facts.locator(".commission-amount")).to_contain_text("$200.00")
        expect(page.locator(".invoice-review")).to_have_text("Corrected by an admin")
        expect(page.locator(".commission-state")).to_contain_text("Paid")
    expect(r.get_by_text(re.compile("An admin corrected the invoiced amount from "
                                    r"\$1,200\.00 to \$2,000\.00"))).to_be_visible()
    shot(r, "invoice-03-corrected")
    p.goto(f"{live_server}/wallet")
    expect(p.get_by_text("Correction").first).to_be_visible()
