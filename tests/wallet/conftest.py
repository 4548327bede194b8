"""Wallet fixtures: an admin. ``fund``, ``withdraw`` and ``race`` are everyone's
(tests/support/fixtures.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin(make_member):
    return make_member("boss", admin=True)
