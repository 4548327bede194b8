"""Ledger fixtures: the system accounts and a factory of (funded) member wallets."""

from __future__ import annotations

import pytest

from offload.ledger.models import AccountKind

from .support import deposit, open_system, open_wallet


@pytest.fixture
def external() -> int:
    return open_system(AccountKind.EXTERNAL)


@pytest.fixture
def revenue() -> int:
    return open_system(AccountKind.PLATFORM_REVENUE)


@pytest.fixture
def escrow() -> int:
    return open_system(AccountKind.ESCROW)


@pytest.fixture
def make_wallet(make_member):
    """Factory: ``make_wallet(500)`` → the id of a new member's wallet holding 500 cents."""

    def make(amount: int = 0, **member_fields) -> int:
        member = make_member(**member_fields)
        wallet_id = open_wallet(member.id)
        if amount:
            deposit(wallet_id, amount)
        return wallet_id

    return make
