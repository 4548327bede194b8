"""Conversations over the API: the inbox with unread counts, an offer's messages as a
feed polled with since, and sending one, authorized as the offer and project pages are
(a conversation is an offer's, named by its id)."""

from __future__ import annotations

from offload.conversations.services import send_offer_message
from offload.core.db import db
from offload.offers.models import Offer
from tests.support.api import call, refused


def _offer(project) -> Offer:
    return db.session.get(Offer, project.offer_id)


def test_the_inbox_lists_conversations_with_unread_counts(client, make_member, make_gig,
                                                          make_offer, start_project,
                                                          referrer, performer, bearer):
    project = start_project()
    send_offer_message(_offer(project), actor=referrer, body="Any news?")
    offer = make_offer(make_gig(poster=make_member("poster")), performer)
    send_offer_message(offer, actor=performer, body="I can start Monday.")
    body = call(client, "GET", "/conversations", bearer(performer)).get_json()
    assert [(c["id"], c["project_id"], c["unread"]) for c in body["items"]] == [
        (offer.id, None, 0), (project.offer_id, project.id, 1)]
    assert body["items"][1]["other_username"] == "referrer"
    assert body["items"][1]["last_message_preview"] == "Any news?"
    first = call(client, "GET", "/conversations?limit=1", bearer(performer)).get_json()
    assert [c["id"] for c in first["items"]] == [offer.id] and first["next"]
    assert call(client, "GET", "/conversations",
                bearer(make_member("outsider"))).get_json() == {"items": [], "next": None}


def test_messages_are_a_feed_a_script_polls_and_writes_to(client, start_project, referrer,
                                                         performer, bearer):
    project = start_project()
    url = f"/conversations/{project.offer_id}/messages"
    send_offer_message(_offer(project), actor=referrer, body="Hello")
    headers = bearer(performer, "read", "projects")
    body = call(client, "GET", url, headers).get_json()
    assert [(m["body"], m["sender_name"]) for m in body["items"]] == [("Hello",
                                                                       "Rita Referrer")]
    assert body["items"][0]["conversation_id"] == project.offer_id
    poll = body["next"].removeprefix("https://offload.example")
    assert client.get(poll, headers=headers).get_json()["items"] == []
    sent = call(client, "POST", url, headers, 201, json={"body": "Hi, on it."})
    assert sent.get_json()["body"] == "Hi, on it."
    assert sent.headers["Location"].startswith(f"https://offload.example/api/v1{url}?since=")
    assert [m["body"] for m in client.get(poll, headers=headers).get_json()["items"]] == [
        "Hi, on it."]
    assert call(client, "GET", f"{url}?since=0&limit=1", headers).get_json()["next"] \
        .endswith(f"since={body['items'][0]['id']}")


def test_another_members_conversation_is_a_404(client, make_member, start_project,
                                               referrer, performer, bearer):
    project = start_project()
    url = f"/conversations/{project.offer_id}/messages"
    outsider = bearer(make_member("outsider"), "read", "projects")
    refused(client, "GET", url, outsider, 404, "not-found")
    refused(client, "POST", url, outsider, 404, "not-found", json={})
    refused(client, "POST", url, bearer(performer, "read"), 403, "forbidden",
            json={"body": "Hi"})
    body = refused(client, "POST", url, bearer(performer, "projects"), 422,
                   "invalid-field", json={"body": "   "})
    assert body["errors"][0]["field"] == "body"
    admin = make_member("root", admin=True)
    assert call(client, "GET", url, bearer(admin)).get_json()["items"] == []
    refused(client, "POST", url, bearer(admin, "projects"), 403, "not-allowed",
            json={"body": "An admin's word"})
