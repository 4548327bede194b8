"""Dashboard fixtures: gigs, offers and projects made the real way."""

from tests.gigs.conftest import _empty_search_index, make_gig  # noqa: F401  (fixtures)
from tests.offers.conftest import make_offer  # noqa: F401  (fixture)
from tests.projects.conftest import performer, referrer, start_project  # noqa: F401
from tests.wallet.conftest import fund  # noqa: F401  (fixture)
