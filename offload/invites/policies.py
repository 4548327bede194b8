"""Who may invite, and how many."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.cases.hook import why_on_the_hook
from offload.core.db import db, utcnow

from .models import Invite, InviteState


def invites_in_use(inviter_id: int) -> int:
    """Invites that count against the quota: accepted ones and live pending ones.

    Revoked and expired invites give their place back.
    """
    return db.session.scalar(
        select(func.count()).select_from(Invite).where(
            Invite.inviter_id == inviter_id,
            (Invite.state == InviteState.ACCEPTED)
            | ((Invite.state == InviteState.PENDING) & (Invite.expires_at > utcnow()))))


def invites_left(user: User) -> int | None:
    """How many more invites the member may send; None means unlimited (admins)."""
    if user.is_admin:
        return None
    return max(0, current_app.config["INVITE_QUOTA"] - invites_in_use(user.id))


def why_cannot_invite(user: User) -> str | None:
    """The reason the member may not send an invite now, or None."""
    if not user.is_confirmed:
        return "Confirm your e-mail address before inviting anyone."
    hook = why_on_the_hook(user, "send invites")
    if hook:
        return hook
    if invites_left(user) == 0:
        return ("You have used all your invites. Revoked and expired invites give their "
                "place back.")
    return None
