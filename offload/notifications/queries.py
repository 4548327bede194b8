"""Read-only questions about notifications and preferences (importable from anywhere)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from offload.core.db import db
from offload.core.pagination import Page, newest_first

from .kinds import KINDS, kind_info
from .models import Channel, Notification, NotificationPreference, OutboxEmail


def unread_count(user_id: int) -> int:
    stmt = (select(func.count()).select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None)))
    return db.session.scalar(stmt) or 0


def notifications_page(user_id: int, cursor: str | None, size: int | None = None) -> Page:
    """One page of the member's notifications (``size``, default PAGE_SIZE), newest
    first, from ``cursor`` on."""
    stmt = select(Notification).where(Notification.user_id == user_id)
    return newest_first(stmt, Notification, cursor, size)


def preferences_for(user_id: int) -> dict[str, Channel]:
    """The member's channel for every registered kind, defaults filled in."""
    channels = {kind: info.default for kind, info in KINDS.items()}
    rows = db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.channel)
        .where(NotificationPreference.user_id == user_id))
    for kind, channel in rows:
        if kind in channels:  # rows for retired kinds are ignored
            channels[kind] = _allowed(kind, Channel(channel))
    return channels


def channel_for(user_id: int, kind: str) -> Channel:
    """The member's channel for ``kind``; raises ``UnknownKind`` for an unregistered kind."""
    default = kind_info(kind).default
    chosen = db.session.scalar(
        select(NotificationPreference.channel)
        .where(NotificationPreference.user_id == user_id, NotificationPreference.kind == kind))
    return _allowed(kind, Channel(chosen)) if chosen else default


def _allowed(kind: str, channel: Channel) -> Channel:
    # a kind that became one members can't turn off: an old "off" counts as in-app
    if channel == Channel.OFF and not kind_info(kind).can_turn_off:
        return Channel.IN_APP
    return channel


def emails_queued_since(user_id: int, template: str, since: datetime) -> int:
    """How many ``template`` mails were queued for the member since ``since`` (sent or not)."""
    stmt = (select(func.count()).select_from(OutboxEmail)
            .where(OutboxEmail.user_id == user_id, OutboxEmail.template == template,
                   OutboxEmail.created_at > since))
    return db.session.scalar(stmt) or 0
