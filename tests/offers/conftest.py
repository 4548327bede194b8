"""Offer fixtures: gigs (from the gig tests), funded members, an offer factory, a race.

``make_offer(gig, member, fee_kind="postpaid", price_minor=..., ...)`` sends an offer
through the real service with a fresh idempotency key.
"""

from __future__ import annotations

import itertools

import pytest

from offload.offers.services import make_offer as make_offer_service
from tests.gigs.conftest import _empty_search_index, make_gig  # noqa: F401  (fixtures)
from tests.wallet.conftest import fund, race  # noqa: F401  (fixtures)

_keys = itertools.count(1)


def new_key() -> str:
    return f"offer-key-{next(_keys)}"


@pytest.fixture
def make_offer():
    """Factory: ``make_offer(gig, member, fee_kind=None, price_minor=400_00, ...)``;
    task gigs default to a postpaid click."""

    def make(gig, member, **fields):
        values = {"price_minor": 400_00, "days_to_deliver": 10,
                  "cover_letter": "I have done this twice before.",
                  "fee_kind": fields.pop("fee_kind", "postpaid" if gig.kind == "task" else None),
                  "idempotency_key": new_key()}
        values.update(fields)
        return make_offer_service(gig, actor=member, **values)

    return make
