"""Conversations: the member's inbox, one conversation's messages, a message sent.

A conversation is an offer's (the site names it by the offer's id, under
``/conversations/<offer id>``, and it goes on on the project the offer became), so its
``id`` is the offer's."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.conversations.models import MESSAGE_MAX

from .common import Schema, page_schema
from .projects import FileSchema


class ConversationSchema(Schema):
    """A line of the inbox (``conversations.queries.InboxConversation``)."""

    id = fields.Integer(attribute="offer_id", required=True, metadata={
        "description": "The conversation's id: its offer's"})
    project_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The project the offer became, where the talk goes on"})
    gig_id = fields.Integer(required=True)
    gig_title = fields.String(required=True)
    other_username = fields.String(required=True)
    other_name = fields.String(required=True)
    last_message_at = fields.DateTime(required=True)
    last_message_preview = fields.String(required=True)
    last_message_mine = fields.Boolean(required=True)
    unread = fields.Integer(required=True, metadata={
        "description": "The other side's messages after the member's read mark"})


ConversationPageSchema = page_schema(ConversationSchema, "ConversationPage")


class MessageSchema(Schema):
    """A message (``conversations.queries.Message``)."""

    id = fields.Integer(required=True)
    conversation_id = fields.Integer(attribute="offer_id", required=True)
    sender_id = fields.Integer(required=True)
    sender_name = fields.String(required=True)
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    files = fields.List(fields.Nested(FileSchema), required=True)


MessagesSchema = page_schema(MessageSchema, "Messages")


class MessageBody(Schema):
    body = fields.String(required=True, validate=validate.Length(max=MESSAGE_MAX))
