"""Conversations as the inbox and the offer and project pages read and write them.

A conversation is an offer's: the site names it by the offer's id
(``/conversations/<offer id>/messages``), and so does the API. Who may read it is who
may see the offer (``offer_for``: the two sides and admins; everyone else a 404, before
the body is read); who may write is the service's rule. A message over the API is its
text; files are sent on the page.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from offload.accounts.models import TokenScope
from offload.conversations.queries import inbox_page, messages_after
from offload.conversations.services import send_offer_message
from offload.core.links import external_url
from offload.offers.queries import offer_for

from ..blueprint import LINK_HEADER, LOCATION_HEADER, READ, bp, loaded, needs, problem_response
from ..paging import paged, polled
from ..schemas.common import CursorQuery, SinceQuery
from ..schemas.conversations import (
    ConversationPageSchema,
    MessageBody,
    MessageSchema,
    MessagesSchema,
)

PROJECTS = TokenScope.PROJECTS.value
NOT_YOURS = "No such conversation, or one the member is not a side of"


@bp.route("/conversations", tags=["conversations"])
@needs(READ)
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, ConversationPageSchema, headers=LINK_HEADER)
def conversations(member, cursor: str | None = None, limit: int | None = None):
    """The member's conversations, newest activity first, with their unread counts: the
    inbox"""
    page = inbox_page(member.id, cursor, size=limit)
    return paged(page.items, page.next_cursor)


@needs(READ)
@loaded("conversation", offer_for)
@problem_response(404, NOT_YOURS)
@bp.arguments(SinceQuery, location="query", as_kwargs=True)
@bp.response(200, MessagesSchema, headers=LINK_HEADER)
def messages(member, conversation, since: int = 0, limit: int | None = None):
    """The conversation's messages, oldest first, after `since`. `next` is always there:
    follow it for more, and poll it later for new messages"""
    size = limit or current_app.config["MESSAGES_PAGE_SIZE"]
    return polled(messages_after(conversation.id, since, size), since)


@needs(PROJECTS)
@loaded("conversation", offer_for)
@problem_response(404, NOT_YOURS)
@problem_response(409, "The conversation is closed: the offer is no longer open")
@bp.arguments(MessageBody, as_kwargs=True)
@bp.response(201, MessageSchema, headers=LOCATION_HEADER)
def send_message(member, conversation, body: str):
    """Write to the other side (of the offer, and of the project it became); they are
    told"""
    sent = send_offer_message(conversation, actor=member, body=body)
    (message,) = messages_after(conversation.id, sent.id - 1, 1)
    return message, 201, {"Location": external_url(
        "api.messages", conversation_id=conversation.id, _query=f"since={sent.id - 1}")}


# one rule for reading and writing: with two rules on one path, a POST to an id too big
# for the database would be a 405 (werkzeug checks the GET rule's method before the POST
# rule's converter refuses the id), where every other route answers 404
@bp.route("/conversations/<int:conversation_id>/messages", endpoint="messages",
          tags=["conversations"])
class Messages(MethodView):
    get = staticmethod(messages)
    post = staticmethod(send_message)
