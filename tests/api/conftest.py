"""The API tests' own fixtures: a member's bearer token; and the offer tests' people
and gigs (tests/support/offers.py)."""

from __future__ import annotations

import pytest

from offload.accounts.services import create_personal_token
from tests.support.offers import bob, carol, poster, referral_gig, stranger, task_gig  # noqa: F401


@pytest.fixture
def bearer(app):
    """``bearer(member, "read", ...)``: the Authorization header of a new token of the
    member's with those scopes (``read`` if none)."""

    def make(member, *scopes: str, days: int = 30) -> dict[str, str]:
        secret = create_personal_token(actor=member, name="A script",
                                       scopes=list(scopes or ["read"]), days=days).secret
        return {"Authorization": f"Bearer {secret}"}

    return make
