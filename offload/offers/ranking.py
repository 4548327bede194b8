"""The order offers on a gig are placed in: by the offerer's rating, then by time.

Until reviews exist every member's rating is the prior, so the order is by time
(then id, which breaks ties between offers made in the same microsecond). The
reputation issue puts the member's rating first in ``RANK_ORDER`` and in the keyset.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, tuple_

from offload.core.db import db

from .models import LIVE_STATES, Offer

RANK_ORDER = (Offer.created_at.asc(), Offer.id.asc())


def after_key(offer: Offer) -> ColumnElement[bool]:
    """Offers placed after ``offer`` (the keyset for the next page)."""
    return tuple_(Offer.created_at, Offer.id) > (offer.created_at, offer.id)


def places_of(offer_ids: list[int]) -> dict[int, int]:
    """The place (1 = first) of each live offer among its gig's live offers; one query."""
    if not offer_ids:
        return {}
    gigs = select(Offer.gig_id).where(Offer.id.in_(offer_ids))
    ranked = (select(Offer.id.label("id"),
                     func.row_number().over(partition_by=Offer.gig_id,
                                            order_by=RANK_ORDER).label("place"))
              .where(Offer.gig_id.in_(gigs), Offer.state.in_(LIVE_STATES)).subquery())
    return dict(db.session.execute(
        select(ranked.c.id, ranked.c.place).where(ranked.c.id.in_(offer_ids))).all())
