"""The moderation log table.

Design: one append-only row per admin action, written by the acting service in the
same transaction as the action (rule 8 of the style guide): if the action rolls back,
so does its entry, and an action cannot commit without one. The reason is required
by a CHECK as well as by ``record_moderation``. The subject is named loosely
(``subject_type``, ``subject_id``) because admins act on many kinds of rows;
``subject_user_id`` is the member affected, when there is one, so that a member's
history of moderation can be listed without knowing every subject type.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

# What members read on the public log: actions about conduct on the site. Money
# decisions (withdrawals, disputes), evidence exports and answers to reports stay in
# the log for admins but are private to the members they concern: a withdrawal's or a
# dispute's reason is theirs, and a dismissed report must not tell its subject about it.
PUBLIC_ACTIONS = (
    "case_opened", "case_cleared", "case_warned", "case_suspended", "suspension_lifted",
    "member_reparented", "gig_cancelled", "gig_attachment_removed",
)


class ModerationEntry(db.Model):
    __tablename__ = "moderation_log"
    __table_args__ = (
        CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        # the public log, newest first (keyset on created_at, id)
        Index("ix_moderation_log_created", "created_at", "id"),
        Index("ix_moderation_log_subject", "subject_type", "subject_id"),
        Index("ix_moderation_log_subject_user", "subject_user_id", "created_at", "id"),
        # the public log filtered by action
        Index("ix_moderation_log_action_created", "action", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))  # "withdrawal_paid"
    subject_type: Mapped[str] = mapped_column(String(24))  # "withdrawal"
    subject_id: Mapped[int]
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    def __repr__(self) -> str:
        return f"<ModerationEntry {self.id} {self.action} {self.subject_type}:{self.subject_id}>"
