"""Admin page fixtures: the features' own (the case family, projects started the real
way, funded wallets, the small invite tree) and a withdrawal waiting in the queue.

The admin is the cases' ``boss`` (Bea Boss); tests that need another make their own.
"""

from __future__ import annotations

import pytest

from tests.cases.conftest import (  # noqa: F401  (fixtures)
    admin,
    gina,
    gramps,
    ivan,
    logout,
    open_case_about,
    other_admin,
    run_project,
    sam,
    tom,
)
from tests.invites.conftest import tree  # noqa: F401  (fixture)


@pytest.fixture
def queue(client, make_member, login, admin, fund, withdraw):  # noqa: F811
    """Alice has asked for 20.00 of her 50.00; the admin is logged in."""
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 20_00)
    login(admin)
    return alice, w
