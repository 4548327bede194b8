"""Review fixtures: referral projects started and completed the real way."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from offload.commissions.services import complete_referral
from offload.core.db import db, utcnow
from offload.gigs.models import GigSkill
from offload.profiles.models import Skill
from offload.projects.models import Project
from tests.projects.conftest import (  # noqa: F401  (fixtures)
    _empty_search_index,
    fund,
    make_gig,
    make_offer,
    performer,
    referrer,
    start_project,
)

_keys = itertools.count(1)


@pytest.fixture
def completed(start_project, performer):  # noqa: F811
    """``completed(**gig_fields)``: a referral project, started and completed by the
    performer (the review window opens now)."""

    def complete(**gig_fields) -> Project:
        gig_fields.setdefault("skill_names", ["Python", "SQL"])
        project = start_project(**gig_fields)
        complete_referral(project, actor=performer, invoiced_minor=100_00,
                          idempotency_key=f"review-key-{next(_keys)}",
                          invoice_reason="The client cut the scope.")
        db.session.commit()
        return db.session.get(Project, project.id)

    return complete


@pytest.fixture
def outsider(make_member):
    return make_member("outsider", display_name="Otto Outsider")


def skill_ids(project: Project) -> dict[str, int]:
    """The gig's skills, name → id."""
    return dict(db.session.execute(
        select(Skill.name, Skill.id).join(GigSkill, GigSkill.skill_id == Skill.id)
        .where(GigSkill.gig_id == project.gig_id)).all())


def all_skills(project: Project, stars: int = 5) -> dict[int, int]:
    return {skill_id: stars for skill_id in skill_ids(project).values()}


def age(project: Project, days: float) -> Project:
    """Move the project's completion ``days`` into the past."""
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(state_changed_at=utcnow() - timedelta(days=days)))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Project, project.id)
