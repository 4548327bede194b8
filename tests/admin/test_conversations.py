"""Exporting an offer's conversation as evidence, with a reason that is logged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.conversations import services as conversations
from offload.core.db import db


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


def test_an_admin_exports_a_conversation_with_a_reason_that_is_logged(
        client, login, poster, bob, make_gig, make_offer, make_member):
    from offload.moderation.models import ModerationEntry

    offer = make_offer(make_gig(poster=poster), bob)
    conversations.send_offer_message(offer, actor=bob, body="First line\nSecond line")
    login(make_member("boss", admin=True))
    refused = client.post(f"/admin/conversations/{offer.id}/export", data={"reason": " "})
    assert refused.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    response = client.post(f"/admin/conversations/{offer.id}/export",
                           data={"reason": "Evidence for a dispute"})
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "bob:\n  First line\n  Second line" in text and "1 message(s)." in text
    entry = db.session.scalar(select(ModerationEntry))
    assert (entry.action, entry.reason) == ("conversation_exported", "Evidence for a dispute")
    login(bob)
    assert client.post(f"/admin/conversations/{offer.id}/export",
                       data={"reason": "x"}).status_code == 404
