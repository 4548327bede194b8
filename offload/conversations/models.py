"""The conversation of an offer (and of the project it became): its messages, their
files, and each party's place in it.

Design note
- A conversation is an offer's: it is keyed by ``offer_id`` and its two parties are the
  offerer and the gig's poster. The tables keep the names they had in ``offers``
  (``offer_messages``, ``offer_message_attachments``, ``conversation_reads``); only the
  code moved, so the schema and the migrations are unchanged.
- ``OfferMessage`` rows are the conversation between poster and offerer before the
  award and, once accepted, the project's; they are never edited or deleted.
- A ``ConversationRead`` is one party's place in one conversation: how far they have
  read (the id of the newest message they have seen; 0: nothing) and how far the
  conversation goes (its newest message's id and time, which the inbox sorts by).
  Unread = the other side's messages after the mark. The mark only moves forward, and
  only on a POST (the page sends one; GETs change nothing). Sending a message writes
  the row of both parties, so a member's conversations are their rows: the inbox and
  the top bar's count read them through two indexes, whatever the number of offers.
- The top bar's count is counted on each page view (a subquery of the statement that
  loads the member, ``accounts.queries``), not kept as a counter as the notifications'
  is: what a mark takes off depends on the old mark and on who wrote the messages
  between, so a counter would need a locked read of the mark and a second member's row
  in every send (two members writing each other in two conversations would lock their
  rows in opposite orders), and marks accept messages written around
  ``send_offer_message``, which a counter would miss.
- This module imports no feature but accounts: the offer is named by a foreign key
  only. Relationships are ``lazy="raise"``: pages load what they show in explicit queries.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.uploads import StoredFileColumns

MESSAGE_MAX = 5000


class OfferMessage(db.Model):
    """A message between the poster and the offerer about an offer (kept for good)."""

    __tablename__ = "offer_messages"
    __table_args__ = (Index("ix_offer_messages_offer_created", "offer_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    sender: Mapped[User] = relationship(lazy="raise")
    attachments: Mapped[list[OfferMessageAttachment]] = relationship(
        order_by="OfferMessageAttachment.id", lazy="raise", viewonly=True)


class OfferMessageAttachment(StoredFileColumns, db.Model):
    """A file sent with a message (the upload limits of documents); kept with it for good."""

    __tablename__ = "offer_message_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("offer_messages.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


_UNREAD = text("last_message_id > last_read_message_id")


class ConversationRead(db.Model):
    """One party's place in an offer's conversation (see the design note): how far it
    goes (its newest message) and how far they have read it."""

    __tablename__ = "conversation_reads"
    __table_args__ = (
        # the inbox: a member's conversations, newest activity first (keyset)
        Index("ix_conversation_reads_member_activity", "member_id", "last_message_at",
              "offer_id"),
        # the top bar's count reads only the member's conversations with unread messages
        Index("ix_conversation_reads_member_unread", "member_id",
              sqlite_where=_UNREAD, postgresql_where=_UNREAD),
    )

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_message_id: Mapped[int] = mapped_column(BigInteger)  # 0: nothing read yet
    read_at: Mapped[datetime | None]  # when the mark last moved; None: never
    last_message_id: Mapped[int] = mapped_column(BigInteger)  # the conversation's newest
    last_message_at: Mapped[datetime]  # and when it was written
