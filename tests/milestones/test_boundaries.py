"""Date boundary of cancelling a task project for lateness: on its due day the
deadline has not passed yet, so the customer can't cancel; the next day they can."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from offload.core.db import atomic, db, utcnow
from offload.core.errors import OffloadError
from offload.milestones import services as ms
from offload.projects.models import Project, ProjectState


def _due_on(project: Project, day) -> Project:
    with atomic():
        db.session.execute(text("UPDATE projects SET due_on = :d WHERE id = :id"),
                           {"d": day, "id": project.id})
    db.session.rollback()
    return db.session.get(Project, project.id)


@pytest.fixture
def funded_project(start_project, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 100_00)
    project = start_project(kind="task")
    m = ms.add_milestone(project, actor=referrer, title="A", amount_minor=40_00,
                         due_on=utcnow().date() + timedelta(days=2))
    ms.fund_milestone(m, actor=referrer, idempotency_key="boundary-fund")
    return project


def test_a_project_due_today_cannot_be_cancelled_for_lateness(funded_project, referrer):
    today = utcnow().date()
    project = _due_on(funded_project, today)
    with pytest.raises(OffloadError, match=f"once its deadline \\({today}\\) has passed"):
        ms.cancel_task_project(project, actor=referrer)
    db.session.rollback()
    assert db.session.get(Project, project.id).state == ProjectState.ACTIVE


def test_a_project_due_yesterday_can_be_cancelled(funded_project, referrer):
    project = _due_on(funded_project, utcnow().date() - timedelta(days=1))
    ms.cancel_task_project(project, actor=referrer)
    db.session.rollback()
    assert db.session.get(Project, project.id).state == ProjectState.CANCELLED
