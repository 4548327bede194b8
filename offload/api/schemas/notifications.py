"""A member's notifications."""

from __future__ import annotations

from flask import current_app
from marshmallow import fields

from .common import Schema, page_schema


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    subject = fields.String(allow_none=True, required=True,
                            metadata={"description": "What it is about (a gig's title)"})
    html_url = fields.Method("_html_url", allow_none=True, required=True, metadata={
        "type": ["string", "null"], "format": "uri",
        "description": "The page it links to, if any"})
    created_at = fields.DateTime(required=True)
    read_at = fields.DateTime(allow_none=True, required=True)

    def _html_url(self, notification) -> str | None:
        if not notification.link:
            return None
        return current_app.config["CANONICAL_URL"].rstrip("/") + notification.link


NotificationPageSchema = page_schema(NotificationSchema, "NotificationPage")


class MarkedReadSchema(Schema):
    marked = fields.Integer(required=True, metadata={
        "description": "How many notifications were unread and are now read"})
