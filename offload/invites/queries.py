"""Reads for the invites pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from offload.core.pagination import Page, newest_first

from .models import Invite


def invites_sent_page(inviter_id: int, cursor: str | None) -> Page:
    stmt = (select(Invite).where(Invite.inviter_id == inviter_id)
            .options(joinedload(Invite.accepted_user)))
    return newest_first(stmt, Invite, cursor)
