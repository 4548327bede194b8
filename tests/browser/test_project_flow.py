"""Projects in the browser: a referral from award to paid commission, and a task from
funding a milestone to an admin's split of a dispute. CSRF is on; screenshots saved."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.offers.services import accept_award, award_offer, make_offer
from offload.wallet.services import add_funds
from tests.support.browser import gig as _gig
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_a_referral_from_award_to_paid_commission(browser, live_server, make_member, shot):
    rita = make_member("rita", display_name="Rita Referrer")
    pete = make_member("pete", display_name="Pete Performer")
    gig = _gig(rita, "referral", "Booking system for a dental clinic")
    offer = make_offer(gig, actor=pete, price_minor=2_400_00, days_to_deliver=20,
                       cover_letter="Built two of these.", fee_kind=None,
                       idempotency_key="browser-referral")

    r = browser.new_context().new_page()
    log_in(r, live_server, "rita")
    r.goto(f"{live_server}/offers/{offer.id}")
    r.get_by_role("button", name="Award the gig").click()
    expect(r.get_by_text("You chose this offer.")).to_be_visible()

    p = browser.new_context().new_page()
    log_in(p, live_server, "pete")
    p.get_by_role("region", name="Awards waiting for your answer").get_by_role(
        "link", name="Booking system for a dental clinic").click()
    p.get_by_role("button", name="Accept the award").click()
    p.get_by_role("link", name="Open the project").click()
    expect(p.get_by_text("Bright Dental")).to_be_visible()  # the client, now
    p.get_by_label("What happened").select_option("work_started")
    p.get_by_label("Note").fill("Kick-off call done; first screens next week.")
    p.get_by_role("button", name="Post on the timeline").click()
    expect(p.get_by_text("Posted on the timeline")).to_be_visible()
    project_url = p.url.split("#")[0]
    shot(p, "projects-01-referral-timeline")

    r.goto(project_url)
    expect(r.get_by_text("Kick-off call done; first screens next week.")).to_be_visible()

    p.get_by_label("Amount invoiced to the client").fill("2400")
    p.get_by_role("button", name="Mark the work complete").click()
    expect(p.locator(".commission-state")).to_contain_text("Due by")
    shot(p, "projects-02-commission-due")
    p.get_by_role("link", name="Add funds").click()
    p.get_by_label("Amount to add").fill("300")
    p.get_by_role("button", name="Add funds").click()
    p.goto(project_url)
    p.get_by_role("button", name="Pay $240.00 now").click()
    expect(p.get_by_text("The commission is paid.")).to_be_visible()
    expect(p.locator(".commission-state")).to_contain_text("Paid")
    shot(p, "projects-03-commission-paid")

    r.reload()
    expect(r.get_by_text("Invoiced $2,400.00; commission $240.00: $72.00 platform, "
                         "$168.00 referrer.")).to_be_visible()
    r.get_by_role("link", name="Wallet").click()
    expect(r.locator("[data-balance=available]")).to_have_text("$168.00")
    shot(r, "projects-04-referrer-wallet")


def test_a_task_from_funding_to_a_split_dispute(browser, live_server, make_member, shot):
    cora = make_member("cora", display_name="Cora Customer")
    dev = make_member("devin", display_name="Devin Dev")
    make_member("judy", display_name="Judy Admin", admin=True)
    add_funds(actor=cora, amount_minor=500_00, idempotency_key="browser-cora")
    add_funds(actor=dev, amount_minor=5_00, idempotency_key="browser-devin")
    gig = _gig(cora, "task", "Speed up the nightly import")
    offer = make_offer(gig, actor=dev, price_minor=400_00, days_to_deliver=10,
                       cover_letter="I will profile it first.", fee_kind="prepaid",
                       idempotency_key="browser-task")
    award_offer(offer, actor=cora)
    project = accept_award(offer, actor=dev)
    project_url = f"{live_server}/projects/{project.id}"

    c = browser.new_context().new_page()
    log_in(c, live_server, "cora")
    c.goto(project_url)
    c.get_by_role("textbox", name="Milestone", exact=True).fill("Profile and fix the import")
    c.get_by_label("Amount", exact=True).fill("400")
    c.get_by_label("Due", exact=True).fill((utcnow().date() + timedelta(days=7)).isoformat())
    c.get_by_role("button", name="Add the milestone").click()
    c.get_by_role("button", name="Fund $400.00").click()
    expect(c.get_by_text("The milestone is funded")).to_be_visible()
    shot(c, "projects-05-funded")

    d = browser.new_context().new_page()
    log_in(d, live_server, "devin")
    d.goto(project_url)
    d.locator("textarea[id^=deliver-]").fill("Done: the import takes 4 minutes now.")
    d.locator("input[type=file][id^=deliver-]").set_input_files(
        [{"name": "import-report.pdf", "mimeType": "application/pdf",
          "buffer": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"}])
    d.get_by_role("button", name="Deliver").click()
    expect(d.get_by_text("Delivered; the customer is told.")).to_be_visible()
    expect(d.locator(".milestone .event-file")).to_contain_text("import-report.pdf")

    c.reload()
    c.get_by_text("Open a dispute").click()
    c.get_by_label("Your statement").fill("It still fails on large files.")
    c.get_by_role("button", name="Open the dispute").click()
    expect(c.get_by_text("The dispute is open")).to_be_visible()
    shot(c, "projects-06-dispute-open")

    d.reload()
    d.get_by_label("Your statement").fill("Large files were not in the brief.")
    d.get_by_role("button", name="Add your statement").click()
    expect(d.get_by_text("Your statement is added")).to_be_visible()

    j = browser.new_context().new_page()
    log_in(j, live_server, "judy")
    j.goto(f"{live_server}/admin/disputes")
    j.get_by_role("link", name=re.compile("^Dispute #")).click()
    expect(j.get_by_text("Large files were not in the brief.")).to_be_visible()
    with j.expect_download() as download:  # the delivered file, as evidence
        j.get_by_role("link", name="import-report.pdf").click()
    assert download.value.suggested_filename == "import-report.pdf"
    j.get_by_role("radio", name=re.compile("^Split")).check()
    j.get_by_label("To the performer (split only)").fill("250")
    j.get_by_label("Reason", exact=True).fill(
        "Most of the brief was delivered; large files were not.")
    j.get_by_label("Your password").fill("correct horse battery")
    shot(j, "projects-07-admin-dispute")
    j.get_by_role("button", name="Resolve the dispute").click()
    expect(j.get_by_text("The dispute is resolved")).to_be_visible()

    d.reload()
    expect(d.locator(".dispute-outcome")).to_contain_text(
        "$250.00 to the performer, $150.00 to the customer.")
    shot(d, "projects-08-split")
    d.get_by_role("link", name="Wallet").click()
    expect(d.locator("[data-balance=available]")).to_have_text("$254.00")  # 5 - 1 + 250
    c.get_by_role("link", name="Wallet").click()
    expect(c.locator("[data-balance=available]")).to_have_text("$250.00")  # 500 - 250
    expect(c.locator("[data-balance=held]")).to_have_text("$0.00")
    shot(c, "projects-09-customer-wallet")


def _task_at_320(customer: str, performer: str, title: str, make_member):
    """A task awarded at $320 and accepted; the customer has $500."""
    from offload.accounts.models import User
    from offload.core.db import db

    cora = make_member(customer, display_name="Cora Customer")
    dev = make_member(performer, display_name="Devin Dev")
    add_funds(actor=cora, amount_minor=500_00, idempotency_key=f"browser-{customer}")
    add_funds(actor=dev, amount_minor=5_00, idempotency_key=f"browser-{performer}")
    gig = _gig(cora, "task", title)
    offer = make_offer(gig, actor=dev, price_minor=320_00, days_to_deliver=10,
                       cover_letter="I can do it.", fee_kind="prepaid",
                       idempotency_key=f"browser-{title}")
    award_offer(offer, actor=cora)
    project = accept_award(offer, actor=db.session.get(User, dev.id))
    return cora, dev, project


def _add_and_fund(page, title: str, amount: str):
    page.get_by_role("textbox", name="Milestone", exact=True).fill(title)
    page.get_by_label("Amount", exact=True).fill(amount)
    page.get_by_label("Due", exact=True).fill((utcnow().date() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_text("Milestone added.")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Fund ")).click()
    expect(page.get_by_text("The milestone is funded")).to_be_visible()


def _deliver(page, url: str, note: str):
    page.goto(url)
    page.locator("textarea[id^=deliver-]").fill(note)
    page.get_by_role("button", name="Deliver").click()
    expect(page.get_by_text("Delivered; the customer is told.")).to_be_visible()


def test_a_task_stays_open_until_its_whole_price_is_released(browser, live_server,
                                                             make_member, shot):
    _, _, project = _task_at_320("cleo", "dario", "Migrate the billing jobs", make_member)
    url = f"{live_server}/projects/{project.id}"
    c = browser.new_context().new_page()
    log_in(c, live_server, "cleo")
    c.goto(url)
    _add_and_fund(c, "A first small part", "10")
    d = browser.new_context().new_page()
    log_in(d, live_server, "dario")
    _deliver(d, url, "The first job is moved.")

    c.reload()
    expect(c.locator(".release-note")).to_have_text(
        "This is the last funded milestone; $310.00 of the $320.00 price is not scheduled "
        "yet: the project stays open.")
    shot(c, "projects-10-last-funded-release-note")
    c.get_by_role("button", name="Release $10.00").click()
    expect(c.get_by_text("Released: the performer is paid.")).to_be_visible()
    expect(c.locator(".project-state-active")).to_have_text("Active")
    expect(c.locator(".price-paid")).to_have_text("$10.00")
    expect(c.locator(".price-unscheduled")).to_have_text("$310.00")
    expect(c.get_by_text("At most $310.00: what is left of the price to schedule.")
           ).to_be_visible()
    shot(c, "projects-11-ten-of-320-still-active")

    # more than is left is refused, with what was typed kept
    c.get_by_role("textbox", name="Milestone", exact=True).fill("The rest")
    c.get_by_label("Amount", exact=True).fill("400")
    c.get_by_label("Due", exact=True).fill((utcnow().date() + timedelta(days=7)).isoformat())
    c.get_by_role("button", name="Add the milestone").click()
    expect(c.locator("#milestone-amount-error")).to_contain_text(
        "only $310.00 of it is left to schedule.")
    expect(c.get_by_role("textbox", name="Milestone", exact=True)).to_have_value("The rest")
    c.goto(url)
    _add_and_fund(c, "The rest", "310")
    expect(c.get_by_role("button", name="Add the milestone")).to_have_count(0)
    _deliver(d, url, "All the jobs are moved.")
    c.reload()
    expect(c.locator(".release-note")).to_have_text(
        "Releasing this completes the project: the whole $320.00 is paid.")
    c.get_by_role("button", name="Release $310.00").click()
    expect(c.locator(".project-state-completed")).to_have_text("Completed")
    expect(c.locator(".price-paid")).to_have_text("$320.00")
    shot(c, "projects-12-paid-in-full-completed")
    d.get_by_role("link", name="Wallet").click()
    expect(d.locator("[data-balance=available]")).to_have_text("$324.00")  # 5 - 1 + 320


def test_closing_a_task_short_takes_both_sides(browser, live_server, make_member, shot):
    from offload.core.db import db
    from offload.milestones import services as ms
    from offload.milestones.models import Milestone

    cora, dev, project = _task_at_320("carla", "dmitri", "Rewrite the exporter", make_member)
    m = ms.add_milestone(project, actor=cora, title="The CSV export", amount_minor=120_00,
                         due_on=utcnow().date() + timedelta(days=5))
    ms.fund_milestone(m, actor=cora, idempotency_key="browser-short-fund")
    ms.release_milestone(db.session.get(Milestone, m.id), actor=cora)
    url = f"{live_server}/projects/{project.id}"

    d = browser.new_context().new_page()
    log_in(d, live_server, "dmitri")
    d.goto(url)
    d.get_by_text("Propose a lower price", exact=True).click()
    d.get_by_label("New price").fill("100")
    d.get_by_label("Reason").fill("The client dropped the PDF export; CSV is done.")
    d.get_by_role("button", name="Propose the lower price").click()
    expect(d.get_by_text("The price can't go below $120.00: $120.00 is paid.",
                         exact=True)).to_be_visible()
    expect(d.get_by_label("Reason")).to_have_value(
        "The client dropped the PDF export; CSV is done.")
    d.get_by_label("New price").fill("120")
    d.get_by_role("button", name="Propose the lower price").click()
    expect(d.get_by_text("Proposed; the other side is told")).to_be_visible()
    expect(d.get_by_role("button", name="Withdraw the proposal")).to_be_visible()
    shot(d, "projects-13-close-short-proposed")

    c = browser.new_context().new_page()
    log_in(c, live_server, "carla")
    c.goto(url)
    expect(c.locator(".price-proposal")).to_contain_text(
        "Devin Dev proposes lowering the price to $120.00 (from $320.00).")
    expect(c.locator(".price-proposal")).to_contain_text(
        "Accepting completes the project now: $120.00 is paid.")
    shot(c, "projects-14-close-short-to-answer")
    c.get_by_role("button", name="Accept $120.00").click()
    expect(c.get_by_text("The price is lowered: the project is complete.")).to_be_visible()
    expect(c.locator(".project-state-completed")).to_have_text("Completed")
    expect(c.locator(".price-agreed")).to_contain_text("lowered from $320.00 by agreement")
    expect(c.get_by_text("The agreed price is now $120.00 (was $320.00).")).to_be_visible()
    shot(c, "projects-15-closed-short")
    d.reload()
    expect(d.locator(".project-state-completed")).to_have_text("Completed")
