"""The case and report queues, opening a case, and the admin forms on a case page: 404 to
members and anonymous visitors, forms that keep what was typed and say what is wrong
(422), one moderation entry per action, queues that paginate."""

from __future__ import annotations

import html
import re

import pytest

from offload.accounts.models import User
from offload.cases.models import Case, CaseState, Report, ReportState
from offload.cases.reports import report_member
from offload.cases.services import resolve_case
from tests.support.cases import case_ids, entries, evidence_of
from tests.support.factories import count, fresh


def text_of(response) -> str:
    return response.get_data(as_text=True)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text_of(response)


def follow(client, response) -> str:
    """The page a redirect leads to (with its flashes)."""
    assert response.status_code == 302, text_of(response)[:2000]
    return page(client, response.headers["Location"])


def report(reporter, subject, body="Asked me to pay outside Offload.", project_id=None):
    return report_member(actor=fresh(User, reporter.id), subject=fresh(User, subject.id),
                         body=body, project_id=project_id)


def test_every_admin_route_is_404_to_members_and_anonymous_visitors(
        client, login, logout, make_member, open_case_about, admin, ivan, sam, tom):
    case = open_case_about(sam)
    zed = make_member("zed")
    suspended = open_case_about(zed, summary="Took a deposit.")
    resolve_case(fresh(Case, suspended.id), actor=fresh(User, admin.id),
                 resolution="suspended", reason="For the test.")
    r = report(tom, ivan)
    logout()
    gets = ["/admin", "/admin/cases", "/admin/cases?state=all", "/admin/cases/new",
            "/admin/reports"]
    posts = {
        "/admin/cases/new": {"subject": "tom", "kind": "other", "summary": "Sneaky."},
        f"/admin/cases/{case.id}/evidence": {"kind": "gig", "target_id": "1"},
        f"/admin/cases/{case.id}/resolve": {"resolution": "cleared", "reason": "Sneaky."},
        f"/admin/cases/{suspended.id}/lift-suspension": {"lift-reason": "Sneaky."},
        f"/admin/reports/{r.id}/open-case": {"kind": "other", "summary": "Sneaky."},
        f"/admin/reports/{r.id}/dismiss": {"reason": "Sneaky."},
    }
    before = entries()
    for who in (None, sam, ivan, tom):
        if who is not None:
            login(who)
        for url in gets:
            assert client.get(url).status_code == 404, (who, url)
        for url, data in posts.items():
            assert client.post(url, data=data).status_code == 404, (who, url)
    assert entries() == before
    assert fresh(Case, case.id).state == CaseState.OPEN
    assert fresh(Report, r.id).state == ReportState.PENDING
    assert fresh(User, zed.id).is_suspended
    login(admin)
    for url in gets:
        page(client, url)


def test_both_open_case_forms_say_the_summary_is_published(client, login, admin, tom, sam):
    """The summary becomes the moderation log's public reason: the admin writing it is
    told so before opening the case, as the resolve form tells them of its reason."""
    report(tom, sam, body="Rude to me.")
    login(admin)
    for url in ("/admin/cases/new", "/admin/reports"):
        assert "Published in the moderation log, which every member can read" in page(
            client, url), url


def test_the_open_case_form_keeps_what_was_typed_and_says_what_is_wrong(
        client, login, admin, sam):
    login(admin)
    assert 'value="sam"' in page(client, "/admin/cases/new?subject=sam")
    form = {"subject": "nobody", "kind": "dispute_conduct",
            "summary": "Shouted at the client on a call.", "evidence_kind": "",
            "evidence_id": ""}
    problems = [
        ({}, "There is no member with that username."),
        ({"subject": "sam", "summary": ""}, "Say what the case is about."),
        ({"subject": "sam", "summary": "   "}, "The summary"),
        ({"subject": "sam", "evidence_kind": "project", "evidence_id": "9999"},
         "There is no project #9999."),
        ({"subject": "sam", "kind": "grudge"}, "Not a valid choice"),
        ({"subject": "", }, "Name the member."),
    ]
    for override, message in problems:
        data = {**form, **override}
        response = client.post("/admin/cases/new", data=data)
        text = text_of(response)
        assert response.status_code == 422, override
        assert message in text, (override, message)
        if data["subject"]:
            assert f'value="{data["subject"]}"' in text, override
        if data["summary"].strip():
            assert data["summary"] in text, override
        if data["evidence_id"]:
            assert 'value="9999"' in text
    assert (count(Case), entries()) == (0, [])

    text = follow(client, client.post("/admin/cases/new", data={**form, "subject": "@SAM"}))
    (case_id,) = case_ids()
    assert f"Case #{case_id} is open: Sam Subject and their inviter are on the hook." in text
    assert [e[:3] for e in entries()] == [("case_opened", "case", case_id)]


def test_opening_a_case_with_evidence_from_the_form(client, login, run_project, admin, sam,
                                                    tom):
    project = run_project(tom, sam)
    login(admin)
    client.post("/admin/cases/new", data={
        "subject": "sam", "kind": "other", "summary": "See the project.",
        "evidence_kind": "project", "evidence_id": str(project.id)})
    (case_id,) = case_ids()
    assert evidence_of(case_id) == [("project", project.id)]


def test_resolving_from_the_case_page(client, login, open_case_about, admin, sam):
    case = open_case_about(sam)
    url = f"/cases/{case.id}/resolve"
    login(admin)
    text = page(client, f"/cases/{case.id}")  # no money in it: no password asked
    assert "Resolve the case" in text and 'type="password"' not in text
    response = client.post(f"/admin{url}", data={"resolution": "warned", "reason": ""})
    assert response.status_code == 422 and "Write the reason." in text_of(response)
    response = client.post(f"/admin{url}", data={"reason": "Typed before choosing."})
    assert response.status_code == 422
    assert "Choose an outcome." in text_of(response)
    assert "Typed before choosing." in text_of(response)
    assert fresh(Case, case.id).state == CaseState.OPEN and len(entries()) == 1

    text = follow(client, client.post(f"/admin{url}", data={
        "resolution": "warned", "reason": "Answer the client within two days."}))
    assert f"Case #{case.id} is resolved: warned." in text
    assert "Answer the client within two days." in text and "Resolve the case" not in text
    response = client.post(f"/admin{url}", data={"resolution": "suspended",
                                                  "reason": "Changed my mind."})
    assert response.status_code == 422
    assert [e[0] for e in entries()] == ["case_opened", "case_warned"]
    assert not fresh(User, sam.id).is_suspended


def test_a_second_resolution_is_told_the_case_is_resolved_already(client, login,
                                                                  open_case_about, admin,
                                                                  other_admin, sam):
    case = open_case_about(sam)
    resolve_case(fresh(Case, case.id), actor=fresh(User, other_admin.id), resolution="cleared",
                 reason="Nothing in it.")
    login(admin)  # with the form still open in another tab
    response = client.post(f"/admin/cases/{case.id}/resolve",
                           data={"resolution": "suspended", "reason": "Everything in it."})
    assert response.status_code == 422
    assert re.search(r"already resolved|resolved a moment ago", text_of(response))


def test_linking_evidence_from_the_case_page(client, login, make_gig, open_case_about, admin,
                                             sam):
    gig = make_gig(poster=sam)
    case = open_case_about(sam)
    url = f"/admin/cases/{case.id}/evidence"
    login(admin)
    response = client.post(url, data={"kind": "gig", "target_id": "4242", "note": "Typed note"})
    assert response.status_code == 422
    assert "There is no gig #4242." in text_of(response) and "Typed note" in text_of(response)
    response = client.post(url, data={"kind": "gig", "target_id": ""})
    assert response.status_code == 422 and "Enter its number." in text_of(response)
    # a number too big for an id is the form's message, not the database's overflow
    response = client.post(url, data={"kind": "gig", "target_id": "99999999999999999999"})
    assert response.status_code == 422 and "between 1 and 2147483647" in text_of(response)
    assert "Linked." in follow(client, client.post(url, data={"kind": "gig",
                                                              "target_id": str(gig.id)}))
    response = client.post(url, data={"kind": "gig", "target_id": str(gig.id)})
    assert response.status_code == 422 and f"already links gig #{gig.id}" in text_of(response)
    assert evidence_of(case.id) == [("gig", gig.id)]


def test_lifting_a_suspension_from_the_case_page(client, login, open_case_about, admin, sam):
    case = open_case_about(sam)
    url = f"/admin/cases/{case.id}/lift-suspension"
    login(admin)
    response = client.post(url, data={"lift-reason": "Not suspended yet."})
    assert response.status_code == 422 and entries(action="suspension_lifted") == []
    client.post(f"/admin/cases/{case.id}/resolve", data={
        "resolution": "suspended", "reason": "Took the deposit."})
    text = page(client, f"/cases/{case.id}")
    assert "Sam Subject is suspended" in text and "Lift the suspension" in text
    response = client.post(url, data={"lift-reason": ""})
    assert response.status_code == 422 and "Write the reason." in text_of(response)
    text = follow(client, client.post(url, data={"lift-reason": "The deposit was returned."}))
    assert "The suspension is lifted" in text
    assert not fresh(User, sam.id).is_suspended
    assert [e[0] for e in entries()] == ["case_opened", "case_suspended", "suspension_lifted"]


def test_a_refused_lift_says_why(client, login, open_case_about, admin, sam):
    case = open_case_about(sam)
    login(admin)
    response = client.post(f"/admin/cases/{case.id}/lift-suspension",
                           data={"lift-reason": "Not suspended yet."})
    assert response.status_code == 422
    assert "Sam Subject is not suspended." in text_of(response)


def test_triaging_reports_from_the_queue(client, login, admin, sam, tom, gina):
    dismissed, taken = report(tom, sam, body="Rude to me."), report(gina, sam,
                                                                   body="Never delivered.")
    login(admin)
    text = page(client, "/admin/reports")
    assert "Rude to me." in text and "Never delivered." in text
    # blank reasons and summaries: nothing happens, the admin is told why, next to the
    # field of that report, and what was chosen stays chosen
    response = client.post(f"/admin/reports/{dismissed.id}/dismiss", data={"reason": ""})
    assert response.status_code == 422 and "Write the reason." in text_of(response)
    refused = text_of(response)  # the summary's link reaches the textarea, marked invalid
    assert f'<a href="#dismiss-{dismissed.id}">' in refused
    assert f'id="dismiss-{dismissed.id}" name="reason" rows="3" required aria-invalid="true"' \
        in refused
    response = client.post(f"/admin/reports/{taken.id}/open-case",
                           data={"kind": "other", "summary": ""})
    text = text_of(response)
    assert response.status_code == 422 and "Say what the case is about." in text
    form = text[text.index(f'action="/admin/reports/{taken.id}/open-case"'):]
    assert '<option value="other" selected>' in form[:form.index("</form>")]
    assert (entries(), count(Case)) == ([], 0)
    assert count(Report, Report.state == ReportState.PENDING) == 2

    text = follow(client, client.post(f"/admin/reports/{dismissed.id}/dismiss",
                                      data={"reason": "A bad day, not a breach."}))
    assert "The report is dismissed; the reporter is told." in text
    assert "Rude to me." not in text and "Never delivered." in text
    response = client.post(f"/admin/reports/{taken.id}/open-case",
                           data={"kind": "member_report", "summary": "Never delivered."})
    (case_id,) = case_ids()
    assert response.headers["Location"].endswith(f"/cases/{case_id}")
    assert f"Case #{case_id} is open." in follow(client, response)
    # handled already: said so, nothing more recorded
    response = client.post(f"/admin/reports/{dismissed.id}/dismiss", data={"reason": "Twice."})
    assert response.status_code == 422 and "handled a moment ago" in text_of(response)
    assert "Twice." in text_of(response)  # what was typed is still there
    assert [e[0] for e in entries()] == ["report_dismissed", "case_opened"]
    assert client.post("/admin/reports/99999/dismiss", data={"reason": "x"}).status_code == 404


def walk(client, url: str, pattern: str) -> list[int]:
    """Every row id over all pages, following the "Older" links."""
    seen, pages = [], 0
    while url:
        text = page(client, url)
        seen += [int(i) for i in re.findall(pattern, text)]
        older = re.search(r'href="([^"]+)">Older', text)
        url = html.unescape(older.group(1)) if older else None
        pages += 1
        assert pages < 20
    return seen


@pytest.fixture
def small_pages(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)


def test_the_case_queue_paginates_newest_first(client, login, small_pages, make_member,
                                               open_case_about, admin):
    subjects = [make_member(f"subject{n}") for n in range(5)]
    ids = [open_case_about(s).id for s in subjects]
    for case_id in ids[:2]:
        resolve_case(fresh(Case, case_id), actor=fresh(User, admin.id), resolution="cleared",
                     reason="Fine.")
    login(admin)
    pattern = r'id="case-(\d+)"'
    assert walk(client, "/admin/cases?state=all", pattern) == ids[::-1]
    assert walk(client, "/admin/cases", pattern) == ids[2:][::-1]  # open by default
    assert walk(client, "/admin/cases?state=resolved", pattern) == ids[:2][::-1]


def test_the_report_queue_paginates_newest_first(client, login, small_pages, make_member,
                                                 admin, tom):
    ids = [report(tom, make_member(f"subject{n}")).id for n in range(5)]
    login(admin)
    assert walk(client, "/admin/reports", r'id="report-(\d+)"') == ids[::-1]
