"""The order offers on a gig are placed in: by the offerer's rating, then by time.

The rating is the Bayesian average of ``offload.reviews`` (an offerer with no review
has the prior), compared as an exact integer — millionths of a star, by integer
division — so the order, the places and the keyset of the ranked list agree on both
databases. Ties go to the earlier offer (then the lower id).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, tuple_

from offload.core.db import db
from offload.reviews.models import MemberRating
from offload.reviews.ranking import rating_key

from .models import LIVE_STATES, Offer


def ranked(stmt):
    """``stmt`` (selecting offers) with the offerer's rating joined in."""
    return stmt.outerjoin(MemberRating, MemberRating.member_id == Offer.member_id)


def rank_order() -> tuple:
    return (rating_key().asc(), Offer.created_at.asc(), Offer.id.asc())


def after(key) -> ColumnElement[bool]:
    """Offers placed after ``key`` (the keyset for the next page): a tuple of values,
    or a ``tuple_`` of bound parameters."""
    return tuple_(rating_key(), Offer.created_at, Offer.id) > key


def places_of(offer_ids: list[int]) -> dict[int, int]:
    """The place (1 = first) of each live offer among its gig's live offers; one query."""
    if not offer_ids:
        return {}
    gigs = select(Offer.gig_id).where(Offer.id.in_(offer_ids))
    places = ranked(
        select(Offer.id.label("id"),
               func.row_number().over(partition_by=Offer.gig_id,
                                      order_by=rank_order()).label("place"))
        .where(Offer.gig_id.in_(gigs), Offer.state.in_(LIVE_STATES))).subquery()
    return dict(db.session.execute(
        select(places.c.id, places.c.place).where(places.c.id.in_(offer_ids))).all())
