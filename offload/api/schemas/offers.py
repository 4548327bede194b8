"""Offers: one offer as its maker or the gig's poster sees it, the member's offers with
their places, a gig's ranked offers for its poster, and the bodies of the offer writes.

Amounts are integer minor units (cents) of the site's currency. The request bodies have
the offer forms' fields; the rules (amounts, days, fees, portfolio, who and when) are
the services', answered as problems naming the body's field.
"""

from __future__ import annotations

from marshmallow import fields, validate

from offload.core.links import external_url
from offload.gigs.models import GigKind, GigState
from offload.offers.models import FeeKind, OfferClosedReason, OfferState, ProposalState

from .common import CursorQuery, MemberNameSchema, RatingSchema, Schema, choice, page_schema


def _one_of(enum) -> validate.OneOf:
    return validate.OneOf([member.value for member in enum])


class _OfferUrl(Schema):
    html_url = fields.Method("_html_url", required=True, metadata={
        "type": "string", "format": "uri", "description": "The offer's page on the site"})

    def _html_url(self, offer) -> str:
        return external_url("offers.show", offer_id=offer.id)


class GigRefSchema(Schema):
    """The gig an offer is on."""

    id = fields.Integer(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True, validate=_one_of(GigKind))
    state = fields.String(required=True, validate=_one_of(GigState))
    poster_id = fields.Integer(required=True)


class PortfolioLinkSchema(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    url = fields.String(required=True)


class _Terms(_OfferUrl):
    id = fields.Integer(required=True)
    state = fields.String(required=True, validate=_one_of(OfferState))
    closed_reason = fields.String(allow_none=True, required=True, validate=_one_of(
        OfferClosedReason), metadata={"description": "Why the site closed it (the gig was "
                                                     "cancelled, another was chosen, ...)"})
    price_minor = fields.Integer(required=True, metadata={
        "description": "The terms agreed so far: the offerer's, or the last accepted "
                       "proposal's"})
    days_to_deliver = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)


class ProposalSchema(Schema):
    """New terms one side proposed; the other side accepts, declines or counters."""

    id = fields.Integer(required=True)
    proposer = fields.Nested(MemberNameSchema, required=True)
    price_minor = fields.Integer(required=True)
    days_to_deliver = fields.Integer(required=True)
    note = fields.String(required=True)
    state = fields.String(required=True, validate=_one_of(ProposalState))
    created_at = fields.DateTime(required=True)
    responded_at = fields.DateTime(allow_none=True, required=True)


class OfferSchema(_Terms):
    """One offer as its page shows it (``offers.queries.OfferPage``), to its maker, the
    gig's poster and admins."""

    gig = fields.Nested(GigRefSchema, required=True)
    member = fields.Nested(MemberNameSchema, required=True, metadata={
        "description": "Who made it"})
    cover_letter = fields.String(required=True, metadata={"description": "Markdown"})
    fee_kind = fields.String(required=True, validate=_one_of(FeeKind), metadata={
        "description": "free (referral gigs), prepaid (charged when sent) or postpaid "
                       "(held, charged if the award is accepted)"})
    fee_minor = fields.Integer(required=True)
    decline_reason = fields.String(allow_none=True, required=True)
    state_changed_at = fields.DateTime(required=True)
    portfolio_items = fields.List(fields.Nested(PortfolioLinkSchema), required=True)
    place = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Its place among the gig's live offers (1 = first); null once "
                       "not live"})
    live_count = fields.Integer(required=True, metadata={
        "description": "How many live offers the gig has"})
    proposals = fields.List(fields.Nested(ProposalSchema), required=True, metadata={
        "description": "Oldest first; at most one pending"})
    project_id = fields.Integer(allow_none=True, required=True, metadata={
        "description": "The project the accepted award started (else null)"})
    project_url = fields.String(allow_none=True, required=True, metadata={
        "format": "uri", "description": "That project in the API (else null)"})


class MyOfferSchema(_Terms):
    """One of the member's offers as "My offers" lists it, with its place."""

    gig = fields.Nested(GigRefSchema, required=True)
    fee_kind = fields.String(required=True, validate=_one_of(FeeKind))
    fee_minor = fields.Integer(required=True)
    state_changed_at = fields.DateTime(required=True)
    place = fields.Integer(allow_none=True, required=True, metadata={
        "description": "Its place among the gig's live offers; null once not live"})


class RankedOfferSchema(_Terms):
    """A live offer in the poster's ranked list (``offers.queries.RankedOffer``)."""

    gig_id = fields.Integer(required=True)
    member = fields.Nested(MemberNameSchema, required=True)
    rating = fields.Nested(RatingSchema, required=True, metadata={
        "description": "The offerer's rating, which ranks the offer"})
    cover_letter = fields.String(required=True, metadata={"description": "Markdown"})
    portfolio_items = fields.List(fields.Nested(PortfolioLinkSchema), required=True)
    place = fields.Integer(required=True, metadata={"description": "1 = first"})


MyOfferPageSchema = page_schema(MyOfferSchema, "MyOfferPage")
RankedOfferPageSchema = page_schema(RankedOfferSchema, "RankedOfferPage")


class MyOffersQuery(CursorQuery):
    state = choice(OfferState, "Only offers in this state")


# --- bodies -------------------------------------------------------------------------------

def _price(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, required=True, metadata={
        "description": "The price for the whole job, in minor units (cents)"}, **kwargs)


def _days() -> fields.Integer:
    return fields.Integer(strict=True, required=True, metadata={
        "description": "Days to deliver, counted from the day the award is accepted"})


class OfferBody(Schema):
    price_minor = _price()
    days_to_deliver = _days()
    cover_letter = fields.String(required=True, metadata={
        "description": "Why you are the one for this (markdown)"})
    fee_kind = fields.String(load_default=None, validate=validate.OneOf(
        [FeeKind.PREPAID.value, FeeKind.POSTPAID.value]), metadata={
        "description": "Task gigs only, and required there: prepaid (charged now, never "
                       "returned) or postpaid (held now, charged only if you are chosen "
                       "and accept). Offers on referral gigs are free."})
    portfolio_item_ids = fields.List(fields.Integer(strict=True), load_default=list,
                                     metadata={"description": "Up to 5 of your portfolio "
                                                              "items to show"})


class TermsBody(Schema):
    price_minor = _price()
    days_to_deliver = _days()
    note = fields.String(load_default="", metadata={"description": "Optional"})


class DeclineBody(Schema):
    reason = fields.String(load_default=None, metadata={
        "description": "Optional; the member who made the offer sees it"})


class ShortlistBody(Schema):
    shortlisted = fields.Boolean(load_default=True, metadata={
        "description": "false takes the offer off the shortlist"})
