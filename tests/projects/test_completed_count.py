"""A member's completed projects (``users.projects_completed``): kept by
``projects.lifecycle.move_project`` for the performer when a project completes, and
backfilled by the migration that added it (131a2fe6d907) with the same numbers."""

from __future__ import annotations

import importlib.util
import itertools
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text, update

from offload.accounts.models import User
from offload.commissions.services import complete_referral
from offload.core.db import db, utcnow
from offload.core.errors import NotAllowed
from offload.milestones import services as ms
from offload.milestones.models import Milestone
from offload.offers.services import accept_award, award_offer
from offload.projects.models import Project, ProjectState
from tests.support.app import make_app
from tests.support.factories import fresh

MIGRATION = next((Path(__file__).parents[2] / "migrations" / "versions").glob(
    "131a2fe6d907_*.py"))
_keys = itertools.count(1)


def key() -> str:
    return f"completed-count-key-{next(_keys)}"


def completed_counts(*members: User) -> list[int]:
    """Each member's ``projects_completed`` as stored now."""
    db.session.rollback()
    found = dict(db.session.execute(select(User.id, User.projects_completed).where(
        User.id.in_([m.id for m in members]))).all())
    return [found[m.id] for m in members]


@pytest.fixture
def project_for(make_gig, make_offer):
    """``project_for(poster, performer, kind="referral")``: a gig of ``poster``'s,
    awarded to ``performer``, who accepts (a task's performer pays the prepaid click)."""

    def start(poster: User, performer: User, kind: str = "referral") -> Project:
        gig = make_gig(poster=poster, kind=kind)
        offer = make_offer(gig, performer, fee_kind="prepaid" if kind == "task" else None)
        award_offer(offer, actor=poster)
        return accept_award(offer, actor=performer)

    return start


def finish_referral(project: Project, performer: User, idempotency_key: str | None = None):
    return complete_referral(fresh(Project, project.id), actor=performer,
                             invoiced_minor=100_00, idempotency_key=idempotency_key or key(),
                             invoice_reason="The client cut the scope.")


def settle_milestone(project: Project, customer: User, performer: User,
                     amount: int = 100_00, title: str = "Part one") -> Milestone:
    """Add, fund, deliver and release a milestone of a task project."""
    m = ms.add_milestone(fresh(Project, project.id), actor=customer, title=title,
                         amount_minor=amount, due_on=utcnow().date() + timedelta(days=5))
    ms.fund_milestone(fresh(Milestone, m.id), actor=customer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Done")
    ms.release_milestone(fresh(Milestone, m.id), actor=customer)
    return m


@pytest.fixture
def task(start_project, referrer, performer, fund):
    """A running task project: the referrer is the customer, with $500 in the wallet."""
    fund(performer, 1_00)  # the prepaid click of the offer
    fund(referrer, 500_00)
    return start_project(kind="task")


# --- the counter ----------------------------------------------------------------------

def test_new_members_have_completed_nothing(make_member):
    assert completed_counts(make_member("newbie")) == [0]


def test_a_completed_referral_counts_for_the_performer_not_the_poster(
        start_project, referrer, performer):
    project = start_project()
    assert completed_counts(performer, referrer) == [0, 0]  # started isn't completed
    finish_referral(project, performer)
    assert fresh(Project, project.id).state == ProjectState.COMPLETED
    assert completed_counts(performer, referrer) == [1, 0]
    finish_referral(start_project(), performer)
    assert completed_counts(performer, referrer) == [2, 0]


def test_a_retried_completion_counts_once(start_project, referrer, performer):
    project = start_project()
    same_key = key()
    first = finish_referral(project, performer, same_key)
    again = finish_referral(project, performer, same_key)
    assert again.id == first.id
    assert completed_counts(performer, referrer) == [1, 0]


def test_a_refused_completion_counts_nothing(start_project, referrer, performer):
    project = start_project()
    with pytest.raises(NotAllowed):
        complete_referral(fresh(Project, project.id), actor=referrer, invoiced_minor=100_00,
                          idempotency_key=key())
    assert fresh(Project, project.id).state == ProjectState.ACTIVE
    assert completed_counts(performer, referrer) == [0, 0]


def test_each_performer_counts_their_own(project_for, make_member, referrer, performer):
    other = make_member("other")
    finish_referral(project_for(referrer, performer), performer)
    finish_referral(project_for(referrer, other), other)
    finish_referral(project_for(other, performer), performer)  # ``other`` posts this one
    assert completed_counts(performer, other, referrer) == [2, 1, 0]


def test_a_task_project_counts_when_its_price_is_paid(task, referrer, performer):
    settle_milestone(task, referrer, performer, amount=100_00, title="Part one")
    # a milestone paid with $300 of the $400 price open is not a completed project
    assert fresh(Project, task.id).state == ProjectState.ACTIVE
    assert completed_counts(performer, referrer) == [0, 0]
    settle_milestone(task, referrer, performer, amount=300_00, title="The rest")
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    assert completed_counts(performer, referrer) == [1, 0]


def test_a_task_project_with_an_open_milestone_isnt_counted_yet(task, referrer, performer):
    second = ms.add_milestone(fresh(Project, task.id), actor=referrer, title="Part two",
                              amount_minor=100_00, due_on=utcnow().date() + timedelta(days=9))
    settle_milestone(task, referrer, performer, amount=300_00, title="Part one")
    assert fresh(Project, task.id).state == ProjectState.ACTIVE
    assert completed_counts(performer, referrer) == [0, 0]
    ms.fund_milestone(fresh(Milestone, second.id), actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, second.id), actor=performer, note="Also done")
    ms.release_milestone(fresh(Milestone, second.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    assert completed_counts(performer, referrer) == [1, 0]


def test_a_cancelled_project_doesnt_count(task, referrer, performer):
    m = ms.add_milestone(fresh(Project, task.id), actor=referrer, title="Part one",
                         amount_minor=100_00, due_on=utcnow().date() + timedelta(days=5))
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    db.session.execute(update(Project).where(Project.id == task.id).values(
        due_on=utcnow().date() - timedelta(days=1)))  # the deadline passed
    db.session.commit()
    ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.CANCELLED
    assert completed_counts(performer, referrer) == [0, 0]


# --- the migration's backfill ---------------------------------------------------------

def backfill_statement() -> str:
    """The SQL the migration's ``upgrade`` runs to count each member's completed
    projects (its ``op`` replaced by a recorder, so nothing else runs)."""
    spec = importlib.util.spec_from_file_location("migration_131a2fe6d907", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.op = op = mock.MagicMock()
    module.upgrade()
    statements = [str(call.args[0]) for call in op.execute.call_args_list]
    backfills = [s for s in statements if "projects_completed" in s]
    assert len(backfills) == 1, statements
    assert backfills[0].lstrip().upper().startswith("UPDATE USERS SET PROJECTS_COMPLETED")
    return backfills[0]


def test_the_backfill_sql_gives_the_counters_numbers(project_for, make_member, referrer,
                                                    performer, fund):
    other, idle = make_member("other"), make_member("idle")
    finish_referral(project_for(referrer, performer), performer)
    finish_referral(project_for(other, performer), performer)
    finish_referral(project_for(referrer, other), other)
    project_for(referrer, other)  # still active
    fund(performer, 1_00)
    fund(referrer, 500_00)
    task = project_for(referrer, performer, kind="task")
    settle_milestone(task, referrer, performer, amount=400_00)  # the whole price
    fund(other, 1_00)
    cancelled = project_for(referrer, other, kind="task")
    db.session.execute(update(Project).where(Project.id == cancelled.id).values(
        due_on=utcnow().date() - timedelta(days=1)))
    db.session.commit()
    ms.cancel_task_project(fresh(Project, cancelled.id), actor=referrer)
    members = (performer, other, referrer, idle)
    counted = completed_counts(*members)
    assert counted == [3, 1, 0, 0]

    db.session.execute(update(User).values(projects_completed=7))  # forget the counter
    db.session.execute(text(backfill_statement()))
    db.session.commit()
    assert completed_counts(*members) == counted


def test_the_migration_backfills_members_from_before_it(tmp_path,
                                                       empty_database_url):
    """Projects completed before the column existed count; active, cancelled and
    posted ones don't."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="13e052bbb984")  # the one before
        with db.engine.begin() as conn:
            for member_id in (1, 2, 3, 4):
                conn.execute(text(
                    "INSERT INTO users (id, username, email, password_hash, display_name, "
                    "account_type, is_admin, session_token, created_at) VALUES (:id, :name, "
                    ":email, 'x', :name, 'individual', :admin, :token, CURRENT_TIMESTAMP)"),
                    {"id": member_id, "name": f"m{member_id}",
                     "email": f"m{member_id}@x.example", "admin": member_id == 1,
                     "token": f"t{member_id}"})
            # (project and gig id, poster, performer, project state)
            for n, poster, performer, state in ((1, 1, 2, "completed"), (2, 1, 2, "completed"),
                                                (3, 3, 2, "completed"), (4, 1, 2, "cancelled"),
                                                (5, 2, 3, "completed"), (6, 1, 3, "active"),
                                                (7, 2, 1, "completed")):
                gig_state = {"active": "in_progress"}.get(state, state)
                conn.execute(text(
                    "INSERT INTO gigs (id, poster_id, kind, title, description, category, "
                    "budget_min_minor, budget_max_minor, currency, deadline, state, "
                    "commission_bps, platform_commission_bps, published_at, created_at) "
                    "VALUES (:id, :poster, 'referral', :title, 'Work.', 'backend', 100, 200, "
                    "'USD', :deadline, :state, 1000, 200, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP)"),
                    {"id": n, "poster": poster, "title": f"Gig {n}", "state": gig_state,
                     "deadline": utcnow().date() + timedelta(days=30)})
                conn.execute(text(
                    "INSERT INTO offers (id, gig_id, member_id, state, price_minor, "
                    "days_to_deliver, cover_letter, fee_kind, fee_minor, created_at) VALUES "
                    "(:id, :id, :performer, 'accepted', 150, 5, 'Hello', 'free', 0, "
                    "CURRENT_TIMESTAMP)"), {"id": n, "performer": performer})
                conn.execute(text(
                    "INSERT INTO projects (id, gig_id, offer_id, poster_id, performer_id, "
                    "kind, state, price_minor, currency, days_to_deliver, due_on, created_at, "
                    "state_changed_at, last_event_at) VALUES (:id, :id, :id, :poster, "
                    ":performer, 'referral', :state, 150, 'USD', 5, :due, CURRENT_TIMESTAMP, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"id": n, "poster": poster, "performer": performer, "state": state,
                     "due": utcnow().date() + timedelta(days=5)})
        upgrade()
        with db.engine.connect() as conn:
            counts = dict(conn.execute(text("SELECT id, projects_completed FROM users")).all())
        assert counts == {1: 1, 2: 3, 3: 1, 4: 0}
        db.session.remove()
        db.engine.dispose()
