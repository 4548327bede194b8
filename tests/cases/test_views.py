"""The case page and "report this member": 404 to whoever may not see them, forms that
keep what was typed and say what is wrong (422). The admin's queues and actions are
tested in tests/admin."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.cases.models import Report
from offload.cases.reports import report_member
from offload.core.db import db
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


def report_ids() -> list[int]:
    db.session.rollback()
    return list(db.session.scalars(select(Report.id).order_by(Report.id)))


def report(reporter, subject, body="Asked me to pay outside Offload.", project_id=None):
    return report_member(actor=fresh(User, reporter.id), subject=fresh(User, subject.id),
                         body=body, project_id=project_id)


# --- who may see what --------------------------------------------------------------------


def test_the_case_page_is_for_the_subject_the_inviter_and_admins(
        client, login, logout, run_project, open_case_about, admin, gramps, ivan, sam, gina,
        tom):
    project = run_project(tom, sam)
    case = open_case_about(sam, summary="Left the client without a word.",
                           evidence=[("project", project.id)])
    url = f"/cases/{case.id}"
    assert client.get(url).status_code == 404  # anonymous
    for member in (gramps, gina, tom):  # not the inviter's inviter, not sam's invitee
        login(member)
        assert client.get(url).status_code == 404, member.username
    for member in (sam, ivan):
        login(member)
        text = page(client, url)
        assert "Left the client without a word." in text and f"Project #{project.id}" in text
        assert "Resolve the case" not in text and "Link it" not in text
        assert f'href="/projects/{project.id}"' not in text  # evidence links are for admins
    login(admin)
    text = page(client, url)
    assert "Resolve the case" in text and f'href="/projects/{project.id}"' in text
    assert client.get("/cases/99999").status_code == 404


# --- reports -----------------------------------------------------------------------------

def test_the_report_form_keeps_what_was_typed_and_says_what_is_wrong(
        client, login, make_member, run_project, sam, tom, gina):
    shared = run_project(tom, sam)
    elsewhere = run_project(gina, make_member("zed"))
    url = "/members/sam/report"
    assert client.get(url).status_code == 302  # anonymous: log in first
    login(tom)
    assert f"project #{shared.id}" in page(client, f"{url}?project={shared.id}")
    assert client.get("/members/nobody/report").status_code == 404
    response = client.post(url, data={"body": ""})
    assert response.status_code == 422 and "Say what happened." in text_of(response)
    response = client.post(url, data={"body": "It was rude.", "project": str(elsewhere.id)})
    assert response.status_code == 422 and "It was rude." in text_of(response)
    response = client.post("/members/tom/report", data={"body": "Me, myself."})
    assert response.status_code == 422 and "You can&#39;t report yourself." in text_of(response)
    assert count(Report) == 0

    text = follow(client, client.post(url, data={"body": "Asked to be paid outside.",
                                                 "project": str(shared.id)}))
    assert "Thank you: the admins will look at your report about Sam Subject." in text
    (report_id,) = report_ids()
    r = fresh(Report, report_id)
    assert (r.reporter_id, r.subject_id, r.project_id, r.body) == (
        tom.id, sam.id, shared.id, "Asked to be paid outside.")
    response = client.post(url, data={"body": "And again, louder."})
    assert response.status_code == 422
    assert "reported Sam Subject already" in text_of(response)
    assert "And again, louder." in text_of(response)
    assert count(Report) == 1


def test_a_report_about_a_project_not_shared_says_so(client, login, make_member, run_project,
                                                     sam, tom, gina):
    elsewhere = run_project(gina, make_member("zed"))
    login(tom)
    response = client.post("/members/sam/report",
                           data={"body": "It was rude.", "project": str(elsewhere.id)})
    assert response.status_code == 422
    text = text_of(response)
    assert "That project isn&#39;t one the two of you share" in text
    assert 'name="project"' not in text and "It was rude." in text  # dropped; text kept
    assert count(Report) == 0
    response = client.post("/members/sam/report", data={"body": "It was rude."})
    assert response.status_code == 302 and count(Report) == 1  # not stuck on the project


def test_an_unconfirmed_member_is_sent_to_confirm_before_reporting(client, login,
                                                                   make_member, sam):
    login(make_member("shy", confirmed=False))
    response = client.post("/members/sam/report", data={"body": "Something happened."})
    assert response.status_code == 302 and "/settings" in response.headers["Location"]
    assert count(Report) == 0


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", ""])
def test_a_report_link_with_a_project_that_is_no_id_opens_the_plain_form(
        client, login, sam, tom, raw):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows: a 500."""
    login(tom)
    text = page(client, "/members/sam/report?" + urlencode({"project": raw}))
    assert "project #" not in text and 'name="body"' in text
