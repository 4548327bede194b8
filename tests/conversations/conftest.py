"""Conversation fixtures: the offer tests' people and gigs (tests/support/offers.py);
``make_gig``, ``make_offer``, ``fund`` and ``race`` are everyone's
(tests/support/fixtures.py)."""

from tests.support.offers import bob, carol, poster, stranger, task_gig  # noqa: F401
