"""Read-only questions about notifications and preferences (importable from anywhere)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    column,
    func,
    select,
    table,
)

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


@dataclass(frozen=True, slots=True)
class Recipient:
    """A member as ``notify()`` needs them, read before the caller's write transaction
    (``recipient_of``): who, their name and address, and their channel for one kind."""

    id: int
    name: str
    email: str
    channel: Channel
    time_zone: str = "UTC"  # the zone their e-mails show times in


# Notifications sit below accounts: the member's columns are named, as the foreign keys
# name ``users.id``, rather than imported.
_users = table("users", column("id", Integer), column("username", String),
               column("display_name", String), column("email", Text),
               column("time_zone", String), column("deleted_at", DateTime))


@lru_cache(maxsize=1)
def _recipient_statement():
    prefs = NotificationPreference.__table__
    return (select(_users.c.username, _users.c.display_name, _users.c.email, prefs.c.channel,
                   _users.c.time_zone, _users.c.deleted_at)
            .outerjoin(prefs, and_(prefs.c.user_id == _users.c.id,
                                   prefs.c.kind == bindparam("kind", type_=String)))
            .where(_users.c.id == bindparam("member_id", type_=Integer)))


def recipient_of(member_id: int, kind: str) -> Recipient:
    """The member and their channel for ``kind`` (``channel_for``), one statement; for
    a service that tells them something and reads all it can before its transaction.
    A member who deleted their account has the channel off, for every kind."""
    default = kind_info(kind).default
    row = db.session.connection().execute(_recipient_statement(),
                                          {"member_id": member_id, "kind": kind}).one()
    channel = _allowed(kind, Channel(row.channel)) if row.channel else default
    if row.deleted_at is not None:  # nobody to tell (``services.notify``)
        channel = Channel.OFF
    return Recipient(member_id, row.display_name or row.username, row.email, channel,
                     row.time_zone)


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


class DeliveryBacklog(NamedTuple):
    """An outbox as the operator's metrics see it (mail here, webhooks likewise)."""

    waiting: int  # not delivered yet and still to be tried
    oldest_at: datetime | None  # when the oldest of those was queued
    failed: int  # not delivered, and at least one attempt failed (given up ones too)


def mail_backlog(max_attempts: int) -> DeliveryBacklog:
    """The mail outbox's backlog (``max_attempts``: OUTBOX_MAX_ATTEMPTS), all on unsent
    rows (the outbox index's first column)."""
    unsent = OutboxEmail.sent_at.is_(None)
    return backlog_of(OutboxEmail, waiting=and_(unsent, OutboxEmail.attempts < max_attempts),
                      failed=and_(unsent, OutboxEmail.attempts > 0))


def backlog_of(outbox, *, waiting, failed) -> DeliveryBacklog:
    """An outbox table's backlog: its rows matching ``waiting`` (counted, and the oldest's
    ``created_at``) and ``failed`` (counted); one statement."""
    row = db.session.execute(select(
        select(func.count()).select_from(outbox).where(waiting).scalar_subquery(),
        select(func.min(outbox.created_at)).where(waiting).scalar_subquery(),
        select(func.count()).select_from(outbox).where(failed).scalar_subquery(),
    )).one()
    return DeliveryBacklog(*row)
