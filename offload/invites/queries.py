"""Reads for the invites pages."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import aliased, joinedload

from offload.accounts.models import User
from offload.core.pagination import Page, newest_first

from .models import Invite, InviteEdgeChange


def invites_sent_page(inviter_id: int, cursor: str | None) -> Page:
    """The invites the member sent, newest first, each with the member it signed up
    and that member's inviter now (another one: an admin moved them; the page says so)."""
    stmt = (select(Invite).where(Invite.inviter_id == inviter_id)
            .options(joinedload(Invite.accepted_user).joinedload(User.invited_by)))
    return newest_first(stmt, Invite, cursor)


def moved_in_page(inviter_id: int, cursor: str | None) -> Page:
    """The members an admin moved under ``inviter_id`` who are still theirs, newest move
    first: each move's record (with ``member`` loaded). Only a member's latest move
    counts, and one who came back to the inviter who first invited them is theirs by
    that invite again (listed with the invites, not here)."""
    later = aliased(InviteEdgeChange)
    stmt = (select(InviteEdgeChange)
            .join(User, User.id == InviteEdgeChange.member_id)
            .where(InviteEdgeChange.new_inviter_id == inviter_id,
                   User.invited_by_id == inviter_id,
                   ~exists().where(later.member_id == InviteEdgeChange.member_id,
                                   later.id > InviteEdgeChange.id),
                   ~exists().where(Invite.accepted_user_id == InviteEdgeChange.member_id,
                                   Invite.inviter_id == inviter_id))
            .options(joinedload(InviteEdgeChange.member)))
    return newest_first(stmt, InviteEdgeChange, cursor)
