"""Reading members: the one lookup by username that pages, admin and the CLI share."""

from __future__ import annotations

from sqlalchemy import select

from offload.core.db import db

from .models import User


def member_named(username: str | None) -> User | None:
    """The member with that username, typed with or without "@", in any case; None for
    a name no member has (and for a blank one).

    Any member, listed or not: whoever may see an unlisted (unconfirmed or suspended)
    member decides that after the lookup, as the moderation log and admin pages must
    find suspended members by name.
    """
    name = (username or "").strip().lstrip("@").lower()
    return db.session.scalar(select(User).where(User.username == name)) if name else None
