"""The milestone tests' helpers: a milestone added by the customer, a fresh idempotency
key, the wallets' (available, held)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from offload.core.db import db, utcnow
from offload.ledger.services import wallet_account
from offload.milestones import services as ms

_keys = itertools.count(1)


def key() -> str:
    return f"milestone-key-{next(_keys)}"


def wallets(*members) -> list[tuple[int, int]]:
    """(available, held) of each member's wallet."""
    db.session.rollback()
    return [(wallet_account(m.id).available, wallet_account(m.id).held) for m in members]


def add(project, customer, amount=200_00, title="Part one"):
    return ms.add_milestone(project, actor=customer, title=title, amount_minor=amount,
                            due_on=utcnow().date() + timedelta(days=5))
