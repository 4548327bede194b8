"""Invite fixtures: a small invite tree (the invite and admin tests; a plugin loaded by
tests/conftest.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def tree(make_member):
    """root ─ a ─ a1 ─ a11
                 └ a2
            └ b ─ b1"""
    root = make_member("root", admin=True)
    a = make_member("a", inviter=root)
    b = make_member("b", inviter=root)
    a1 = make_member("a1", inviter=a)
    a2 = make_member("a2", inviter=a)
    a11 = make_member("a11", inviter=a1)
    b1 = make_member("b1", inviter=b)
    return {u.username: u for u in (root, a, b, a1, a2, a11, b1)}
