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
