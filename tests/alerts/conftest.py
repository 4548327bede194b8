"""Alert fixtures: the gig factory and an empty search index for every test."""

from tests.gigs.conftest import _empty_search_index, make_gig  # noqa: F401  (fixtures)
