"""The milestone checks notice a state that doesn't match its escrow hold."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from offload.core.db import atomic, db, utcnow
from offload.milestones import services as ms
from offload.milestones.checks import check_milestones_match_holds


def sql(statement: str, **params) -> None:
    with atomic():
        db.session.execute(text(statement), params)


def test_a_released_state_without_posting_its_hold_breaks_invariant_10(
        start_project, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 100_00)
    project = start_project(kind="task")
    m = ms.add_milestone(project, actor=referrer, title="A", amount_minor=40_00,
                         due_on=utcnow().date() + timedelta(days=2))
    ms.fund_milestone(m, actor=referrer, idempotency_key="k1")
    assert check_milestones_match_holds() == []
    sql("UPDATE milestones SET state = 'released' WHERE id = :id", id=m.id)
    try:
        failures = check_milestones_match_holds()
        assert [f.invariant for f in failures] == [10]
        assert "its hold is open, should be post_pending" in str(failures[0])
        sql("UPDATE milestones SET state = 'funded' WHERE id = :id", id=m.id)
        sql("UPDATE projects SET state = 'completed' WHERE id = :id", id=project.id)
        failures = check_milestones_match_holds()
        assert [f.invariant for f in failures] == [9]
        assert "still holds 4000 after its project was completed" in str(failures[0])
    finally:
        sql("UPDATE milestones SET state = 'funded' WHERE id = :id", id=m.id)
        sql("UPDATE projects SET state = 'active' WHERE id = :id", id=project.id)
    assert check_milestones_match_holds() == []


def _two_funded(start_project, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 100_00)
    project = start_project(kind="task")
    made = []
    for n, amount in ((1, 30_00), (2, 20_00)):
        m = ms.add_milestone(project, actor=referrer, title=f"M{n}", amount_minor=amount,
                             due_on=utcnow().date() + timedelta(days=2))
        ms.fund_milestone(m, actor=referrer, idempotency_key=f"two-funded-{n}")
        made.append((m.id, m.hold_transfer_id))
    assert check_milestones_match_holds() == []
    return made


def test_a_refunded_state_whose_hold_is_still_open_is_caught(
        start_project, referrer, performer, fund):
    (m1, _), _ = _two_funded(start_project, referrer, performer, fund)
    sql("UPDATE milestones SET state = 'refunded' WHERE id = :id", id=m1)
    try:
        [failure] = check_milestones_match_holds()
        assert failure.invariant == 10
        assert f"milestone {m1} (refunded)" in str(failure)
        assert "its hold is open, should be void_pending" in str(failure)
    finally:
        sql("UPDATE milestones SET state = 'funded' WHERE id = :id", id=m1)
    assert check_milestones_match_holds() == []


def test_a_settlement_the_ledger_does_not_have_is_caught(
        start_project, referrer, performer, fund):
    (m1, hold1), _ = _two_funded(start_project, referrer, performer, fund)
    sql("UPDATE milestones SET settle_transfer_id = :t WHERE id = :id", t=hold1, id=m1)
    try:
        [failure] = check_milestones_match_holds()
        assert f"names settlement {hold1}, the ledger has None" in str(failure)
    finally:
        sql("UPDATE milestones SET settle_transfer_id = NULL WHERE id = :id", id=m1)
    assert check_milestones_match_holds() == []


def test_a_hold_of_another_milestone_and_an_escrow_hold_of_none_are_caught(
        start_project, referrer, performer, fund):
    (m1, hold1), (m2, hold2) = _two_funded(start_project, referrer, performer, fund)
    sql("UPDATE milestones SET hold_transfer_id = :t WHERE id = :id", t=hold2, id=m1)
    try:
        failures = [str(f) for f in check_milestones_match_holds()]
        assert any(f"milestone {m1} (funded)" in f and
                   f"its hold {hold2} is a pending escrow of 2000, not a pending escrow of "
                   f"3000" in f and f"its hold names milestone:{m2} as its cause" in f
                   for f in failures), failures
        assert any(f"escrow hold {hold1} belongs to no milestone" in f
                   for f in failures), failures
    finally:
        sql("UPDATE milestones SET hold_transfer_id = :t WHERE id = :id", t=hold1, id=m1)
    assert check_milestones_match_holds() == []
