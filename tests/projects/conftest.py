"""Project fixtures: a project started the real way (offer, award, acceptance)."""

from __future__ import annotations

import pytest

from offload.offers.services import accept_award, award_offer
from tests.gigs.conftest import _empty_search_index, make_gig  # noqa: F401  (fixtures)
from tests.offers.conftest import make_offer  # noqa: F401  (fixture)
from tests.wallet.conftest import fund  # noqa: F401  (fixture)


@pytest.fixture
def referrer(make_member):
    return make_member("referrer", display_name="Rita Referrer")


@pytest.fixture
def performer(make_member):
    return make_member("performer", display_name="Pete Performer")


@pytest.fixture
def start_project(make_gig, make_offer, referrer, performer):  # noqa: F811
    """``start_project(kind="referral", **gig_fields)``: the referrer's gig, awarded to
    the performer, who accepts; returns the project."""

    def start(kind: str = "referral", **gig_fields):
        gig = make_gig(poster=referrer, kind=kind, **gig_fields)
        offer = make_offer(gig, performer, fee_kind="prepaid" if kind == "task" else None)
        award_offer(offer, actor=referrer)
        return accept_award(offer, actor=performer)

    return start
