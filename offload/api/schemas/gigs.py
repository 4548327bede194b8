"""Gigs: the board's items, one gig with its questions, the board's query string."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.core.links import external_url
from offload.gigs.filters import BoardSort
from offload.gigs.models import GigCategory, GigKind, GigState
from offload.gigs.search import QUERY_MAX_CHARS

from .common import CursorQuery, MemberNameSchema, Schema, choice, page_schema


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


GigPageSchema = page_schema(GigSchema, "GigPage")


class BoardQuery(CursorQuery):
    """The board's filters and sort, as the board page takes them."""

    q = fields.String(validate=validate.Length(max=QUERY_MAX_CHARS),
                      metadata={"description": "Words to search for (all must match)"})
    kind = choice(GigKind, "Kind of gig")
    category = choice(GigCategory, "Category")
    skills = fields.String(metadata={"description": "Skills, comma separated (any of them)"})
    budget_min = fields.String(metadata={
        "description": "An amount such as 150 or 99.50: budgets reaching at least this"})
    budget_max = fields.String(metadata={
        "description": "An amount: budgets starting at most at this"})
    due_by = fields.Date(metadata={"description": "Deadline on or before this day"})
    sort = choice(BoardSort, "Order: relevance (with q), newest, budget, deadline")


# --- bodies of the gig writes (the gig form's fields; the service checks the rules) -------

def _gig_fields(*, posting: bool) -> dict[str, fields.Field]:
    """The gig form's fields: all required when posting (but the highest budget and
    the client's), each optional in a PATCH (what is left out keeps its value)."""
    needed = {"required": posting}
    return {
        "title": fields.String(**needed, metadata={"description": "One line"}),
        "description": fields.String(**needed, metadata={"description": "Markdown"}),
        "skills": fields.List(fields.String(), **needed, metadata={
            "description": "1 to 10 skill names; new names join the shared list"}),
        "category": fields.String(**needed, validate=validate.OneOf(
            [c.value for c in GigCategory]), metadata={"description": "Category"}),
        "budget_min_minor": fields.Integer(strict=True, **needed, metadata={
            "description": "The lowest budget, in minor units (cents)"}),
        "budget_max_minor": fields.Integer(strict=True, metadata={
            "description": "The highest budget, in minor units; left out when posting: a "
                           "fixed budget (the lowest)"}),
        "deadline": fields.Date(**needed, metadata={
            "description": "The day the work is due (after today)"}),
        "client_name": fields.String(metadata={
            "description": "A referral's client (referral gigs only; seen by the poster, "
                           "the member awarded and admins)"}),
        "client_contact": fields.String(metadata={
            "description": "How to reach the client (referral gigs only)"}),
        "client_notes": fields.String(metadata={
            "description": "Notes about the client (referral gigs only)"}),
    }


# Lengths, the budget's order and the deadline's window are the service's rules, each
# answered as a 422 naming the field (as the form shows them beside it).
GigEditBody = Schema.from_dict(_gig_fields(posting=False), name="GigEditBody")
GigPostBody = Schema.from_dict({
    "kind": fields.String(required=True, validate=validate.OneOf([k.value for k in GigKind]),
                          metadata={"description": "referral: client work passed on "
                                                   "(commission on completion); task: work "
                                                   "the poster wants done (milestones)"}),
    **_gig_fields(posting=True)}, name="GigPostBody")


class CancelBody(Schema):
    reason = fields.String(load_default=None, metadata={
        "description": "Why (optional for the poster; an admin cancelling another's gig "
                       "must say why). Members see it on the gig."})


class QuestionBody(Schema):
    body = fields.String(required=True, metadata={
        "description": "The question; every member sees it and its answer"})


class AnswerBody(Schema):
    answer = fields.String(required=True, metadata={
        "description": "The answer, shown under the question for everyone"})
