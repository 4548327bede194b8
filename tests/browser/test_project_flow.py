"""Projects in the browser: a referral from award to paid commission, and a task from
funding a milestone to an admin's split of a dispute. CSRF is on; screenshots saved."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.gigs.services import ClientInfo, post_gig
from offload.offers.services import accept_award, award_offer, make_offer
from offload.wallet.services import add_funds

from .test_gig_flow import log_in

pytestmark = pytest.mark.browser


def _gig(poster, kind: str, title: str):
    return post_gig(actor=poster, kind=kind, title=title, description="The work.",
                    skill_names=["Python"], category="backend", budget_min_minor=1_000_00,
                    budget_max_minor=3_000_00, deadline=utcnow().date() + timedelta(days=30),
                    client_details=ClientInfo("Bright Dental", "ops@bright.example")
                    if kind == "referral" else None)


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
    p.get_by_role("link", name="Booking system for a dental clinic").click()  # dashboard
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
