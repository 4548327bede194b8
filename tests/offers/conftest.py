"""Offer fixtures: ``make_offer(gig, member, fee_kind="postpaid", price_minor=..., ...)``
is shared (tests/support/fixtures.py); importable here for conftests that import it."""

from __future__ import annotations

from tests.support.factories import new_key as _new_key
from tests.support.fixtures import make_offer  # noqa: F401


def new_key() -> str:
    return _new_key("offer-key")
