"""The member a token speaks for."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.accounts.models import TokenScope

from .common import Schema


class MeSchema(Schema):
    """The member the token speaks for (``accounts.queries.SignedIn``)."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    account_type = fields.String(required=True, validate=validate.OneOf(
        ["individual", "organization"]))
    organization_name = fields.String(allow_none=True, required=True)
    work_role = fields.String(required=True, validate=validate.OneOf(
        ["pass_on", "take_on", "both"]))
    is_admin = fields.Boolean(required=True)
    is_confirmed = fields.Boolean(required=True)
    unread_notifications = fields.Integer(required=True)
    unread_messages = fields.Integer(required=True)
    scopes = fields.List(fields.String(validate=validate.OneOf([s.value for s in TokenScope])),
                         required=True, metadata={"description": "What this token may do"})
