"""The member a token speaks for; the member directory and a member's profile."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.accounts.models import TokenScope
from offload.core.links import external_url
from offload.reviews.member_search import AVAILABILITY, COMPLETED_MAX, QUERY_MAX

from .common import CursorQuery, MemberNameSchema, RatingSchema, Schema, page_schema
from .gigs import SkillSchema


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


# --- the directory and profiles ---------------------------------------------------------

class MemberCardSchema(Schema):
    """A member as the directory lists them (``reviews.member_search.MemberResult``)."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    name = fields.String(required=True)
    account_type = fields.String(required=True, validate=validate.OneOf(
        ["individual", "organization"]))
    work_role = fields.String(required=True, validate=validate.OneOf(
        ["pass_on", "take_on", "both"]))
    headline = fields.String(required=True)
    location = fields.String(required=True)
    available = fields.Boolean(required=True)
    projects_completed = fields.Integer(required=True, metadata={
        "description": "As the performer"})
    skills = fields.List(fields.Nested(SkillSchema), required=True)
    rating = fields.Nested(RatingSchema, required=True)
    html_url = fields.Method("_html_url", required=True, metadata={
        "type": "string", "format": "uri", "description": "The profile page on the site"})

    def _html_url(self, member) -> str:
        return external_url("profiles.show", username=member.username)


MemberPageSchema = page_schema(MemberCardSchema, "MemberPage")


class EducationSchema(Schema):
    school = fields.String(required=True)
    degree = fields.String(required=True)
    field_of_study = fields.String(required=True)
    start_year = fields.Integer(required=True)
    end_year = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Null: still studying there"})


class PortfolioItemSchema(Schema):
    title = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True, metadata={"description": "Markdown"})


class SkillRatingSchema(Schema):
    skill = fields.Nested(SkillSchema, required=True)
    rating = fields.Nested(RatingSchema, required=True)


class ProfileSchema(MemberCardSchema):
    """A member's profile page (``profiles.queries.ProfilePage`` and their ratings)."""

    organization_name = fields.String(allow_none=True, required=True)
    bio = fields.String(required=True, metadata={"description": "Markdown"})
    is_suspended = fields.Boolean(required=True)
    joined_at = fields.DateTime(required=True)
    invited_by = fields.Nested(MemberNameSchema, allow_none=True, required=True)
    skill_ratings = fields.List(fields.Nested(SkillRatingSchema), required=True, metadata={
        "description": "Per skill, from the posters' reviews; best first"})
    portfolio = fields.List(fields.Nested(PortfolioItemSchema), required=True)
    education = fields.List(fields.Nested(EducationSchema), required=True)


class MemberQuery(CursorQuery):
    """The directory's filters, as its page takes them."""

    q = fields.String(validate=validate.Length(max=QUERY_MAX), metadata={
        "description": "Words in the member's username or name (all must match)"})
    skill = fields.String(validate=validate.Length(max=60),
                          metadata={"description": "A skill's name or slug"})
    rating = fields.Float(validate=validate.Range(min=1, max=5), metadata={
        "description": "At least this many stars, halves allowed (4.5)"})
    completed = fields.Integer(validate=validate.Range(min=0, max=COMPLETED_MAX), metadata={
        "description": "At least this many projects completed as the performer"})
    availability = fields.String(validate=validate.OneOf(AVAILABILITY))
    type = fields.String(validate=validate.OneOf(["individual", "organization"]),
                         metadata={"description": "Account type"})
    work = fields.String(validate=validate.OneOf(["take_on", "pass_on"]), metadata={
        "description": "Members who mainly take on (or pass on) work, and those who do both"})
