"""Conversation fixtures: gigs, offers and funded members through the real services (the
gig, offer and wallet tests' factories)."""

from __future__ import annotations

from tests.gigs.conftest import _empty_search_index, make_gig  # noqa: F401  (fixtures)
from tests.offers.conftest import make_offer  # noqa: F401  (fixture)
from tests.wallet.conftest import fund, race  # noqa: F401  (fixtures)
