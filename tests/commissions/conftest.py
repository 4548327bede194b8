"""Commission fixtures: the project fixtures (a referral project started for real)."""

from tests.projects.conftest import (  # noqa: F401  (fixtures)
    _empty_search_index,
    fund,
    make_gig,
    make_offer,
    performer,
    referrer,
    start_project,
)
from tests.wallet.conftest import withdraw  # noqa: F401  (fixture)
