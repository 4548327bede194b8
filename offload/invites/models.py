"""Invite records and their lifecycle."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow


class InviteState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"
    EXPIRED = "expired"


INVITE_TRANSITIONS = {
    InviteState.PENDING: {InviteState.ACCEPTED, InviteState.REVOKED, InviteState.EXPIRED},
    InviteState.ACCEPTED: set(),
    InviteState.REVOKED: set(),
    InviteState.EXPIRED: set(),
}


class Invite(db.Model):
    __tablename__ = "invites"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'accepted', 'revoked', 'expired')", name="state"),
        CheckConstraint("(state = 'accepted') = (accepted_user_id IS NOT NULL)",
                        name="accepted_user"),
        # one pending invite per address, whoever sent it
        Index("uq_invites_pending_email", "email", unique=True,
              sqlite_where=text("state = 'pending'"), postgresql_where=text("state = 'pending'")),
        Index("ix_invites_inviter_created", "inviter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(254))
    vouch_note: Mapped[str] = mapped_column(String(1000))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=InviteState.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    state_changed_at: Mapped[datetime | None]
    accepted_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)

    inviter: Mapped[User] = relationship(foreign_keys=[inviter_id], lazy="raise")
    accepted_user: Mapped[User | None] = relationship(foreign_keys=[accepted_user_id],
                                                      lazy="raise")

    def effective_state(self, now: datetime | None = None) -> InviteState:
        """Pending invites past their expiry read as expired before the job marks them."""
        if self.state == InviteState.PENDING and (now or utcnow()) >= self.expires_at:
            return InviteState.EXPIRED
        return InviteState(self.state)


class InviteEdgeChange(db.Model):
    """A reparent: ``member_id`` was moved from ``old_inviter_id`` to ``new_inviter_id``."""

    __tablename__ = "invite_edge_changes"
    __table_args__ = (
        Index("ix_invite_edge_changes_member", "member_id", "created_at"),
        # the members moved to an inviter, for their invites page
        Index("ix_invite_edge_changes_new_inviter", "new_inviter_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    old_inviter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    new_inviter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    moved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    member: Mapped[User] = relationship(foreign_keys=[member_id], lazy="raise")
