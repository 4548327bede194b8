"""Offer fixtures: the poster, bob, carol, a stranger and the poster's gigs, shared with
the conversation tests (tests/support/offers.py); ``make_offer`` is everyone's
(tests/support/fixtures.py)."""

from tests.support.offers import bob, carol, poster, referral_gig, stranger, task_gig  # noqa: F401
