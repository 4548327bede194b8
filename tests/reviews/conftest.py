"""Review fixtures: an outsider, ageing a completed project. ``completed`` (a referral
project started and completed the real way) is shared (tests/support/fixtures.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from offload.core.db import db, utcnow
from offload.projects.models import Project
from tests.support.factories import all_skills, skill_ids  # noqa: F401  (importable here)
from tests.support.fixtures import completed  # noqa: F401


@pytest.fixture
def outsider(make_member):
    return make_member("outsider", display_name="Otto Outsider")


def age(project: Project, days: float) -> Project:
    """Move the project's completion ``days`` into the past."""
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(state_changed_at=utcnow() - timedelta(days=days)))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Project, project.id)
