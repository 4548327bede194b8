"""An admin's export of a conversation as evidence: the service the admin route calls.

Reading members' private messages is admin power: the export leaves a moderation-log
entry with its reason, in the same transaction that reads the messages.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.core.errors import NotAllowed
from offload.core.links import site_path
from offload.gigs.models import Gig
from offload.moderation.services import record_moderation
from offload.offers.models import Offer

from .models import OfferMessage


def export_conversation(offer: Offer, *, actor: User, reason: str) -> str:
    """An admin's export of a whole conversation as evidence: plain text, oldest first,
    every message with its files listed.

    Writes: a moderation-log entry with the reason (reading members' private messages is
    admin power). Refuses: non-admins (NotAllowed); a blank reason (Invalid).
    """
    if not actor.is_admin:
        raise NotAllowed("Only admins export conversations.")
    with atomic():
        gig = db.session.get(Gig, offer.gig_id)
        record_moderation(actor=actor, action="conversation_exported", subject_type="offer",
                          subject_id=offer.id, reason=reason)
        messages = db.session.scalars(
            select(OfferMessage).where(OfferMessage.offer_id == offer.id)
            .options(joinedload(OfferMessage.sender, innerjoin=True),
                     selectinload(OfferMessage.attachments))
            .order_by(OfferMessage.created_at, OfferMessage.id)).all()
        lines = [f"Conversation of offer {offer.id} on gig {gig.id} “{gig.title}”",
                 f"Exported {utcnow().isoformat(timespec='seconds')} by {actor.username}: "
                 f"{reason.strip()}", ""]
        for m in messages:
            lines.append(f"[{m.created_at.isoformat(timespec='seconds')}] "
                         f"{m.sender.username}:")
            lines += [f"  {line}" for line in m.body.splitlines()] or ["  "]
            lines += [f"  attachment: {a.original_name} ({a.content_type}, {a.size_bytes} "
                      f"bytes) {site_path('conversations.file', file_id=a.id)}"
                      for a in m.attachments]
        lines.append(f"\n{len(messages)} message(s).")
    return "\n".join(lines) + "\n"
