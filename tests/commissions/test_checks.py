"""Invariant 10 for commissions: each commission's state matches its transfers.

Each corruption is made with raw SQL, detected, then put back, so the suite's own
after-test ledger check passes.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import text

from offload.commissions.checks import check_commissions_match_transfers
from offload.commissions.models import CommissionState
from offload.commissions.services import complete_referral
from offload.core.db import atomic, db


def sql(statement: str, **params) -> None:
    with atomic():
        db.session.execute(text(statement), params)


def _failures() -> list[str]:
    db.session.rollback()
    failures = check_commissions_match_transfers()
    assert {f.invariant for f in failures} <= {10}
    return [str(f) for f in failures]


@pytest.fixture
def paid(start_project, performer, fund):
    fund(performer, 600_00)
    commission = complete_referral(start_project(), actor=performer,
                                   invoiced_minor=4_800_00, idempotency_key="check-paid")
    assert commission.state == CommissionState.PAID
    assert _failures() == []
    return SimpleNamespace(id=commission.id, batch_id=commission.batch_id)


@pytest.fixture
def due(start_project, performer):
    commission = complete_referral(start_project(), actor=performer,
                                   invoiced_minor=1_000_00, idempotency_key="check-due")
    assert commission.state == CommissionState.DUE
    assert _failures() == []
    return SimpleNamespace(id=commission.id)


def test_a_paid_commission_said_to_be_due_is_caught(paid):
    sql("UPDATE commissions SET state = 'due', paid_at = NULL, batch_id = NULL "
        "WHERE id = :id", id=paid.id)
    try:
        [failure] = _failures()
        assert f"commission {paid.id} is due but has transfers" in failure
    finally:
        sql("UPDATE commissions SET state = 'paid', paid_at = CURRENT_TIMESTAMP, "
            "batch_id = :b WHERE id = :id", b=paid.batch_id, id=paid.id)
    assert _failures() == []


def test_a_due_commission_said_to_be_paid_is_caught(due):
    sql("UPDATE commissions SET state = 'paid', paid_at = CURRENT_TIMESTAMP, "
        "batch_id = 'no-such-batch' WHERE id = :id", id=due.id)
    try:
        [failure] = _failures()
        assert f"commission {due.id} is paid with legs []" in failure
    finally:
        sql("UPDATE commissions SET state = 'due', paid_at = NULL, batch_id = NULL "
            "WHERE id = :id", id=due.id)
    assert _failures() == []


def test_parts_that_differ_from_the_legs_are_caught(paid):
    # (parts that don't add up to the whole the database itself refuses: ck_commissions_parts)
    sql("UPDATE commissions SET platform_minor = platform_minor + 1, "
        "referrer_minor = referrer_minor - 1 WHERE id = :id", id=paid.id)
    try:
        [failure] = _failures()
        assert f"commission {paid.id} is paid with legs" in failure
    finally:
        sql("UPDATE commissions SET platform_minor = platform_minor - 1, "
            "referrer_minor = referrer_minor + 1 WHERE id = :id", id=paid.id)
    assert _failures() == []


def test_legs_outside_the_commissions_batch_are_caught(paid):
    sql("UPDATE commissions SET batch_id = :b WHERE id = :id", b="another-batch", id=paid.id)
    try:
        [failure] = _failures()
        assert "has legs outside its posted batch another-batch" in failure
    finally:
        sql("UPDATE commissions SET batch_id = :b WHERE id = :id", b=paid.batch_id,
            id=paid.id)
    assert _failures() == []


def test_commission_transfers_that_name_no_commission_are_caught(paid):
    sql("UPDATE commissions SET id = :new WHERE id = :id", new=paid.id + 1000, id=paid.id)
    try:
        failures = _failures()
        assert any(f"name commission:{paid.id}, which is no commission" in f
                   for f in failures), failures
        assert any(f"commission {paid.id + 1000} is paid with legs []" in f
                   for f in failures), failures
    finally:
        sql("UPDATE commissions SET id = :id WHERE id = :new", new=paid.id + 1000, id=paid.id)
    assert _failures() == []
