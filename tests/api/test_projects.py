"""Projects over the API: My projects, one project, its timeline as a polled feed,
posting on it, and a referral's completion and commission, each authorized as the
project page is (another member's project is a 404, whatever the body), with the
scopes and the Idempotency-Key of money."""

from __future__ import annotations

from sqlalchemy import func, select

from offload.commissions.models import Commission
from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import Transfer
from offload.ledger.services import wallet_account
from offload.notifications.models import Notification
from tests.support.api import call, refused, with_key
from tests.support.factories import new_key


def test_my_projects_are_the_performers_and_the_referrers(client, make_member,
                                                          start_project, referrer,
                                                          performer, bearer):
    first, second = start_project(), start_project()
    outsider = make_member("outsider")
    for member in (performer, referrer):
        body = call(client, "GET", "/projects?limit=1", bearer(member)).get_json()
        assert [p["id"] for p in body["items"]] == [second.id]
        assert body["items"][0]["poster"]["username"] == "referrer"
        assert body["items"][0]["performer"]["name"] == "Pete Performer"
        assert body["items"][0]["html_url"] == f"https://offload.example/projects/{second.id}"
        rest = client.get(body["next"].removeprefix("https://offload.example"),
                          headers=bearer(member)).get_json()
        assert [p["id"] for p in rest["items"]] == [first.id] and rest["next"] is None
    assert call(client, "GET", "/projects", bearer(outsider)).get_json()["items"] == []


def test_one_project_as_the_top_of_its_page(client, make_member, start_project, referrer,
                                            performer, bearer):
    project = start_project()
    body = call(client, "GET", f"/projects/{project.id}", bearer(referrer)).get_json()
    assert body["kind"] == "referral" and body["state"] == "active"
    assert body["performer"] == {"id": performer.id, "username": "performer",
                                 "name": "Pete Performer"}
    assert body["gig"]["commission_bps"] == 1000 and body["offer"]["price_minor"] == 400_00
    assert body["milestones"] == [] and body["commission"] is None
    admin = make_member("root", admin=True)
    assert call(client, "GET", f"/projects/{project.id}", bearer(admin)).get_json()["id"] \
        == project.id
    refused(client, "GET", f"/projects/{project.id}", bearer(make_member("outsider")), 404,
            "not-found")
    refused(client, "GET", "/projects/999999", bearer(referrer), 404, "not-found")


def test_the_timeline_is_a_feed_a_script_polls(client, start_project, referrer, performer,
                                               bearer):
    project = start_project()
    headers = bearer(performer, "read", "projects")
    body = call(client, "GET", f"/projects/{project.id}/timeline", headers).get_json()
    assert [e["kind"] for e in body["items"]] == ["awarded", "accepted"]
    assert body["items"][0]["actor_name"] == "Rita Referrer"
    polled = client.get(body["next"].removeprefix("https://offload.example"), headers=headers)
    assert polled.get_json()["items"] == []
    assert polled.get_json()["next"] == body["next"]  # nothing new: poll the same again
    posted = call(client, "POST", f"/projects/{project.id}/events", headers, 201,
                  json={"kind": "client_contacted", "note": "Called the client."})
    event = posted.get_json()
    assert event["kind"] == "client_contacted" and event["actor_id"] == performer.id
    news = client.get(posted.headers["Location"].removeprefix("https://offload.example"),
                      headers=headers).get_json()
    assert [e["id"] for e in news["items"]] == [event["id"]]
    assert [e["id"] for e in client.get(
        body["next"].removeprefix("https://offload.example"),
        headers=headers).get_json()["items"]] == [event["id"]]
    paged = call(client, "GET", f"/projects/{project.id}/timeline?limit=2",
                 headers).get_json()
    assert len(paged["items"]) == 2 and paged["next"].endswith(
        f"since={paged['items'][1]['id']}")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == referrer.id, Notification.kind == "project_event")) == 1


def test_posting_on_a_timeline_is_refused_as_the_page_refuses(client, make_member,
                                                              start_project, referrer,
                                                              bearer):
    project = start_project()
    url = f"/projects/{project.id}/events"
    # another member's project is a 404 before its body is read
    refused(client, "POST", url, bearer(make_member("outsider"), "projects"), 404,
            "not-found", json={})
    refused(client, "POST", url, bearer(referrer, "read"), 403, "forbidden",
            json={"kind": "update", "note": "Hi"})
    body = refused(client, "POST", url, bearer(referrer, "projects"), 422,
                   "validation-failed", json={"kind": "completed", "note": "Hi"})
    assert body["errors"][0]["field"] == "kind"
    admin = make_member("root", admin=True)
    refused(client, "POST", url, bearer(admin, "projects"), 403, "not-allowed",
            json={"kind": "update", "note": "An admin's word"})
    # a NUL byte, which PostgreSQL can't store, is refused as the forms refuse it
    body = refused(client, "POST", url, bearer(referrer, "projects"), 422,
                   "validation-failed", json={"kind": "update", "note": "Hi\x00there"})
    assert [(e["in"], e["field"]) for e in body["errors"]] == [("body", "note")]
    assert "control characters" in body["errors"][0]["message"]


def _complete(client, project, headers, key, **body):
    return client.post(f"/api/v1/projects/{project.id}/complete",
                       headers=with_key(headers, key),
                       json={"invoiced_minor": 400_00, **body})


def _moved() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Transfer))


def test_completing_a_referral_pays_its_commission_once_per_key(client, start_project,
                                                                referrer, performer, fund,
                                                                bearer):
    project = start_project()
    fund(performer, 100_00)
    headers, key = bearer(performer, "wallet"), new_key("api-complete")
    before = _moved()
    first = _complete(client, project, headers, key)
    assert first.status_code == 201, first.get_json()
    assert first.headers["Location"] == f"https://offload.example/api/v1/projects/{project.id}"
    commission = first.get_json()
    assert commission["state"] == "paid" and commission["commission_minor"] == 40_00
    assert commission["referrer_minor"] == 28_00 and commission["review_state"] == "none"
    moved = _moved()
    assert moved > before
    again = _complete(client, project, headers, key)
    assert again.status_code == 201 and again.get_json() == commission
    assert _moved() == moved
    reused = _complete(client, project, headers, key, invoiced_minor=500_00)
    assert reused.status_code == 422
    assert reused.get_json()["type"] == "urn:offload:problem:key-reused"
    assert _moved() == moved
    assert wallet_account(referrer.id).available == 28_00
    assert wallet_account(performer.id).available == 60_00
    detail = call(client, "GET", f"/projects/{project.id}", bearer(referrer)).get_json()
    assert detail["state"] == "completed" and detail["commission"] == commission
    assert run_checks(MONEY_CHECKS) == []


def test_completion_is_refused_as_the_page_refuses(client, make_member, start_project,
                                                   referrer, performer, bearer):
    project = start_project()
    refused(client, "POST", f"/projects/{project.id}/complete",
            bearer(make_member("outsider"), "wallet"), 404, "not-found", json={})
    body = _complete(client, project, bearer(performer, "read", "projects"), new_key())
    assert body.status_code == 403
    missing = client.post(f"/api/v1/projects/{project.id}/complete",
                          headers=bearer(performer, "wallet"), json={"invoiced_minor": 1})
    assert missing.status_code == 422
    assert missing.get_json()["errors"][0]["field"] == "Idempotency-Key"
    by_referrer = _complete(client, project, bearer(referrer, "wallet"), new_key())
    assert by_referrer.status_code == 403
    assert by_referrer.get_json()["type"] == "urn:offload:problem:not-allowed"
    under = _complete(client, project, bearer(performer, "wallet"), new_key(),
                      invoiced_minor=300_00)
    assert under.status_code == 422 and under.get_json()["errors"][0]["field"] == "reason"
    assert db.session.scalar(select(func.count()).select_from(Commission)) == 0


def test_a_due_commission_is_paid_once_per_key(client, start_project, performer, fund,
                                               bearer):
    project = start_project()
    headers = bearer(performer, "wallet")
    due = _complete(client, project, headers, new_key()).get_json()
    assert due["state"] == "due"
    url = f"/commissions/{due['id']}/pay"
    refused(client, "POST", url, with_key(headers, new_key()), 422, "commission-not-covered")
    fund(performer, 100_00)
    key = new_key("api-pay")
    paid = call(client, "POST", url, with_key(headers, key)).get_json()
    assert paid["state"] == "paid" and paid["paid_at"]
    moved = _moved()
    assert call(client, "POST", url, with_key(headers, key)).get_json() == paid
    assert _moved() == moved
    refused(client, "POST", url, with_key(headers, new_key()), 409, "conflict")
    assert wallet_account(performer.id).available == 60_00


def test_the_referrer_reviews_an_amount_under_the_price(client, make_member, start_project,
                                                        referrer, performer, bearer):
    accepted, contested = start_project(), start_project()
    ids = []
    for project in (accepted, contested):
        ids.append(_complete(client, project, bearer(performer, "wallet"), new_key(),
                             invoiced_minor=300_00, reason="The client cut the scope.")
                   .get_json()["id"])
    assert call(client, "GET", f"/projects/{accepted.id}",
                bearer(referrer)).get_json()["commission"]["review_state"] == "awaiting"
    refused(client, "POST", f"/commissions/{ids[0]}/accept-invoice",
            bearer(make_member("outsider"), "projects"), 404, "not-found")
    refused(client, "POST", f"/commissions/{ids[0]}/accept-invoice",
            bearer(performer, "projects"), 403, "not-allowed")
    body = call(client, "POST", f"/commissions/{ids[0]}/accept-invoice",
                bearer(referrer, "projects")).get_json()
    assert body["review_state"] == "accepted"
    refused(client, "POST", f"/commissions/{ids[0]}/accept-invoice",
            bearer(referrer, "projects"), 409, "conflict")
    body = call(client, "POST", f"/commissions/{ids[1]}/contest-invoice",
                bearer(referrer, "projects"),
                json={"statement": "The scope was not cut."}).get_json()
    assert body["review_state"] == "contested"
