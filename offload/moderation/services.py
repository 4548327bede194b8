"""Writing the moderation log (joins the acting service's transaction)."""

from __future__ import annotations

import logging

from offload.accounts.models import User
from offload.core.db import atomic, on_commit
from offload.core.errors import Invalid

from .models import ModerationEntry

log = logging.getLogger("offload.moderation")

REASON_MAX = 2000
ACTION_MAX = 40
SUBJECT_TYPE_MAX = 24


def record_moderation(*, actor: User, action: str, subject_type: str, subject_id: int,
                      reason: str, subject_user: User | None = None) -> ModerationEntry:
    """Log an admin action with its written reason.

    Writes: one ModerationEntry, in the caller's transaction (or its own when called
    alone), so it commits or rolls back with the action it records.
    Refuses: a blank reason or one over 2,000 characters (Invalid). Whether ``actor``
    may take the action is the calling service's rule, not this one's.
    """
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Write the reason for this action: every admin action is logged with one.")
    if len(reason) > REASON_MAX:
        raise Invalid(f"Keep the reason under {REASON_MAX:,} characters.")
    if not action or len(action) > ACTION_MAX or not subject_type \
            or len(subject_type) > SUBJECT_TYPE_MAX:
        raise ValueError(f"bad moderation action {action!r} or subject type {subject_type!r}")
    with atomic() as session:
        entry = ModerationEntry(actor_id=actor.id, action=action, subject_type=subject_type,
                                subject_id=subject_id, reason=reason,
                                subject_user_id=subject_user.id if subject_user else None)
        session.add(entry)
        session.flush()
        extra = {"actor_id": actor.id, "action": action,
                 "subject": f"{subject_type}:{subject_id}", "entry_id": entry.id}
        on_commit(lambda: log.info("moderation", extra=extra))  # only what really happened
    return entry
