"""Reading conversations for pages: a page of one conversation, the messages after the
last one shown (live pages), each party's read mark and unread counts, the inbox, the
dashboard's unread conversations and the top bar's count.

The inbox and the top bar read the member's ``ConversationRead`` rows (one per
conversation they are a party to, written when a message is sent), so they cost what
one page costs, or what the unread conversations cost, however many offers and gigs
the member has:
- a page walks ``ix_conversation_reads_member_activity`` backwards from the cursor and
  joins each row's offer, gig, other party, project and newest message by primary key;
  a row's unread count is counted only when its newest message is past the mark;
- the count reads ``ix_conversation_reads_member_unread`` (partial: only rows with
  something unread) and those conversations' messages after the mark.

A conversation is an offer's; once the offer became a project the talk goes on on the
project's page. Projects sit above conversations (they call it), so this module does
not import them: ``create_app`` hands in the projects table's columns
(``continue_on_projects``), and the statements read the project id through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    case,
    func,
    null,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import aliased

from offload.accounts.models import User
from offload.core.cache import NeverEdited
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, keyset_page
from offload.core.uploads import FileLine, file_lines_of
from offload.gigs.models import Gig
from offload.notifications.models import Notification
from offload.offers.models import Offer

from .models import ConversationRead, OfferMessage, OfferMessageAttachment

PREVIEW_CHARS = 140


# --- where a conversation goes on ---------------------------------------------------------

_projects: tuple[ColumnElement[int], ColumnElement[int]] | None = None


def continue_on_projects(project_id: ColumnElement[int], offer_id: ColumnElement[int]
                         ) -> None:
    """Name the table an accepted offer's conversation goes on in: its id and offer id
    columns (``Project.id``, ``Project.offer_id``). Called once by ``create_app``; until
    then every conversation is an offer's."""
    global _projects
    _projects = (project_id, offer_id)
    _inbox_statement.cache_clear()
    _conversation_titles.cache_clear()


def _project_id_of(offer_id: ColumnElement[int]) -> ColumnElement[int | None]:
    """The id of the project the offer became, or NULL (a unique index on its offer id)."""
    if _projects is None:
        return null().cast(Integer)
    project_id, project_offer_id = _projects
    return select(project_id).where(project_offer_id == offer_id).scalar_subquery()


# --- one conversation ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Message(NeverEdited):
    """One message of a conversation, as pages show it and the API sends it."""

    id: int
    offer_id: int
    sender_id: int
    sender_name: str
    body: str
    created_at: datetime
    files: tuple[FileLine, ...]  # oldest first


_MESSAGE_COLUMNS = (OfferMessage.id, OfferMessage.offer_id, OfferMessage.sender_id,
                    User.username, User.display_name, OfferMessage.body,
                    OfferMessage.created_at)


@lru_cache(maxsize=4)
def _messages_statement(order: str) -> Select:
    """The conversation's messages with their senders' names, built once. ``order``:
    "newest" (a page, newest first; parameters offer_id, limit), "newest-paged" (the
    same back from a cursor; also before_at, before_id), "after" (offer_id, after_id,
    limit) or "all" (offer_id; oldest first)."""
    stmt = (select(*_MESSAGE_COLUMNS).join(User, User.id == OfferMessage.sender_id)
            .where(OfferMessage.offer_id == bindparam("offer_id", type_=Integer)))
    if order in ("newest", "newest-paged"):
        if order == "newest-paged":
            stmt = stmt.where(tuple_(OfferMessage.created_at, OfferMessage.id) < tuple_(
                bindparam("before_at", type_=OfferMessage.created_at.type),
                bindparam("before_id", type_=Integer)))
        return (stmt.order_by(OfferMessage.created_at.desc(), OfferMessage.id.desc())
                .limit(bindparam("limit", type_=Integer)))
    if order == "after":
        return (stmt.where(OfferMessage.id > bindparam("after_id", type_=Integer))
                .order_by(OfferMessage.id).limit(bindparam("limit", type_=Integer)))
    return stmt.order_by(OfferMessage.created_at, OfferMessage.id)


def _messages(order: str, params: dict) -> list[Message]:
    """The messages of one statement, each with its files: two queries (one when none)."""
    rows = db.session.execute(_messages_statement(order), params).all()
    if not rows:
        return []
    files = file_lines_of(OfferMessageAttachment, "message_id", [row[0] for row in rows])
    return [Message(id_, offer_id, sender_id, display_name or username, body, at,
                    files.get(id_, ()))
            for id_, offer_id, sender_id, username, display_name, body, at in rows]


def conversation_page(offer_id: int, cursor: str | None) -> Page:
    """A page of the conversation's Messages, newest first (reverse it to show)."""
    size = current_app.config["MESSAGES_PAGE_SIZE"]
    key = decode_cursor(cursor)
    params = {"offer_id": offer_id, "limit": size + 1}
    if key:
        params.update(before_at=key[0], before_id=key[1])
    return keyset_page(_messages("newest-paged" if key else "newest", params), size,
                       key is None)


def messages_after(offer_id: int, after_id: int, limit: int = 50) -> list[Message]:
    """The conversation's Messages newer than ``after_id``, oldest first; on the
    (offer_id, created_at, id) index."""
    return _messages("after", {"offer_id": offer_id, "after_id": after_id, "limit": limit})


def whole_conversation(offer_id: int) -> list[Message]:
    """Every Message of the conversation, oldest first (an admin's evidence)."""
    return _messages("all", {"offer_id": offer_id})


def offer_id_of_file(file_id: int) -> int | None:
    """The conversation (offer id) a message's file was sent in; None: no such file."""
    return db.session.scalar(
        select(OfferMessage.offer_id).join(OfferMessageAttachment,
                                           OfferMessageAttachment.message_id == OfferMessage.id)
        .where(OfferMessageAttachment.id == file_id))


# --- read marks and unread counts ---------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """Where one party stands in a conversation."""

    member_id: int
    mark: int  # the newest message id they have read (0: none)
    unread: int  # the other side's messages after it

    def is_new(self, message: Message) -> bool:
        return message.sender_id != self.member_id and message.id > self.mark


@lru_cache(maxsize=1)
def _reading_statement() -> Select:
    """The member's read mark and the count of the other side's messages after it, built
    once. Parameters: offer_id, member_id."""
    offer_id, member_id = bindparam("offer_id", type_=Integer), bindparam("member_id",
                                                                            type_=Integer)
    mark = func.coalesce(
        select(ConversationRead.last_read_message_id)
        .where(ConversationRead.offer_id == offer_id,
               ConversationRead.member_id == member_id).scalar_subquery(), 0)
    return select(mark, select(func.count()).select_from(OfferMessage)
                  .where(OfferMessage.offer_id == offer_id, OfferMessage.sender_id != member_id,
                         OfferMessage.id > mark).scalar_subquery())


def reading_of(offer_id: int, member_id: int) -> Reading:
    """The member's read mark and unread count in the conversation; one query."""
    row = db.session.execute(_reading_statement(),
                             {"offer_id": offer_id, "member_id": member_id}).one()
    return Reading(member_id=member_id, mark=row[0], unread=row[1])


def unread_counts(member_id: int, offer_ids) -> dict[int, int]:
    """For each of the conversations (offer ids, or a subquery of them) with messages
    the member hasn't read: how many. One query."""
    if isinstance(offer_ids, (list, set, tuple)):
        if not offer_ids:
            return {}
        # a statement built once (building it per call cost more than running it)
        return dict(db.session.execute(_unread_in_listed_conversations(), {
            "member_id": member_id, "offer_ids": list(offer_ids)}).all())
    return dict(db.session.execute(_unread_by_conversation(member_id, offer_ids)).all())


@lru_cache(maxsize=1)
def _unread_in_listed_conversations() -> Select:
    # parameters: member_id, offer_ids (a list)
    return _unread_by_conversation(bindparam("member_id", type_=Integer),
                                   bindparam("offer_ids", expanding=True))


def _unread_by_conversation(member, offer_ids) -> Select:
    """(offer id, unread count) for ``member`` (an id or a bound parameter)."""
    return (select(OfferMessage.offer_id, func.count())
            .outerjoin(ConversationRead, and_(ConversationRead.offer_id == OfferMessage.offer_id,
                                              ConversationRead.member_id == member))
            .where(OfferMessage.offer_id.in_(offer_ids), OfferMessage.sender_id != member,
                   OfferMessage.id > func.coalesce(ConversationRead.last_read_message_id, 0))
            .group_by(OfferMessage.offer_id))


class UnreadConversation(NamedTuple):
    """A conversation of the member's with messages they haven't read (the dashboard)."""

    offer_id: int
    gig_title: str
    project_id: int | None  # the project the offer became, where the talk goes on
    unread: int


@lru_cache(maxsize=1)
def _unread_in_all_conversations() -> Select:
    # built once (the dashboard runs it on every visit); parameter: member_id
    member = bindparam("member_id")
    mine = union(select(Offer.id).where(Offer.member_id == member),
                 select(Offer.id).join(Gig, Gig.id == Offer.gig_id)
                 .where(Gig.poster_id == member)).subquery()
    return _unread_by_conversation(member, select(mine.c.id))


@lru_cache(maxsize=1)
def _conversation_titles() -> Select:
    # parameter: ids (offer ids); built once, after create_app named the projects table
    return (select(Offer.id, Gig.title, _project_id_of(Offer.id))
            .join(Gig, Gig.id == Offer.gig_id)
            .where(Offer.id.in_(bindparam("ids", expanding=True))))


def unread_conversations(member_id: int, limit: int = 10) -> list[UnreadConversation]:
    """The member's conversations (as offerer or as poster) with unread messages, most
    unread first; two queries."""
    counts = dict(db.session.execute(_unread_in_all_conversations(),
                                     {"member_id": member_id}).all())
    top = sorted(counts.items(), key=lambda item: (-item[1], -item[0]))[:limit]
    if not top:
        return []
    rows = {offer_id: (title, project_id) for offer_id, title, project_id in db.session.execute(
        _conversation_titles(), {"ids": [offer_id for offer_id, _ in top]})}
    return [UnreadConversation(offer_id, *rows[offer_id], unread) for offer_id, unread in top]


# --- the inbox ----------------------------------------------------------------------------

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
    stmt = (select(read.offer_id, _project_id_of(Offer.id), Gig.id, Gig.title,
                   other.username, func.coalesce(other.display_name, other.username),
                   read.last_message_at, func.substr(last.body, 1, PREVIEW_CHARS + 1),
                   last.sender_id == me, unread)
            .select_from(read)
            .join(Offer, Offer.id == read.offer_id)
            .join(Gig, Gig.id == Offer.gig_id)
            .join(other, other.id == case((Offer.member_id == me, Gig.poster_id),
                                          else_=Offer.member_id))
            .outerjoin(last, last.id == read.last_message_id)
            .where(read.member_id == me)
            .order_by(read.last_message_at.desc(), read.offer_id.desc())
            .limit(bindparam("limit", type_=Integer)))
    if paged:
        stmt = stmt.where(tuple_(read.last_message_at, read.offer_id) < tuple_(
            bindparam("after_at", type_=read.last_message_at.type),
            bindparam("after_id", type_=Integer)))
    return stmt


def inbox_page(member_id: int, cursor: str | None = None, size: int | None = None) -> Page:
    """The member's conversations (as offerer or as poster, before and after the award),
    newest activity first, with the other party, the gig and the unread count; a page
    of InboxConversation at a time (the cursor is the last one's time and offer id).
    One query."""
    size = size or current_app.config["PAGE_SIZE"]
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


# --- the top bar --------------------------------------------------------------------------

@lru_cache(maxsize=1)
def unread_total_statement() -> Select:
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
    return db.session.scalar(unread_total_statement(), {"member_id": member_id}) or 0


@lru_cache(maxsize=1)
def _top_bar_statement() -> Select:
    notifications = (select(func.count()).select_from(Notification)
                     .where(Notification.user_id == bindparam("member_id", type_=Integer),
                            Notification.read_at.is_(None)).scalar_subquery())
    return select(notifications, unread_total_statement().scalar_subquery())


def top_bar_counts(member_id: int) -> tuple[int, int]:
    """(unread notifications, unread messages) for the top bar, in one query: the
    layout shows both on every page, so the second costs no round trip."""
    notifications, messages = db.session.execute(_top_bar_statement(),
                                                 {"member_id": member_id}).one()
    return notifications, messages or 0
