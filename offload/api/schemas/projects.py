"""Projects: the member's list, one project (the page's header, milestones and
commission), its timeline, and the bodies of what the project page's forms post
(a timeline event, completion, the invoice review, a milestone and its notes)."""

from __future__ import annotations

from marshmallow import fields, validate

from offload.commissions.models import INVOICE_REASON_MAX
from offload.core.links import external_url
from offload.milestones.models import NOTE_MAX, TITLE_MAX, MilestoneState
from offload.projects.models import EVENT_NOTE_MAX, POSTED_KINDS, EventKind, ProjectState

from .common import MemberNameSchema, Schema, page_schema

MINOR = {"description": "Integer minor units (cents)"}


def _states(enum) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])


class ProjectLinkSchema(Schema):
    """What every project answer has: its page on the site."""

    html_url = fields.Method("_html_url", required=True, metadata={
        "type": "string", "format": "uri", "description": "The project's page on the site"})

    def _html_url(self, project) -> str:
        return external_url("projects.show", project_id=project.id)


class GigTitleSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)


class ProjectSchema(ProjectLinkSchema):
    """A project as My projects lists it, newest first."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["task", "referral"]))
    state = fields.String(required=True, validate=_states(ProjectState))
    gig = fields.Nested(GigTitleSchema, required=True)
    poster = fields.Nested(MemberNameSchema, required=True, metadata={
        "description": "The referrer (a referral) or the customer (a task)"})
    performer = fields.Nested(MemberNameSchema, required=True)
    price_minor = fields.Integer(required=True, metadata=MINOR)
    currency = fields.String(required=True)
    due_on = fields.Date(required=True)
    created_at = fields.DateTime(required=True)
    last_event_at = fields.DateTime(required=True)


ProjectPageSchema = page_schema(ProjectSchema, "ProjectPage")


class GigTermsSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    commission_bps = fields.Integer(required=True, metadata={
        "description": "A referral's commission, in basis points of the invoiced amount"})
    platform_commission_bps = fields.Integer(required=True, metadata={
        "description": "The platform's part of it; the rest is the referrer's"})


class OfferTermsSchema(Schema):
    id = fields.Integer(required=True, metadata={
        "description": "The offer the project came from; its conversation's id"})
    state = fields.String(required=True)
    price_minor = fields.Integer(required=True, metadata={
        "description": "The agreed price, before any lowering by agreement (minor units)"})


class DisputeSchema(Schema):
    id = fields.Integer(required=True)
    opened_by_id = fields.Integer(required=True)
    statement = fields.String(required=True)
    reply = fields.String(required=True)
    outcome = fields.String(allow_none=True, required=True)
    released_minor = fields.Integer(allow_none=True, required=True, metadata={
        "description": "To the performer, once decided (minor units)"})
    reason = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    resolved_at = fields.DateTime(allow_none=True, required=True)


class MilestoneSchema(Schema):
    """A task project's milestone (``milestones.queries.MilestoneLine``)."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    amount_minor = fields.Integer(required=True, metadata=MINOR)
    due_on = fields.Date(required=True)
    state = fields.String(required=True, validate=_states(MilestoneState))
    delivery_note = fields.String(required=True)
    revision_note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    dispute = fields.Nested(DisputeSchema, allow_none=True, required=True)


class CommissionSchema(Schema):
    """A referral project's commission once the work is complete
    (``commissions.queries.CommissionLine``)."""

    id = fields.Integer(required=True)
    invoiced_minor = fields.Integer(required=True, metadata=MINOR)
    commission_minor = fields.Integer(required=True, metadata=MINOR)
    platform_minor = fields.Integer(required=True, metadata=MINOR)
    referrer_minor = fields.Integer(required=True, metadata=MINOR)
    commission_bps = fields.Integer(required=True)
    state = fields.String(required=True, validate=validate.OneOf(["due", "paid"]))
    due_on = fields.Date(required=True)
    paid_at = fields.DateTime(allow_none=True, required=True)
    invoice_reason = fields.String(allow_none=True, required=True, metadata={
        "description": "The performer's reason for an amount under the agreed price"})
    review_state = fields.String(required=True, metadata={
        "description": "The referrer's review of an amount under the agreed price"})
    review_due_at = fields.DateTime(allow_none=True, required=True)
    corrected_from_minor = fields.Integer(allow_none=True, required=True)


class ProjectDetailSchema(ProjectLinkSchema):
    """One project as the top of its page shows it (``projects.page.ProjectHeader``),
    with its milestones (a task) or its commission (a referral, once complete)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["task", "referral"]))
    state = fields.String(required=True, validate=_states(ProjectState))
    price_minor = fields.Integer(required=True, metadata=MINOR)
    days_to_deliver = fields.Integer(required=True)
    due_on = fields.Date(required=True)
    created_at = fields.DateTime(required=True)
    state_changed_at = fields.DateTime(required=True)
    last_event_at = fields.DateTime(required=True)
    gig = fields.Nested(GigTermsSchema, required=True)
    offer = fields.Nested(OfferTermsSchema, required=True)
    poster = fields.Nested(MemberNameSchema, required=True)
    performer = fields.Nested(MemberNameSchema, required=True)
    milestones = fields.List(fields.Nested(MilestoneSchema), required=True, metadata={
        "description": "A task project's, in the order they were added; empty for a referral"})
    commission = fields.Nested(CommissionSchema, allow_none=True, required=True)


class FileSchema(Schema):
    id = fields.Integer(required=True)
    original_name = fields.String(required=True)
    size_bytes = fields.Integer(required=True)


class TimelineEventSchema(Schema):
    """One event of the timeline (``projects.queries.TimelineEvent``)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=_states(EventKind))
    label = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Null: recorded by the site"})
    actor_name = fields.String(allow_none=True, required=True)
    note = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    files = fields.List(fields.Nested(FileSchema), required=True)


TimelineSchema = page_schema(TimelineEventSchema, "Timeline")


# --- what the project page's forms post -----------------------------------------------------

class EventBody(Schema):
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in POSTED_KINDS]),
                         metadata={"description": "What happened"})
    note = fields.String(required=True, validate=validate.Length(max=EVENT_NOTE_MAX))


class CompleteBody(Schema):
    invoiced_minor = fields.Integer(required=True, strict=True, metadata={
        "description": "The whole amount invoiced to the client, in minor units"})
    reason = fields.String(load_default="", validate=validate.Length(max=INVOICE_REASON_MAX),
                           metadata={"description": "Needed only under the agreed price"})


class ContestBody(Schema):
    statement = fields.String(required=True, validate=validate.Length(max=INVOICE_REASON_MAX),
                              metadata={"description": "Why the referrer contests the amount"})


class MilestoneBody(Schema):
    title = fields.String(required=True, validate=validate.Length(max=TITLE_MAX))
    amount_minor = fields.Integer(required=True, strict=True, metadata=MINOR)
    due_on = fields.Date(required=True)


class NoteBody(Schema):
    note = fields.String(required=True, validate=validate.Length(max=NOTE_MAX))
