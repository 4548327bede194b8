"""Review fixtures: an outsider. ``completed`` (a referral
project started and completed the real way) is shared (tests/support/fixtures.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def outsider(make_member):
    return make_member("outsider", display_name="Otto Outsider")
