"""Accountability in the browser: a member reports the performer of their project, an
admin opens a case from the report, the subject and the member who invited them are
on the hook (told why, with a link to the case), the admin resolves it with a warning
and both can work again. CSRF is on; screenshots saved."""

import re

import pytest
from playwright.sync_api import expect

from offload.offers.services import accept_award, award_offer, make_offer
from tests.support.browser import gig as _gig
from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_a_report_becomes_a_case_that_puts_subject_and_inviter_on_the_hook(
        browser, live_server, make_member, shot):
    admin = make_member("ada", display_name="Ada Admin", admin=True)
    ivan = make_member("ivan", display_name="Ivan Inviter", inviter=admin)
    sam = make_member("sam", display_name="Sam Subject", inviter=ivan)
    rosa = make_member("rosa", display_name="Rosa Referrer", inviter=admin)
    gig = _gig(rosa, "referral", "A shop for a bakery")
    offer = make_offer(gig, actor=sam, price_minor=1_500_00, days_to_deliver=10,
                       cover_letter="I build shops.", fee_kind=None, idempotency_key="case-flow")
    award_offer(offer, actor=rosa)
    project = accept_award(offer, actor=sam)

    r = browser.new_context().new_page()
    log_in(r, live_server, "rosa")
    r.goto(f"{live_server}/projects/{project.id}")
    r.get_by_role("link", name="Report Sam Subject").click()
    r.get_by_role("button", name="Send the report").click()
    expect(r.get_by_text("Say what happened.")).to_be_visible()  # kept on the page, 422
    r.get_by_label("What happened").fill("Sam went silent for three weeks and asked the "
                                         "client to pay him directly.")
    r.get_by_role("button", name="Send the report").click()
    expect(r.get_by_text("the admins will look at your report")).to_be_visible()

    a = browser.new_context().new_page()
    log_in(a, live_server, "ada")
    a.goto(f"{live_server}/admin")
    expect(a.locator("[data-pending-reports]")).to_have_text("1")
    a.get_by_role("link", name="Reports").click()
    expect(a.get_by_text("asked the client to pay him directly")).to_be_visible()
    a.locator("textarea[id^=summary-]").fill("Bypassing the platform's commission.")
    shot(a, "cases-01-report-triage")
    a.get_by_role("button", name="Open a case").click()
    expect(a.get_by_text(re.compile(r"Case #\d+ is open"))).to_be_visible()
    expect(a.locator("#evidence")).to_contain_text(f"Project #{project.id}")
    case_url = a.url

    s = browser.new_context().new_page()
    log_in(s, live_server, "sam")
    expect(s.get_by_text("You are on the hook")).to_be_visible()
    s.goto(f"{live_server}/gigs/new")
    expect(s.get_by_text("You can't post gigs while case")).to_be_visible()
    s.get_by_role("link", name=re.compile(r"See case #\d+")).click()
    expect(s.get_by_text("Bypassing the platform's commission.")).to_be_visible()
    shot(s, "cases-02-subject-on-the-hook")

    i = browser.new_context().new_page()
    log_in(i, live_server, "ivan")
    i.goto(f"{live_server}/invites")
    expect(i.get_by_text("about Sam Subject, whom you invited, is open")).to_be_visible()
    shot(i, "cases-03-inviter-on-the-hook")

    a.goto(case_url)
    a.get_by_role("button", name="Resolve the case").click()
    expect(a.get_by_text("Choose an outcome.")).to_be_visible()
    a.get_by_role("radio", name=re.compile("^Warned")).check()
    a.get_by_label("Reason", exact=True).fill("First time; the client was paid back.")
    a.get_by_role("button", name="Resolve the case").click()
    expect(a.get_by_text(re.compile(r"Case #\d+ is resolved: warned"))).to_be_visible()
    shot(a, "cases-04-resolved")

    s.goto(f"{live_server}/gigs/new")
    expect(s.get_by_text("You can't post gigs while case")).to_have_count(0)
    i.goto(f"{live_server}/invites")
    expect(i.get_by_text("whom you invited, is open")).to_have_count(0)
    i.goto(f"{live_server}/notifications")
    expect(i.get_by_text(re.compile(r"Case #\d+ about Sam Subject, whom you invited, is "
                                    "resolved: warned"))).to_be_visible()


def test_an_admin_traces_a_line_opens_a_case_resolves_it_and_the_log_shows_it(
        browser, live_server, make_member, shot):
    admin = make_member("olga", display_name="Olga Admin", admin=True)
    uma = make_member("uma", display_name="Uma Upline", inviter=admin)
    vic = make_member("vic", display_name="Vic Vouched", inviter=uma)
    make_member("wes", display_name="Wes Subject", inviter=vic)

    a = browser.new_context().new_page()
    log_in(a, live_server, "olga")
    a.goto(f"{live_server}/admin")
    a.get_by_role("link", name="Invite tree").click()
    a.get_by_label("Member").fill("wes")
    a.get_by_role("button", name="Find").click()
    line = a.locator(".tree-line li")
    expect(line).to_have_text([re.compile("^Olga Admin"), "Uma Upline", "Vic Vouched",
                               "Wes Subject"])
    shot(a, "cases-05-line-to-the-root")
    a.get_by_role("link", name="Open a case").click()
    expect(a.get_by_label("Member (username)")).to_have_value("wes")
    a.get_by_label("Kind").select_option("dispute_conduct")
    a.get_by_role("button", name="Open the case").click()
    expect(a.get_by_text("Say what the case is about.")).to_be_visible()
    expect(a.get_by_label("Member (username)")).to_have_value("wes")  # kept
    a.get_by_label("Summary").fill("Threatened a client in a dispute.")
    a.get_by_role("button", name="Open the case").click()
    expect(a.get_by_text("Wes Subject and their inviter are on the hook")).to_be_visible()
    case_url = a.url

    v = browser.new_context().new_page()
    log_in(v, live_server, "vic")
    v.goto(f"{live_server}/gigs/new")
    expect(v.get_by_text("You can't post gigs while case")).to_be_visible()
    w = browser.new_context().new_page()
    log_in(w, live_server, "wes")
    w.goto(f"{live_server}/invites")
    expect(w.get_by_text("You can't send invites while case")).to_be_visible()
    u = browser.new_context().new_page()
    log_in(u, live_server, "uma")  # two levels up: not on the hook
    u.goto(f"{live_server}/gigs/new")
    expect(u.get_by_text("You can't post gigs while case")).to_have_count(0)

    a.goto(case_url)
    a.get_by_role("radio", name=re.compile("^Cleared")).check()
    a.get_by_label("Reason", exact=True).fill("The client confirmed it was a misunderstanding.")
    a.get_by_role("button", name="Resolve the case").click()
    expect(a.get_by_text(re.compile(r"is resolved: cleared"))).to_be_visible()
    v.reload()
    expect(v.get_by_text("You can't post gigs while case")).to_have_count(0)

    w.goto(f"{live_server}/moderation")
    expect(w.locator(".moderation-log tbody tr").first).to_contain_text("case cleared")
    expect(w.locator(".moderation-log")).to_contain_text(
        "The client confirmed it was a misunderstanding.")
    w.get_by_label("Action").select_option("case_opened")
    w.get_by_role("button", name="Show").click()
    expect(w.locator(".moderation-log tbody tr")).to_have_count(1)
    expect(w.locator(".moderation-log")).to_contain_text("Threatened a client in a dispute.")
    shot(w, "cases-06-moderation-log")
