"""The conversation's routes through the test client: writing on an offer's
conversation (and the 422 page when refused), its files, who gets 404."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from offload.conversations.models import OfferMessage, OfferMessageAttachment
from offload.core.db import db


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


def page_of(response) -> str:
    return response.get_data(as_text=True)


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return page_of(response)


def test_messages_before_the_award(client, login, bob, poster, make_gig, make_offer):
    offer = make_offer(make_gig(poster=poster), bob)
    login(bob)
    response = client.post(f"/conversations/{offer.id}/messages", data={"message-body": ""})
    assert response.status_code == 422 and "Write a message." in page_of(response)
    client.post(f"/conversations/{offer.id}/messages", data={"message-body": "When can we talk?"})
    login(poster)
    assert "When can we talk?" in get_page(client, f"/offers/{offer.id}")


def test_a_refused_message_shows_the_conversation_with_what_was_typed_and_why(
        client, login, bob, poster, make_gig, make_offer):
    offer = make_offer(make_gig(poster=poster, title="Bakery site"), bob)
    login(bob)
    client.post(f"/conversations/{offer.id}/messages", data={"message-body": "Hello there"})
    response = client.post(f"/conversations/{offer.id}/messages",
                           data={"message-body": "x" * 5001})
    page = page_of(response)
    assert response.status_code == 422 and "at most 5,000 characters" in page
    assert "Hello there" in page and "x" * 5001 in page  # the conversation, the text kept
    assert f'action="/conversations/{offer.id}/messages"' in page
    assert f'href="/offers/{offer.id}">Back to the offer' in page and "Bakery site" in page
    assert db.session.scalar(select(func.count()).select_from(OfferMessage)) == 1


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_message_can_carry_a_file_only_the_two_sides_and_admins_can_fetch(
        client, login, poster, bob, make_gig, make_offer, make_member):
    offer = make_offer(make_gig(poster=poster), bob)
    login(bob)
    response = client.post(f"/conversations/{offer.id}/messages", data={
        "message-body": "The plan", "message-file": (io.BytesIO(b"MZ\x90\x00"), "tool.exe")},
        content_type="multipart/form-data")
    assert response.status_code == 422 and "The plan" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OfferMessage)) == 0
    client.post(f"/conversations/{offer.id}/messages", data={
        "message-body": "The plan", "message-file": (io.BytesIO(PDF), "plan.pdf")},
        content_type="multipart/form-data")
    file_id = db.session.scalar(select(OfferMessageAttachment.id))
    assert f'href="/conversations/files/{file_id}"' in get_page(client, f"/offers/{offer.id}")
    login(poster)
    download = client.get(f"/conversations/files/{file_id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
    login(make_member("nosy"))
    assert client.get(f"/conversations/files/{file_id}").status_code == 404
    client.post("/logout")
    assert client.get(f"/conversations/files/{file_id}").status_code == 404


@pytest.mark.parametrize("old, new", [
    ("/messages?before=abc", "/conversations?before=abc"),
    ("/messages/files/7", "/conversations/files/7"),
    ("/offers/3/messages/since?after=12", "/conversations/3/messages/since?after=12")])
def test_the_old_addresses_redirect_for_good(client, old, new):
    """Bookmarks and links in notifications and e-mails sent before the move."""
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new
