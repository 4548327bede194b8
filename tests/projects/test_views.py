"""The project pages: private to the parties and admins, the timeline form, My projects."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from offload.core.db import db, utcnow
from offload.projects.models import Project, ProjectEvent
from offload.projects.services import post_project_event


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_the_project_is_404_to_anyone_but_its_parties_and_admins(
        client, login, start_project, referrer, performer, make_member):
    project = start_project()
    assert client.get(f"/projects/{project.id}").status_code == 404  # anonymous too
    assert client.post(f"/projects/{project.id}/events").status_code == 404
    login(make_member("nosy"))
    assert client.get(f"/projects/{project.id}").status_code == 404
    assert client.post(f"/projects/{project.id}/events",
                       data={"event-kind": "update", "event-note": "Hi"}).status_code == 404
    assert client.get("/projects/999999").status_code == 404
    for member in (referrer, performer, make_member("boss", admin=True)):
        login(member)
        assert "Timeline" in page(client, f"/projects/{project.id}")


def test_the_performer_sees_the_referrals_client_on_the_project(client, login, start_project,
                                                                performer):
    project = start_project()
    login(performer)
    text = page(client, f"/projects/{project.id}")
    assert "Acme Ltd" in text and "cto@acme.example" in text


def test_posting_on_the_timeline(client, login, start_project, performer):
    project = start_project()
    login(performer)
    response = client.post(f"/projects/{project.id}/events",
                           data={"event-kind": "update", "event-note": ""})
    assert response.status_code == 422 and "Write a note" in response.get_data(as_text=True)
    response = client.post(f"/projects/{project.id}/events",
                           data={"event-kind": "issue_raised", "event-note": "API is down"})
    assert response.status_code == 302
    text = page(client, f"/projects/{project.id}")
    assert "Issue raised" in text and "API is down" in text
    assert text.index("Issue raised") < text.index("Accepted")  # newest first


def test_the_timeline_pages_newest_first(app, client, login, start_project, performer,
                                         monkeypatch):
    project = start_project()
    for n in range(5):
        post_project_event(db.session.get(Project, project.id), actor=performer,
                           kind="update", note=f"Update number {n}")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    login(performer)
    seen, url = [], f"/projects/{project.id}"
    while url:
        text = page(client, url)
        seen += [line for line in ("Accepted", "Awarded") if f"<strong>{line}</strong>" in text]
        seen += [f"Update number {n}" for n in range(5) if f"Update number {n}<" in text]
        marker = text.find('">Older')
        url = None
        if marker != -1:
            start = text.rfind('href="', 0, marker) + 6
            url = text[start:marker].replace("&amp;", "&").split("#")[0]
    assert sorted(seen) == sorted(["Accepted", "Awarded"]
                                  + [f"Update number {n}" for n in range(5)])
    assert len(seen) == 7


def test_my_projects_lists_both_roles_with_stalling_ones_first(client, login, start_project,
                                                              referrer, performer):
    quiet = start_project(title="Quiet one")
    start_project(title="Busy one")
    db.session.execute(update(Project).where(Project.id == quiet.id).values(
        last_event_at=utcnow() - timedelta(days=10)))
    db.session.commit()
    for member in (referrer, performer):
        login(member)
        text = page(client, "/my/projects")
        assert "Busy one" in text and "Quiet one" in text
        assert text.index("Stalling: no news") < text.index("Quiet one") < text.index(
            "Busy one")
    assert "Stalling" in page(client, f"/projects/{quiet.id}")
    assert client.get("/my/projects?state=bogus").status_code == 422
    assert "No projects in the state" in page(client, "/my/projects?state=completed")


def test_the_project_page_runs_the_same_queries_whatever_the_timeline(
        client, login, start_project, performer, count_queries):
    project = start_project()

    def add(n):
        db.session.add_all(ProjectEvent(project_id=project.id, kind="update",
                                        actor_id=performer.id, note=f"n{i}") for i in range(n))
        db.session.commit()

    add(5)
    login(performer)
    with count_queries() as before:
        page(client, f"/projects/{project.id}")
    add(200)
    with count_queries() as after:
        page(client, f"/projects/{project.id}")
    assert len(after) == len(before)


def _key(text: str, prefix: str) -> str:
    import re

    return re.search(rf'name="{prefix}-idempotency_key" type="hidden" value="([^"]+)"',
                     text).group(1)


def test_the_performer_completes_and_pays_the_commission_from_the_page(
        client, login, start_project, referrer, performer, fund):
    from offload.commissions.models import Commission

    project = start_project()
    fund(performer, 10_00)
    login(referrer)
    assert "Mark the work complete" not in page(client, f"/projects/{project.id}")
    login(performer)
    text = page(client, f"/projects/{project.id}")
    assert "Mark the work complete" in text and "you have $10.00 available" in text
    response = client.post(f"/projects/{project.id}/complete", data={
        "complete-idempotency_key": _key(text, "complete"), "complete-invoiced": "12.555"})
    assert response.status_code == 422
    assert "Use at most two decimals" in response.get_data(as_text=True)
    response = client.post(f"/projects/{project.id}/complete", data={
        "complete-idempotency_key": _key(text, "complete"), "complete-invoiced": "2000"})
    assert response.status_code == 302
    text = page(client, f"/projects/{project.id}")
    assert "Due by" in text and "Pay $200.00 now" in text and "Add funds" in text
    response = client.post(f"/projects/{project.id}/commission/pay",
                           data={"pay-idempotency_key": _key(text, "pay")})
    assert response.status_code == 422
    assert "cover the $200.00 commission" in response.get_data(as_text=True)
    fund(performer, 190_00)
    text = page(client, f"/projects/{project.id}")
    client.post(f"/projects/{project.id}/commission/pay",
                data={"pay-idempotency_key": _key(text, "pay")})
    db.session.rollback()
    assert db.session.scalar(db.select(Commission.state)) == "paid"
    login(referrer)
    text = page(client, f"/projects/{project.id}")
    assert "Invoiced $2,000.00; commission $200.00: $60.00 platform, $140.00 referrer." in text
    assert "Paid" in text and "Pay $200.00 now" not in text


def test_a_task_project_pays_through_milestones_on_the_page(client, login, start_project,
                                                            referrer, performer, fund):
    from offload.milestones.models import Milestone
    from offload.wallet.queries import wallet_summary  # reads only: no write lock held

    fund(performer, 1_00)
    fund(referrer, 400_00)
    project = start_project(kind="task")  # at $400
    login(referrer)
    response = client.post(f"/projects/{project.id}/milestones", data={
        "milestone-title": "Exports", "milestone-amount": "abc",
        "milestone-due_on": (utcnow().date() + timedelta(days=3)).isoformat()})
    assert response.status_code == 422 and "Exports" in response.get_data(as_text=True)
    client.post(f"/projects/{project.id}/milestones", data={
        "milestone-title": "Exports", "milestone-amount": "400",
        "milestone-due_on": (utcnow().date() + timedelta(days=3)).isoformat()})
    milestone = db.session.scalar(db.select(Milestone))
    text = page(client, f"/projects/{project.id}")
    client.post(f"/milestones/{milestone.id}/fund",
                data={f"fund-{milestone.id}-idempotency_key": _key(text, f"fund-{milestone.id}")})
    db.session.rollback()
    assert wallet_summary(referrer.id).held == 400_00
    login(performer)
    assert "Release" not in page(client, f"/projects/{project.id}")
    client.post(f"/milestones/{milestone.id}/deliver",
                data={f"deliver-{milestone.id}-note": "On staging"})
    login(referrer)
    text = page(client, f"/projects/{project.id}")
    assert "Delivered:</strong> On staging" in text and "Ask for a revision" in text
    client.post(f"/milestones/{milestone.id}/release")
    db.session.rollback()
    assert wallet_summary(performer.id).total == 400_00
    assert "The agreed price, $400.00, is paid in full." in page(client, f"/projects/{project.id}")


def test_a_dispute_from_the_project_page_to_an_admins_split(client, login, start_project,
                                                            referrer, performer, fund,
                                                            make_member):
    from offload.milestones import services as ms
    from offload.milestones.models import Dispute
    from offload.wallet.queries import wallet_summary
    from tests.support.factories import PASSWORD

    fund(performer, 1_00)
    fund(referrer, 300_00)
    project = start_project(kind="task")
    milestone = ms.add_milestone(project, actor=referrer, title="Exports", amount_minor=100_00,
                                 due_on=utcnow().date() + timedelta(days=3))
    ms.fund_milestone(milestone, actor=referrer, idempotency_key="view-fund")
    login(performer)
    response = client.post(f"/milestones/{milestone.id}/dispute",
                           data={f"dispute-{milestone.id}-statement": ""})
    assert response.status_code == 422
    client.post(f"/milestones/{milestone.id}/dispute",
                data={f"dispute-{milestone.id}-statement": "The customer went silent"})
    dispute = db.session.scalar(db.select(Dispute))
    assert "Dispute open" in page(client, f"/projects/{project.id}")
    assert client.get(f"/admin/disputes/{dispute.id}").status_code == 404
    login(make_member("judge", admin=True))
    assert f'href="/admin/disputes/{dispute.id}"' in page(client, "/admin/disputes")
    text = page(client, f"/admin/disputes/{dispute.id}")
    assert "The customer went silent" in text and "The whole timeline" in text
    response = client.post(f"/admin/disputes/{dispute.id}", data={
        "outcome": "split", "released": "60", "reason": "Half done", "password": "nope"})
    assert response.status_code == 422 and "password is not correct" in response.get_data(
        as_text=True)
    client.post(f"/admin/disputes/{dispute.id}", data={
        "outcome": "split", "released": "60", "reason": "Half done", "password": PASSWORD})
    db.session.rollback()
    assert wallet_summary(performer.id).total == 60_00
    login(referrer)
    assert "Reason: Half done" in page(client, f"/projects/{project.id}")


def test_the_project_conversation_continues_the_offers_and_is_live(client, login, start_project,
                                                                    referrer, performer,
                                                                    make_member):
    project = start_project()
    login(performer)
    response = client.post(f"/projects/{project.id}/messages", data={"message-body": ""})
    assert response.status_code == 422 and "Write a message." in response.get_data(as_text=True)
    assert 'id="refused"' not in response.get_data(as_text=True)  # said once, by the form
    client.post(f"/projects/{project.id}/messages", data={"message-body": "Starting Monday"})
    text = page(client, f"/projects/{project.id}")
    assert "Starting Monday" in text and "data-live-messages=" in text
    assert "live-messages.js" in text
    login(referrer)
    data = client.get(f"/conversations/{project.offer_id}/messages/since?after=0").get_json()
    assert [m["html"].count("Starting Monday") for m in data["messages"]] == [1]
    newest = data["messages"][-1]["id"]
    assert client.get(f"/conversations/{project.offer_id}/messages/since?after={newest}"
                      ).get_json() == {"messages": []}
    assert "Starting Monday" in page(client, f"/offers/{project.offer_id}")
    login(make_member("nosy"))
    since = f"/conversations/{project.offer_id}/messages/since?after=0"
    assert client.get(since).status_code == 404
    assert client.post(f"/projects/{project.id}/messages",
                       data={"message-body": "Hi"}).status_code == 404


@pytest.mark.parametrize("kind", ["referral", "task"])
def test_every_viewer_sees_the_page_in_every_ending(client, login, start_project, referrer,
                                                   performer, fund, make_member, kind):
    from sqlalchemy import update as sql_update

    from offload.milestones import services as ms

    fund(performer, 300_00)
    fund(referrer, 300_00)
    project = start_project(kind=kind)
    if kind == "task":
        m = ms.add_milestone(project, actor=referrer, title="Part", amount_minor=50_00,
                             due_on=utcnow().date() + timedelta(days=3))
        ms.fund_milestone(m, actor=referrer, idempotency_key="ending-fund")
        db.session.execute(sql_update(Project).where(Project.id == project.id).values(
            due_on=utcnow().date() - timedelta(days=1)))
        db.session.commit()
        ms.cancel_task_project(db.session.get(Project, project.id), actor=referrer)
    else:
        from offload.commissions.services import complete_referral

        complete_referral(project, actor=performer, invoiced_minor=1_000_00,
                          idempotency_key="ending-complete")
    for member in (referrer, performer, make_member("boss", admin=True)):
        login(member)
        text = page(client, f"/projects/{project.id}")
        assert ("Cancelled" if kind == "task" else "Completed") in text
