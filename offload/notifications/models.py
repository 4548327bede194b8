"""Notifications, their per-kind preferences, and the e-mail outbox.

Design: a service that wants to tell a member something calls ``notify()`` inside
its own transaction. That writes a ``Notification`` (the in-app list) and, when the
member wants e-mail for that kind, an ``OutboxEmail`` row holding the template and its
context; the worker renders the letter when it sends it, so the request that caused it
pays for two INSERTs, not three templates. Nothing is sent inside a
transaction: if the change rolls back, the mail was never queued; if it commits,
the mail worker (``flask jobs worker``, woken by a NOTIFY on PostgreSQL) sends it,
retrying with exponential back-off, so an SMTP outage delays mail but loses none. No
web request ever waits for SMTP.

Outbox rows are claimed with a guarded UPDATE on ``locked_until`` before sending,
so two delivery runners never send the same row. A runner that dies after sending
but before recording it leaves the claim to expire, and the row is sent again:
delivery is at least once, never twice while runners are healthy.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow


class Channel(StrEnum):
    """How a member wants to hear about one kind of notification."""

    EMAIL = "email"  # in the app and by e-mail
    IN_APP = "in_app"
    OFF = "off"


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        # the list, newest first, keyset-paged on (created_at, id)
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        # the nav badge counts unread rows on every page view: keep that count on a small index
        Index("ix_notifications_user_unread", "user_id",
              sqlite_where=text("read_at IS NULL"), postgresql_where=text("read_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    # what it is about (a gig's title), shown under the title; see notifications.subjects
    subject: Mapped[str | None] = mapped_column(String(200))
    # a path on this site ("/gigs/12"), never a full URL: it is used as a redirect target
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    read_at: Mapped[datetime | None]

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    @property
    def subject_line(self) -> str | None:
        """The subject, when the title doesn't already name it in quotes."""
        if not self.subject or f"“{self.subject}”" in self.title:
            return None
        return self.subject

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class OutboxEmail(db.Model):
    __tablename__ = "outbox_emails"
    __table_args__ = (
        CheckConstraint("to_address = lower(to_address)", name="to_address_lower"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_emails_due", "sent_at", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # null for mail to someone who is not a member yet (an invite)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    # the e-mail template set it was rendered from (email/<template>.*)
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # a notification's letter is rendered by the mail worker, not in the request that
    # queued it: until then subject and bodies are empty and this holds the template's
    # context as JSON (strings and numbers only); null for a letter rendered when queued
    context: Mapped[str | None] = mapped_column(Text)
    # a one-click stop URL for the List-Unsubscribe headers (alerts)
    list_unsubscribe: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                      server_default=func.now())
    locked_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.template} sent={self.is_sent}>"


class NotificationPreference(db.Model):
    """A member's explicit choice for one kind; kinds without a row use the default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'in_app', 'off')", name="channel"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
