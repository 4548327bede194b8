"""Changes to a conversation: sending messages with files, and how far each side has
read. The admin's export is ``export``.

Messages are never edited or deleted. Each public function is one transaction. The
offer comes in as the caller loaded it (offers' and projects' pages both write here);
its parties and whether it is open are read from it and its gig (``policies``).
"""

from __future__ import annotations

from sqlalchemy import case, func, select
from werkzeug.datastructures import FileStorage

from offload.accounts.models import User
from offload.core.db import atomic, db, dialect_insert, utcnow
from offload.core.errors import NotAllowed, refuse
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.uploads import store_document
from offload.gigs.models import Gig
from offload.notifications.services import notify
from offload.offers.models import Offer

from .models import MESSAGE_MAX, ConversationRead, OfferMessage, OfferMessageAttachment
from .policies import is_in_conversation, other_side_of, parties_of, why_cannot_message


def send_offer_message(offer: Offer, *, actor: User, body: str,
                       file_storage: FileStorage | None = None) -> OfferMessage:
    """Write to the other side of an offer (and of the project it became); kept for good.

    Writes: the message and, with ``file_storage``, its file (a PDF or image within
    DOCUMENT_MAX_BYTES, checked by content too; removed again if the transaction fails);
    the sender's read mark moves to their message (they have seen everything before it
    they answered); both sides' place in the conversation moves to it (their inboxes).
    Notifies: the other side (new_message).
    """
    with atomic():
        gig = db.session.get(Gig, offer.gig_id)
        # unconfirmed is who the actor is, as in make_offer: NotAllowed, not Conflict
        refuse(why_cannot_message(offer, gig, actor),
               actor_may=is_in_conversation(offer, gig, actor) and actor.is_confirmed)
        body = clean_text("body", body, MESSAGE_MAX, "The message", required=True,
                          multiline=True)
        message = OfferMessage(offer_id=offer.id, sender_id=actor.id, body=body)
        db.session.add(message)
        db.session.flush()
        if file_storage is not None and file_storage.filename:
            stored = store_document(file_storage)
            db.session.add(OfferMessageAttachment(message_id=message.id, **stored.columns()))
            db.session.flush()
        _record_activity(offer.id, parties_of(offer, gig), message)
        _move_read_mark(offer.id, actor.id, message.id)
        notify(db.session.get(User, other_side_of(offer, gig, actor)), "new_message",
               title=f"{actor.name} wrote about “{gig.title}”",
               link=site_path("offers.show", offer_id=offer.id, _anchor=f"message-{message.id}"))
    return message


def mark_conversation_read(offer: Offer, *, actor: User, up_to_message_id: int) -> int:
    """A party has seen the conversation up to ``up_to_message_id`` (the newest message
    their page shows). Returns the read mark now stored.

    The mark only moves forward (a stale page, or two tabs, can't move it back) and
    never past the conversation's newest message. Refuses: anyone but the two sides
    (admins read conversations without leaving a mark).
    """
    with atomic():
        gig = db.session.get(Gig, offer.gig_id)
        if not is_in_conversation(offer, gig, actor):
            raise NotAllowed("Only the two sides of a conversation keep a read mark.")
        newest_seen = db.session.scalar(
            select(func.max(OfferMessage.id)).where(OfferMessage.offer_id == offer.id,
                                                   OfferMessage.id <= up_to_message_id))
        if newest_seen is None:  # the page showed no message: nothing to move
            return db.session.scalar(select(ConversationRead.last_read_message_id).where(
                ConversationRead.offer_id == offer.id,
                ConversationRead.member_id == actor.id)) or 0
        return _move_read_mark(offer.id, actor.id, newest_seen)


def _record_activity(offer_id: int, party_ids: tuple[int, int], message: OfferMessage
                     ) -> None:
    """Both parties' rows now end at ``message`` (made, unread, for a party without one)."""
    stmt = dialect_insert(ConversationRead).values([
        {"offer_id": offer_id, "member_id": member_id, "last_read_message_id": 0,
         "read_at": None, "last_message_id": message.id,
         "last_message_at": message.created_at} for member_id in party_ids])
    newer = stmt.excluded.last_message_id > ConversationRead.last_message_id
    # one statement: of two messages sent at once, the newer ends both rows
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=[ConversationRead.offer_id, ConversationRead.member_id],
        set_={"last_message_id": case((newer, stmt.excluded.last_message_id),
                                      else_=ConversationRead.last_message_id),
              "last_message_at": case((newer, stmt.excluded.last_message_at),
                                      else_=ConversationRead.last_message_at)}))


def _move_read_mark(offer_id: int, member_id: int, message_id: int) -> int:
    newest = (select(OfferMessage.id, OfferMessage.created_at)
              .where(OfferMessage.offer_id == offer_id)
              .order_by(OfferMessage.id.desc()).limit(1).subquery())
    stmt = dialect_insert(ConversationRead).values(
        offer_id=offer_id, member_id=member_id, last_read_message_id=message_id,
        read_at=utcnow(),
        # a party without a row yet (messages written around send_offer_message):
        # the conversation's newest message, as _record_activity would have written
        last_message_id=select(newest.c.id).scalar_subquery(),
        last_message_at=select(newest.c.created_at).scalar_subquery())
    current = ConversationRead.last_read_message_id
    # one statement, so two tabs marking at once both land and the higher mark wins
    stmt = stmt.on_conflict_do_update(
        index_elements=[ConversationRead.offer_id, ConversationRead.member_id],
        set_={"last_read_message_id": case(
                  (stmt.excluded.last_read_message_id > current,
                   stmt.excluded.last_read_message_id), else_=current),
              "read_at": stmt.excluded.read_at},
    ).returning(ConversationRead.last_read_message_id)
    return db.session.execute(stmt).scalar_one()
