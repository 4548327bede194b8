"""The gig writes of the API: posting, editing, cancelling, asking and answering, each
through the page's service and authorized as its page (another member's gig to edit is
a 404), refusals as problems naming the body's fields."""

from __future__ import annotations

from datetime import timedelta

import pytest

from offload.core.db import db, utcnow
from offload.gigs.models import Gig, GigState
from offload.gigs.services import ask_question
from tests.support.api import call, problem_fields, problem_type


def _deadline(days: int = 30) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


def _gig_body(**changes) -> dict:
    body = {"kind": "referral", "title": "Port a shop to Flask",
            "description": "Move the **shop**.", "skills": ["Python", "Flask"],
            "category": "web", "budget_min_minor": 400_00, "budget_max_minor": 600_00,
            "deadline": _deadline(), "client_name": "Acme", "client_contact": "cto@acme.example"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def writer(poster, bearer):
    return bearer(poster, "read", "offers")


def test_posting_a_gig_puts_it_on_the_board(client, poster, writer):
    response = call(client, "POST", "/gigs", writer, 201, json=_gig_body())
    body = response.get_json()
    assert response.headers["Location"] == f"/api/v1/gigs/{body['id']}"
    assert body["state"] == "open" and body["published_at"]
    assert body["title"] == "Port a shop to Flask" and body["kind"] == "referral"
    assert [s["name"] for s in body["skills"]] == ["Flask", "Python"]
    assert (body["budget_min_minor"], body["budget_max_minor"]) == (400_00, 600_00)
    assert body["client_details"] == {"client_name": "Acme", "contact": "cto@acme.example",
                                      "notes": ""}
    assert call(client, "GET", f"/gigs/{body['id']}", writer).get_json() == body
    # a task without a highest budget: a fixed one, as the form's empty field
    task = call(client, "POST", "/gigs", writer, 201, json=_gig_body(
        kind="task", budget_max_minor=None, client_name=None, client_contact=None)).get_json()
    assert task["budget_max_minor"] == task["budget_min_minor"] == 400_00
    assert task["client_details"] is None


def test_a_gig_the_rules_refuse_is_a_422_naming_the_fields(client, writer):
    missing = call(client, "POST", "/gigs", writer, 422, json={"title": "Only a title"})
    assert {("body", name) for name in ("kind", "description", "skills", "category",
                                        "budget_min_minor", "deadline")} <= problem_fields(missing)
    cases = [({"budget_min_minor": 700_00}, "budget_max_minor", "can't be below the lowest"),
             ({"budget_min_minor": 0}, "budget_min_minor", "more than zero"),
             ({"deadline": _deadline(0)}, "deadline", "after today"),
             ({"title": "x" * 141}, "title", "at most 140"),
             ({"skills": []}, "skills", "List 1 to 10"),
             ({"client_name": None, "client_contact": None}, "client_name", "client's name"),
             ({"kind": "task"}, "client_name", "only for referral gigs")]
    for change, field, message in cases:
        refused = call(client, "POST", "/gigs", writer, 422, json=_gig_body(**change))
        assert problem_type(refused) == "invalid-field", change
        assert problem_fields(refused) == {("body", field)}, change
        assert message in refused.get_json()["detail"], change
    # a field the form doesn't have is not bound
    stray = call(client, "POST", "/gigs", writer, 422, json=_gig_body(state="awarded"))
    assert problem_fields(stray) == {("body", "state")}
    assert db.session.query(Gig).count() == 0


def test_posting_needs_the_offers_scope_and_a_confirmed_member(client, make_member, poster,
                                                                bearer):
    response = call(client, "POST", "/gigs", bearer(poster, "read"), 403, json=_gig_body())
    assert problem_type(response) == "forbidden"
    assert "offers" in response.get_json()["detail"]
    newbie = make_member("newbie", confirmed=False)
    response = call(client, "POST", "/gigs", bearer(newbie, "offers"), 403, json=_gig_body())
    assert problem_type(response) == "not-allowed"
    assert db.session.query(Gig).count() == 0


def test_editing_changes_the_fields_given_and_keeps_the_rest(client, poster, writer,
                                                             make_gig):
    gig = make_gig(poster=poster, title="Old title", skill_names=["Go"])
    body = call(client, "PATCH", f"/gigs/{gig.id}", writer,
                json={"title": "New title", "client_notes": "Calls only"}).get_json()
    assert body["title"] == "New title"
    assert [s["name"] for s in body["skills"]] == ["Go"]
    assert (body["budget_min_minor"], body["budget_max_minor"]) == (500_00, 1_000_00)
    assert body["client_details"] == {"client_name": "Acme Ltd",
                                      "contact": "cto@acme.example", "notes": "Calls only"}
    refused = call(client, "PATCH", f"/gigs/{gig.id}", writer, 422,
                   json={"budget_min_minor": 2_000_00})
    assert problem_fields(refused) == {("body", "budget_max_minor")}
    assert call(client, "GET", f"/gigs/{gig.id}", writer).get_json()["budget_min_minor"] == 500_00


def test_only_the_poster_edits_others_get_the_pages_404(client, make_member, poster, make_gig,
                                                        bearer):
    gig = make_gig(poster=poster)
    for other in (make_member("other"), make_member("root", admin=True)):
        response = call(client, "PATCH", f"/gigs/{gig.id}", bearer(other, "offers"), 404,
                        json={"title": "Mine now"})
        assert problem_type(response) == "not-found"
    # the gig loads before the body is read: a bad body is still a 404 to them
    call(client, "PATCH", f"/gigs/{gig.id}", bearer(make_member("third"), "offers"), 404,
         json={"title": 5})
    assert db.session.get(Gig, gig.id).title != "Mine now"


def test_cancelling_takes_the_gig_off_the_board(client, make_member, poster, writer, make_gig,
                                                bearer):
    gig = make_gig(poster=poster)
    call(client, "POST", f"/gigs/{gig.id}/cancel", bearer(make_member("other"), "offers"), 404,
         json={})
    body = call(client, "POST", f"/gigs/{gig.id}/cancel", writer,
                json={"reason": "The client found someone"}).get_json()
    assert (body["state"], body["cancel_reason"]) == ("cancelled", "The client found someone")
    again = call(client, "POST", f"/gigs/{gig.id}/cancel", writer, 409, json={})
    assert problem_type(again) == "conflict"


def test_an_admin_cancels_another_members_gig_with_a_reason(client, make_member, poster,
                                                            make_gig, bearer):
    gig = make_gig(poster=poster)
    admin = bearer(make_member("root", admin=True), "offers")
    refused = call(client, "POST", f"/gigs/{gig.id}/cancel", admin, 422, json={})
    assert problem_fields(refused) == {("body", "reason")}
    body = call(client, "POST", f"/gigs/{gig.id}/cancel", admin,
                json={"reason": "Spam"}).get_json()
    assert (body["state"], body["cancel_reason"]) == ("cancelled", "Spam")


def test_asking_and_answering_a_question(client, make_member, poster, writer, make_gig,
                                         bearer):
    gig = make_gig(poster=poster)
    asker = bearer(make_member("asker"), "read", "offers")
    response = call(client, "POST", f"/gigs/{gig.id}/questions", asker, 201,
                    json={"body": "Is there a staging server?"})
    question = response.get_json()
    assert response.headers["Location"] == f"/api/v1/gigs/{gig.id}"
    assert question["body"] == "Is there a staging server?" and question["answer"] is None
    assert question["asker"]["username"] == "asker"
    url = f"/gigs/{gig.id}/questions/{question['id']}/answer"
    refused = call(client, "POST", url, asker, 403, json={"answer": "Yes"})
    assert problem_type(refused) == "not-allowed"
    answered = call(client, "POST", url, writer, json={"answer": "Yes, a small one."}).get_json()
    assert answered["answer"] == "Yes, a small one." and answered["answered_at"]
    assert problem_type(call(client, "POST", url, writer, 409, json={"answer": "Again"})) == (
        "conflict")
    shown = call(client, "GET", f"/gigs/{gig.id}", asker).get_json()["questions"]
    assert [(q["body"], q["answer"]) for q in shown] == [
        ("Is there a staging server?", "Yes, a small one.")]


def test_question_refusals(client, make_member, poster, writer, make_gig, bearer):
    gig = make_gig(poster=poster)
    draft = make_gig(poster=poster, publish=False)
    other = make_member("other")
    asker = bearer(other, "offers")
    empty = call(client, "POST", f"/gigs/{gig.id}/questions", asker, 422, json={"body": " "})
    assert problem_fields(empty) == {("body", "body")}
    own = call(client, "POST", f"/gigs/{gig.id}/questions", writer, 403, json={"body": "Hm?"})
    assert problem_type(own) == "not-allowed"
    call(client, "POST", f"/gigs/{draft.id}/questions", asker, 404, json={"body": "Hm?"})
    # a question of another gig is not found under this one
    elsewhere = ask_question(make_gig(poster=poster), actor=other, body="Which database?")
    call(client, "POST", f"/gigs/{gig.id}/questions/{elsewhere.id}/answer", writer, 404,
         json={"answer": "Postgres"})
    call(client, "POST", f"/gigs/{gig.id}/questions", bearer(other, "read"), 403,
         json={"body": "Hm?"})
    assert db.session.get(Gig, draft.id).state == GigState.DRAFT
