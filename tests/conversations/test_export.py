"""The admin's export of a conversation (the service; the admin route has its own test):
plain text, oldest first, files listed, and a moderation-log entry with the reason."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from offload.conversations.export import export_conversation
from offload.conversations.services import send_offer_message
from offload.core.db import db
from offload.core.errors import Invalid, NotAllowed
from offload.moderation.models import ModerationEntry
from offload.offers.models import Offer

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def entries() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ModerationEntry))


def test_an_admin_exports_every_message_with_its_files_and_the_reason_is_logged(
        make_member, make_gig, make_offer):
    poster, bob = make_member("poster"), make_member("bob")
    offer = make_offer(make_gig(poster=poster, title="Bakery site"), bob)
    send_offer_message(offer, actor=bob, body="First line\nSecond line")
    send_offer_message(db.session.get(Offer, offer.id), actor=poster, body="The plan",
                       file_storage=FileStorage(io.BytesIO(PDF), filename="plan.pdf"))
    admin = make_member("boss", admin=True)
    text = export_conversation(db.session.get(Offer, offer.id), actor=admin,
                               reason="Evidence for a dispute")
    assert text.startswith(f"Conversation of offer {offer.id} on gig {offer.gig_id} "
                           "“Bakery site”\n")
    assert "boss: Evidence for a dispute" in text
    assert text.index("bob:\n  First line\n  Second line") < text.index("poster:\n  The plan")
    assert "attachment: plan.pdf (application/pdf, " in text and "/conversations/files/" in text
    assert text.endswith("\n2 message(s).\n")
    entry = db.session.scalar(select(ModerationEntry))
    assert (entry.action, entry.subject_type, entry.subject_id, entry.reason) == (
        "conversation_exported", "offer", offer.id, "Evidence for a dispute")


def test_only_admins_export_and_only_with_a_reason(make_member, make_gig, make_offer):
    poster, bob = make_member("poster"), make_member("bob")
    offer = make_offer(make_gig(poster=poster), bob)
    with pytest.raises(NotAllowed):
        export_conversation(offer, actor=poster, reason="Curious")
    with pytest.raises(Invalid):
        export_conversation(db.session.get(Offer, offer.id),
                            actor=make_member("boss", admin=True), reason="  ")
    assert entries() == 0
