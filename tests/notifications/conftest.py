"""Notification fixtures: projects started the real way (for the flows that notify)."""

from tests.projects.conftest import (  # noqa: F401  (fixtures)
    _empty_search_index,
    fund,
    make_gig,
    make_offer,
    performer,
    referrer,
    start_project,
)
