"""Who may invite, and how many."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.accounts.standing import why_on_the_hook
from offload.core.db import db, utcnow

from .models import Invite, InviteState


def invites_in_use(inviter_id: int) -> int:
    """Places that count against the quota: the members the inviter answers for now
    (the tree as it is: one an admin moved away frees its place, one moved in takes
    one) and their live pending invites.

    Revoked and expired invites give their place back.
    """
    answers_for = select(func.count()).select_from(User).where(
        User.invited_by_id == inviter_id).scalar_subquery()
    pending = select(func.count()).select_from(Invite).where(
        Invite.inviter_id == inviter_id, Invite.state == InviteState.PENDING,
        Invite.expires_at > utcnow()).scalar_subquery()
    return db.session.scalar(select(answers_for + pending))


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
                "place back, and so does a member an admin moves to another inviter.")
    return None
