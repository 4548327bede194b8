"""Wallet fixtures: an admin, fresh keys, the transfer count. ``fund``, ``withdraw`` and
``race`` are shared (tests/support/fixtures.py) and importable here."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.core.db import db
from offload.ledger.models import Transfer
from tests.support.factories import new_key  # noqa: F401  (importable here)
from tests.support.fixtures import fund, race, withdraw  # noqa: F401


def transfer_count() -> int:
    db.session.rollback()  # see what other transactions committed
    return db.session.scalar(select(func.count()).select_from(Transfer))


@pytest.fixture
def admin(make_member):
    return make_member("boss", admin=True)
