"""Messages to the admins through the contact page.

Design note
- A ``ContactMessage`` is written by a member (``sender_id``) or a visitor (no
  account: only the name and address they gave). It waits in the admins' queue while
  open; an admin answers it once with a written reply (``CONTACT_TRANSITIONS``), which
  reaches the sender by e-mail (and in their notifications when a member).
- The answer moves the row with an UPDATE guarded by the open state, so of two admins
  answering at once one does; the CHECKs keep an answered row's reply, answerer and
  time together.
- Bots are dropped before anything is written (the honeypot field, in the view), and
  the page is rate limited per address (CONTACT_LIMIT).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

NAME_MAX = 100
EMAIL_MAX = 254
SUBJECT_MAX = 150
BODY_MAX = 5000
REPLY_MAX = 5000


class ContactState(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


CONTACT_TRANSITIONS = {ContactState.OPEN: {ContactState.ANSWERED}}
# answered is final


class ContactMessage(db.Model):
    __tablename__ = "contact_messages"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'answered')", name="state"),
        CheckConstraint("(state = 'answered') = (reply IS NOT NULL AND answered_at IS NOT NULL"
                        " AND answered_by_id IS NOT NULL)", name="answered"),
        # the admins' queue: open messages, oldest first (keyset on created_at, id)
        Index("ix_contact_messages_state_created", "state", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default=ContactState.OPEN)
    reply: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    def __repr__(self) -> str:
        return f"<ContactMessage {self.id} {self.state}>"
