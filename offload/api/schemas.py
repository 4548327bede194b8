"""The shapes of the API's answers and query strings (marshmallow), from which the
OpenAPI document is generated. Each response schema dumps a read model the pages render
(``SignedIn``, ``GigListItem``, ``GigDetail``, ``QuestionItem``, ...) as it is:
attributes are read by name, nothing is loaded for the API alone.
"""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from offload.accounts.models import TokenScope
from offload.core.links import external_url
from offload.gigs.filters import BoardSort
from offload.gigs.models import GigCategory, GigKind, GigState
from offload.gigs.search import QUERY_MAX_CHARS


class Schema(ma.Schema):
    class Meta:
        ordered = True


# --- errors -----------------------------------------------------------------------------

class FieldErrorSchema(Schema):
    in_ = fields.String(data_key="in", required=True,
                        metadata={"description": "query, path or body"})
    field = fields.String(required=True)
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """An error, as RFC 9457 problem details."""

    type = fields.String(required=True, metadata={
        "description": "A stable URI naming the kind of problem: urn:offload:problem:<slug>"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema), metadata={
        "description": "For invalid input: each field and what was wrong with it"})


# --- members ----------------------------------------------------------------------------

class MemberNameSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    name = fields.String(required=True)


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


# --- gigs -------------------------------------------------------------------------------

class SkillSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True)


class GigSchema(Schema):
    """A gig as the board lists it (``gigs.board.GigListItem``). Amounts are integer
    minor units of ``currency`` (cents)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in GigKind]))
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in GigState]))
    title = fields.String(required=True)
    budget_min_minor = fields.Integer(required=True)
    budget_max_minor = fields.Integer(required=True)
    currency = fields.String(required=True)
    deadline = fields.Date(required=True)
    published_at = fields.DateTime(allow_none=True, required=True)
    poster = fields.Nested(MemberNameSchema, required=True)
    skills = fields.List(fields.Nested(SkillSchema), required=True)
    html_url = fields.Method("_html_url", required=True, metadata={
        "type": "string", "format": "uri", "description": "The gig's page on the site"})

    def _html_url(self, gig) -> str:
        return external_url("gigs.show", gig_id=gig.id)


class QuestionSchema(Schema):
    id = fields.Integer(required=True)
    body = fields.String(required=True)
    answer = fields.String(allow_none=True, required=True)
    answered_at = fields.DateTime(allow_none=True, required=True)
    created_at = fields.DateTime(required=True)
    asker = fields.Nested(MemberNameSchema, required=True)


class ClientDetailsSchema(Schema):
    client_name = fields.String(required=True)
    contact = fields.String(required=True)
    notes = fields.String(required=True)


class GigDetailSchema(GigSchema):
    """One gig as its page shows it (``gigs.queries.GigPage``): the list's fields, the
    description (markdown), the questions and their answers (oldest first), and the
    referral's client details for those who may see them (else null)."""

    description = fields.String(required=True, metadata={"description": "Markdown"})
    category = fields.String(required=True, validate=validate.OneOf(
        [c.value for c in GigCategory]))
    commission_bps = fields.Integer(required=True, metadata={
        "description": "A referral's commission, in basis points of the invoiced amount"})
    cancel_reason = fields.String(allow_none=True, required=True)
    questions = fields.List(fields.Nested(QuestionSchema), required=True)
    client_details = fields.Nested(ClientDetailsSchema, allow_none=True, required=True)


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """A page of ``item``s: the items and the URL of the next page (null on the last)."""
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item), required=True),
        "next": fields.String(allow_none=True, required=True, metadata={
            "description": "The next page (also in the Link header, rel=next); null on "
                           "the last page"}),
    }, name=name)


GigPageSchema = page_schema(GigSchema, "GigPage")


# --- query strings ----------------------------------------------------------------------

def _choice(enum, description: str) -> fields.String:
    return fields.String(validate=validate.OneOf([m.value for m in enum]),
                         metadata={"description": description})


PAGE_SIZE_MAX = 100


class CursorQuery(Schema):
    cursor = fields.String(metadata={"description": "From a previous page's `next`"})
    limit = fields.Integer(validate=validate.Range(min=1, max=PAGE_SIZE_MAX), metadata={
        "description": "Items per page (default: the site's page size)"})


class BoardQuery(CursorQuery):
    """The board's filters and sort, as the board page takes them."""

    q = fields.String(validate=validate.Length(max=QUERY_MAX_CHARS),
                      metadata={"description": "Words to search for (all must match)"})
    kind = _choice(GigKind, "Kind of gig")
    category = _choice(GigCategory, "Category")
    skills = fields.String(metadata={"description": "Skills, comma separated (any of them)"})
    budget_min = fields.String(metadata={
        "description": "An amount such as 150 or 99.50: budgets reaching at least this"})
    budget_max = fields.String(metadata={
        "description": "An amount: budgets starting at most at this"})
    due_by = fields.Date(metadata={"description": "Deadline on or before this day"})
    sort = _choice(BoardSort, "Order: relevance (with q), newest, budget, deadline")


# --- notifications ----------------------------------------------------------------------

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
