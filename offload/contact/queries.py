"""Reading contact messages for the admins' queue and the sender's page."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, select, tuple_
from sqlalchemy.orm import aliased

from offload.accounts.models import User
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, keyset_page

from .models import ContactMessage, ContactState


class ContactItem(NamedTuple):
    id: int
    sender_id: int | None
    sender_username: str | None  # None: a visitor
    name: str
    email: str
    subject: str
    body: str
    state: str
    reply: str | None
    answered_by: str | None  # the answering admin's name
    answered_at: datetime | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.state == ContactState.OPEN


_COLUMNS = (ContactMessage.id, ContactMessage.sender_id, ContactMessage.name,
            ContactMessage.email, ContactMessage.subject, ContactMessage.body,
            ContactMessage.state, ContactMessage.reply, ContactMessage.answered_at,
            ContactMessage.created_at)


def _select() -> Select:
    sender, admin = aliased(User), aliased(User)
    return (select(*_COLUMNS, sender.username.label("sender_username"),
                   admin.display_name.label("admin_display"),
                   admin.username.label("admin_username"))
            .outerjoin(sender, sender.id == ContactMessage.sender_id)
            .outerjoin(admin, admin.id == ContactMessage.answered_by_id))


def _item(row) -> ContactItem:
    m = row._mapping
    return ContactItem(id=m["id"], sender_id=m["sender_id"],
                       sender_username=m["sender_username"], name=m["name"], email=m["email"],
                       subject=m["subject"], body=m["body"], state=m["state"],
                       reply=m["reply"],
                       answered_by=m["admin_display"] or m["admin_username"],
                       answered_at=m["answered_at"], created_at=m["created_at"])


@lru_cache(maxsize=2)
def _queue_statement(paged: bool) -> Select:
    # built once; parameters: state, limit, and after_at, after_id when ``paged``
    stmt = (_select().where(ContactMessage.state == bindparam("state"))
            .order_by(ContactMessage.created_at, ContactMessage.id)
            .limit(bindparam("limit", type_=Integer)))
    if paged:
        stmt = stmt.where(tuple_(ContactMessage.created_at, ContactMessage.id) > tuple_(
            bindparam("after_at", type_=ContactMessage.created_at.type),
            bindparam("after_id", type_=Integer)))
    return stmt


def open_messages_page(cursor: str | None) -> Page:
    """The admins' queue: open messages, oldest first (they have waited longest), a page
    at a time (keyset on the state's (created_at, id) index); one query."""
    size = current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    params = {"state": ContactState.OPEN.value, "limit": size + 1}
    if key:
        params.update(after_at=key[0], after_id=key[1])
    rows = [_item(r) for r in db.session.execute(_queue_statement(key is not None), params)]
    return keyset_page(rows, size, key is None)


def open_message_count() -> int:
    return db.session.scalar(select(db.func.count()).select_from(ContactMessage).where(
        ContactMessage.state == ContactState.OPEN))


def contact_item(message_id: int) -> ContactItem | None:
    row = db.session.execute(_select().where(ContactMessage.id == message_id)).first()
    return _item(row) if row else None


def contact_item_for(viewer: User, message_id: int) -> ContactItem | None:
    """The message for its member sender or an admin; None for anyone else."""
    item = contact_item(message_id)
    if item is None or not (viewer.is_admin or item.sender_id == viewer.id):
        return None
    return item
