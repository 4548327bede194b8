"""A member with something of everything for the data-export tests: a profile with
skills and a document, a gig with a file and client details, an offer made and one
received, a conversation with files both ways, a project, invites and money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from offload.accounts.models import User
from offload.conversations.services import send_offer_message
from offload.core.db import atomic, utcnow
from offload.gigs.services import add_gig_attachment
from offload.invites.models import Invite, InviteState
from offload.invites.services import send_invite
from offload.profiles.services import set_member_skills, upload_document

from .factories import fund, new_gig, new_member, new_offer, new_project, upload

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# the other member's address: it must never be in Ada's archive
BOB_EMAIL = "bob@private.example"


@dataclass
class ExportWorld:
    ada: User
    bob: User
    gig_id: int
    document_id: int


def member_with_everything() -> ExportWorld:
    ada = new_member("ada", display_name="Ada Lovelace")
    bob = new_member("bob", email=BOB_EMAIL, display_name="Bob Builder")
    set_member_skills(actor=ada, skill_names=["Python", "Flask"])
    document = upload_document(actor=ada, kind="resume", title="My CV",
                               file_storage=upload(PDF, "cv.pdf"))
    gig = new_gig(poster=ada, title="Port a shop to Flask")
    add_gig_attachment(gig, actor=ada, file_storage=upload(PDF + b"brief", "brief.pdf"))
    received = new_offer(gig, bob, cover_letter="I ported three shops.")
    send_offer_message(received, actor=ada, body="Hello Bob, see my notes.",
                       file_storage=upload(PDF + b"notes", "my notes (v2).pdf"))
    send_offer_message(received, actor=bob, body="Hi Ada, here is my plan.",
                       file_storage=upload(PDF + b"plan", "plan.pdf"))
    bobs_gig = new_gig(poster=bob, title="Review my API")
    new_offer(bobs_gig, ada, cover_letter="I review APIs for a living.")
    new_project(ada, bob, title="Build a dashboard")
    send_invite(actor=ada, email="carol@example.com", vouch_note="Carol writes good Go")
    with atomic() as session:  # Bob came in through Ada's invite, to Bob's address
        session.add(Invite(inviter_id=ada.id, email=BOB_EMAIL, vouch_note="Bob builds",
                           token_hash="b" * 64, state=InviteState.ACCEPTED,
                           expires_at=utcnow() + timedelta(days=7),
                           accepted_user_id=bob.id))
    fund(ada, 25_00)
    return ExportWorld(ada=ada, bob=bob, gig_id=gig.id, document_id=document.id)
