"""Admin page fixtures: a withdrawal waiting in the queue. The features' own (the case
family, projects started the real way, the small invite tree) are everyone's
(tests/support/cases.py and invites.py, loaded as plugins by tests/conftest.py).

The admin is the cases' ``boss`` (Bea Boss); tests that need another make their own.
"""

from __future__ import annotations

import pytest


@pytest.fixture
def queue(client, make_member, login, admin, fund, withdraw):  # noqa: F811
    """Alice has asked for 20.00 of her 50.00; the admin is logged in."""
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 20_00)
    login(admin)
    return alice, w
