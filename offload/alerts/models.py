"""Keyword alerts: a member's saved board search, and which gigs it has told them about.

Design note
- An ``Alert`` keeps the board's query string (``BoardFilters.to_args()``, in a fixed
  order), so it is matched by the board's own query (``gigs.board.alert_matches``): an
  alert finds exactly what the same search on the board would show, by construction.
- Delivery is ``instant`` (every ``flask jobs run``, meant for cron each minute or few)
  or ``daily`` (the first run on or after ALERT_DIGEST_HOUR UTC each day). Each run
  looks at gigs published since the alert's ``checked_until``, minus a slack for
  transactions that published a gig just before and committed just after the previous
  run. ``AlertHit`` (alert, gig) is the primary key that makes the slack harmless: a
  gig is told once per alert, whatever the overlap or however many runners.
- A run claims an alert with a guarded UPDATE (``checked_until`` for instant,
  ``digest_sent_on`` for daily), so two runners, or a job run twenty times a day,
  send one message per due alert: a digest once per day.
- ``stopped_at`` is set by the one-click stop link in every alert e-mail (a signed
  token; no log-in needed) or on the alerts page; a stopped alert can be resumed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow

NAME_MAX = 80
QUERY_MAX = 1000


class Frequency(StrEnum):
    INSTANT = "instant"
    DAILY = "daily"

    @property
    def label(self) -> str:
        return {"instant": "At once", "daily": "Daily digest"}[self.value]


class Alert(db.Model):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint("frequency IN ('instant', 'daily')", name="frequency"),
        # the same search twice would send every gig twice
        UniqueConstraint("user_id", "query", name="uq_alerts_user_query"),
        # the jobs read the running alerts of one frequency
        Index("ix_alerts_running", "frequency", "id",
              sqlite_where=text("stopped_at IS NULL"),
              postgresql_where=text("stopped_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    query: Mapped[str] = mapped_column(String(QUERY_MAX))  # the board's query string
    frequency: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # gigs published from here on are for it (saved, or last resumed)
    since: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # gigs published up to here (less the slack) have been looked at
    checked_until: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    digest_sent_on: Mapped[date | None]  # the UTC day of the last daily run for it
    stopped_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise")

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    def __repr__(self) -> str:
        return f"<Alert {self.id} {self.frequency} user={self.user_id}>"


class AlertHit(db.Model):
    """A gig an alert has told its member about (once)."""

    __tablename__ = "alert_hits"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"),
                                          primary_key=True)
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
