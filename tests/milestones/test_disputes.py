"""Disputes: opened by either side on a funded milestone, resolved by an admin with each
outcome; every path ends with the money check and nothing left in escrow."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.milestones import disputes
from offload.milestones import services as ms
from offload.milestones.disputes import PasswordNotConfirmed
from offload.milestones.models import Dispute, Milestone, MilestoneState
from offload.milestones.queries import price_progress
from offload.moderation.models import ModerationEntry
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState
from tests.support.factories import PASSWORD, fresh
from tests.support.milestones import add, key, wallets


@pytest.fixture
def task(start_project, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 500_00)
    return start_project(kind="task")


@pytest.fixture
def admin(make_member):
    return make_member("judge", admin=True)


@pytest.fixture
def disputed(task, referrer, performer):
    m = add(task, referrer, 400_00)  # the whole price
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Done")
    return disputes.open_dispute(fresh(Milestone, m.id), actor=referrer,
                                 statement="It doesn't work")


def test_a_dispute_freezes_the_milestone(disputed, task, referrer, performer):
    m = fresh(Milestone, disputed.milestone_id)
    assert m.state == MilestoneState.DISPUTED
    with pytest.raises(Conflict):
        ms.release_milestone(m, actor=referrer)
    with pytest.raises(Conflict):
        ms.ask_for_revision(fresh(Milestone, m.id), actor=referrer, note="Again")
    disputes.reply_to_dispute(fresh(Dispute, disputed.id), actor=performer,
                              statement="It works on staging")
    with pytest.raises(Conflict):
        disputes.reply_to_dispute(fresh(Dispute, disputed.id), actor=performer,
                                  statement="Twice")
    with pytest.raises(NotAllowed):
        disputes.reply_to_dispute(fresh(Dispute, disputed.id), actor=referrer,
                                  statement="Myself")
    assert wallets(referrer) == [(100_00, 400_00)]
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize(("outcome", "released", "performer_gets", "project_state"), [
    ("release", None, 400_00, ProjectState.COMPLETED),
    # what went back to the customer is not paid: that part of the price is open again
    ("refund", None, 0, ProjectState.ACTIVE), ("split", 120_00, 120_00, ProjectState.ACTIVE)])
def test_each_outcome_moves_the_escrow_and_completes_only_a_paid_project(
        disputed, task, referrer, performer, admin, outcome, released, performer_gets,
        project_state):
    disputes.resolve_dispute(fresh(Dispute, disputed.id), actor=admin, outcome=outcome,
                             reason="Read both sides", password=PASSWORD,
                             released_minor=released)
    assert wallets(performer) == [(performer_gets, 0)]
    assert wallets(referrer) == [(500_00 - performer_gets, 0)]  # nothing left held
    d = fresh(Dispute, disputed.id)
    assert (d.outcome, d.released_minor, d.reason) == (outcome, performer_gets,
                                                       "Read both sides")
    assert fresh(Project, task.id).state == project_state
    assert price_progress(fresh(Project, task.id)).unscheduled_minor == 400_00 - performer_gets
    kinds = list(db.session.scalars(select(ProjectEvent.kind).where(
        ProjectEvent.project_id == task.id)))
    assert EventKind.DISPUTE_OPENED in kinds and EventKind.DISPUTE_RESOLVED in kinds
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry).where(
        ModerationEntry.subject_type == "dispute")) == 1
    assert run_checks(MONEY_CHECKS) == []


def test_resolving_needs_an_admin_a_reason_the_password_and_a_real_split(
        disputed, referrer, admin, make_member):
    d = fresh(Dispute, disputed.id)
    with pytest.raises(NotAllowed):
        disputes.resolve_dispute(d, actor=referrer, outcome="refund", reason="Mine",
                                 password=PASSWORD)
    with pytest.raises(InvalidField):
        disputes.resolve_dispute(d, actor=admin, outcome="refund", reason=" ",
                                 password=PASSWORD)
    with pytest.raises(PasswordNotConfirmed):
        disputes.resolve_dispute(d, actor=admin, outcome="refund", reason="R",
                                 password="wrong password")
    for amount in (None, 0, 400_00, 500_00):
        with pytest.raises(InvalidField):
            disputes.resolve_dispute(fresh(Dispute, d.id), actor=admin, outcome="split",
                                     reason="R", password=PASSWORD, released_minor=amount)
    assert fresh(Dispute, d.id).is_open
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    assert run_checks(MONEY_CHECKS) == []


def test_only_parties_dispute_only_funded_milestones(task, referrer, performer, make_member):
    m = add(task, referrer)
    with pytest.raises(Conflict, match="funded"):
        disputes.open_dispute(m, actor=performer, statement="Too early")
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    with pytest.raises(NotAllowed):
        disputes.open_dispute(fresh(Milestone, m.id), actor=make_member("nosy"),
                              statement="Me too")
    disputes.open_dispute(fresh(Milestone, m.id), actor=performer, statement="Unpaid")
    with pytest.raises(Conflict):
        disputes.open_dispute(fresh(Milestone, m.id), actor=referrer, statement="Again")


def test_an_open_dispute_blocks_the_deadline_cancel(disputed, task, referrer):
    from sqlalchemy import update

    db.session.execute(update(Project).where(Project.id == task.id).values(
        due_on=utcnow().date() - timedelta(days=1)))
    db.session.commit()
    with pytest.raises(Conflict):
        ms.cancel_task_project(fresh(Project, task.id), actor=referrer)


def test_two_admins_resolving_at_once_settle_once(app, disputed, make_member):
    first, second = make_member("judge1", admin=True), make_member("judge2", admin=True)
    ids = [first.id, second.id]
    dispute_id = disputed.id
    db.session.commit()
    barrier, done, errors = threading.Barrier(2), [], []

    def run(i):
        with app.app_context():
            try:
                admin = db.session.get(User, ids[i])
                barrier.wait(timeout=30)
                disputes.resolve_dispute(db.session.get(Dispute, dispute_id), actor=admin,
                                         outcome=("release", "refund")[i], reason="R",
                                         password=PASSWORD)
                done.append(i)
            except Conflict as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 1 and len(errors) == 1, (done, errors)
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 1
    assert run_checks(MONEY_CHECKS) == []


# --- a dispute that closes the project short ----------------------------------------------

@pytest.mark.parametrize(("outcome", "released", "project_state", "price"), [
    ("split", 120_00, ProjectState.COMPLETED, 120_00),
    ("refund", None, ProjectState.CANCELLED, 400_00)])
def test_a_decision_can_close_the_project_at_what_is_paid(
        disputed, task, referrer, performer, admin, outcome, released, project_state, price):
    disputes.resolve_dispute(fresh(Dispute, disputed.id), actor=admin, outcome=outcome,
                             reason="The work stops here", password=PASSWORD,
                             released_minor=released, close_project=True)
    project = fresh(Project, task.id)
    assert (project.state, project.price_minor) == (project_state, price)
    assert wallets(referrer) == [(500_00 - (released or 0), 0)]  # nothing held
    assert db.session.scalar(select(ModerationEntry.action)) == \
        f"dispute_{outcome}_project_closed"
    notes = list(db.session.scalars(select(ProjectEvent.note).where(
        ProjectEvent.project_id == task.id, ProjectEvent.kind.in_(
            [EventKind.COMPLETED, EventKind.CANCELLED]))))
    assert len(notes) == 1 and "Closed by the dispute's decision" in notes[0]
    assert "Reason: The work stops here" in notes[0]
    assert run_checks(MONEY_CHECKS) == []


def test_closing_by_dispute_waits_for_other_escrow(task, referrer, performer, admin):
    first, other = add(task, referrer, 200_00), add(task, referrer, 100_00, "Part two")
    for m in (first, other):
        ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    dispute = disputes.open_dispute(fresh(Milestone, first.id), actor=performer,
                                    statement="Unpaid")
    with pytest.raises(InvalidField, match=r"\$100.00 is still held in escrow"):
        disputes.resolve_dispute(fresh(Dispute, dispute.id), actor=admin, outcome="release",
                                 reason="R", password=PASSWORD, close_project=True)
    assert fresh(Dispute, dispute.id).is_open  # nothing of it happened
    assert fresh(Milestone, first.id).state == MilestoneState.DISPUTED
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    assert run_checks(MONEY_CHECKS) == []
