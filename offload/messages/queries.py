"""The inbox's reads: a member's conversations, newest activity first, and the number
of messages they haven't read (the top bar).

Both read the member's ``ConversationRead`` rows (one per conversation they are a party
to, written when a message is sent), so they cost what one page costs, or what the
unread conversations cost, however many offers and gigs the member has:
- a page walks ``ix_conversation_reads_member_activity`` backwards from the cursor and
  joins each row's offer, gig, other party, project and newest message by primary key;
  a row's unread count is counted only when its newest message is past the mark;
- the count reads ``ix_conversation_reads_member_unread`` (partial: only rows with
  something unread) and those conversations' messages after the mark.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, case, func, select, tuple_
from sqlalchemy.orm import aliased

from offload.accounts.models import User
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, keyset_page
from offload.gigs.models import Gig
from offload.notifications.models import Notification
from offload.offers.models import ConversationRead, Offer, OfferMessage
from offload.projects.models import Project

PREVIEW_CHARS = 140


class InboxConversation(NamedTuple):
    """One line of the inbox."""

    offer_id: int
    project_id: int | None  # once the offer became a project, the talk goes on there
    gig_id: int
    gig_title: str
    other_username: str
    other_name: str
    last_message_at: datetime
    last_message_preview: str
    last_message_mine: bool
    unread: int  # the other side's messages after the member's read mark

    @property
    def id(self) -> int:  # the keyset's tie-breaker (core.pagination reads ``id``)
        return self.offer_id


@lru_cache(maxsize=2)
def _inbox_statement(paged: bool) -> Select:
    # built once; parameters: member_id, limit, and after_at, after_id when ``paged``
    me = bindparam("member_id", type_=Integer)
    read = ConversationRead
    other = aliased(User)
    last = aliased(OfferMessage)
    unread = case((read.last_message_id > read.last_read_message_id,
                   select(func.count()).select_from(OfferMessage)
                   .where(OfferMessage.offer_id == read.offer_id,
                          OfferMessage.sender_id != me,
                          OfferMessage.id > read.last_read_message_id)
                   .scalar_subquery()), else_=0)
    stmt = (select(read.offer_id, Project.id, Gig.id, Gig.title, other.username,
                   func.coalesce(other.display_name, other.username), read.last_message_at,
                   func.substr(last.body, 1, PREVIEW_CHARS + 1), last.sender_id == me,
                   unread)
            .select_from(read)
            .join(Offer, Offer.id == read.offer_id)
            .join(Gig, Gig.id == Offer.gig_id)
            .join(other, other.id == case((Offer.member_id == me, Gig.poster_id),
                                          else_=Offer.member_id))
            .outerjoin(Project, Project.offer_id == Offer.id)
            .outerjoin(last, last.id == read.last_message_id)
            .where(read.member_id == me)
            .order_by(read.last_message_at.desc(), read.offer_id.desc())
            .limit(bindparam("limit", type_=Integer)))
    if paged:
        stmt = stmt.where(tuple_(read.last_message_at, read.offer_id) < tuple_(
            bindparam("after_at", type_=read.last_message_at.type),
            bindparam("after_id", type_=Integer)))
    return stmt


def inbox_page(member_id: int, cursor: str | None = None) -> Page:
    """The member's conversations (as offerer or as poster, before and after the award),
    newest activity first, with the other party, the gig and the unread count; a page
    of InboxConversation at a time (the cursor is the last one's time and offer id).
    One query."""
    size = current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    params = {"member_id": member_id, "limit": size + 1}
    if key:
        params.update(after_at=key[0], after_id=key[1])
    rows = [InboxConversation(offer_id, project_id, gig_id, title, username, name, at,
                              _preview(body), bool(mine), unread)
            for offer_id, project_id, gig_id, title, username, name, at, body, mine, unread
            in db.session.execute(_inbox_statement(key is not None), params)]
    return keyset_page(rows, size, key is None, "last_message_at")


def _preview(body: str | None) -> str:
    text = " ".join((body or "").split())
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS - 1] + "…"


@lru_cache(maxsize=1)
def _unread_statement() -> Select:
    me = bindparam("member_id", type_=Integer)
    read = ConversationRead
    # counted per unread conversation (a correlated count, not a join the planner could
    # turn around into a scan of the messages)
    per_conversation = (
        select(select(func.count()).select_from(OfferMessage)
               .where(OfferMessage.offer_id == read.offer_id,
                      OfferMessage.id > read.last_read_message_id,
                      OfferMessage.sender_id != me)
               .scalar_subquery().label("n"))
        # the partial index's own condition, so the plan can use it
        .where(read.member_id == me, read.last_message_id > read.last_read_message_id)
        .subquery())
    return select(func.coalesce(func.sum(per_conversation.c.n), 0))


def unread_message_count(member_id: int) -> int:
    """Messages in all the member's conversations that they haven't read; one query."""
    return db.session.scalar(_unread_statement(), {"member_id": member_id}) or 0


@lru_cache(maxsize=1)
def _top_bar_statement() -> Select:
    notifications = (select(func.count()).select_from(Notification)
                     .where(Notification.user_id == bindparam("member_id", type_=Integer),
                            Notification.read_at.is_(None)).scalar_subquery())
    return select(notifications, _unread_statement().scalar_subquery())


def top_bar_counts(member_id: int) -> tuple[int, int]:
    """(unread notifications, unread messages) for the top bar, in one query: the
    layout shows both on every page, so the second costs no round trip."""
    notifications, messages = db.session.execute(_top_bar_statement(),
                                                 {"member_id": member_id}).one()
    return notifications, messages or 0
