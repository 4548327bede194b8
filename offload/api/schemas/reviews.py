"""Reviews: a member's published reviews, and the body of a review being written."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.reviews.models import BODY_MAX

from .common import MemberNameSchema, Schema, page_schema


class ReplySchema(Schema):
    body = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class ReviewSchema(Schema):
    """A review (``reviews.models.Review``, its author loaded), with the reviewed
    member's reply if there is one. ``published_at`` is null while it is hidden (until
    the other side's review is in, or the review window closes)."""

    id = fields.Integer(required=True)
    project_id = fields.Integer(required=True)
    author = fields.Nested(MemberNameSchema, required=True)
    stars = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    body = fields.String(required=True)
    submitted_at = fields.DateTime(required=True)
    published_at = fields.DateTime(allow_none=True, required=True)
    reply = fields.Nested(ReplySchema, allow_none=True, required=True)


ReviewPageSchema = page_schema(ReviewSchema, "ReviewPage")


class SkillStarsBody(Schema):
    skill = fields.String(required=True, metadata={"description": "The skill's slug"})
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))


class ReviewBody(Schema):
    stars = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    body = fields.String(required=True, validate=validate.Length(max=BODY_MAX))
    skill_stars = fields.List(fields.Nested(SkillStarsBody), load_default=list, metadata={
        "description": "The poster rates the performer in each skill of the gig (every "
                       "one); the performer sends none"})
