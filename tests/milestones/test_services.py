"""Milestones and escrow: each path ends with the full money check (invariants 9 and 10
among them) and, once the project closes, nothing left in escrow."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.milestones import services as ms
from offload.milestones.models import Milestone, MilestoneState
from offload.milestones.services import EscrowNotCovered
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState
from tests.support.factories import fresh
from tests.support.milestones import add, key, wallets


def kinds(project) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent.kind).where(
        ProjectEvent.project_id == project.id).order_by(ProjectEvent.created_at,
                                                       ProjectEvent.id)))


@pytest.fixture
def task(start_project, referrer, performer, fund):
    """A running task project: the referrer is the customer, with $500 in the wallet."""
    fund(performer, 1_00)  # the prepaid click of the offer
    fund(referrer, 500_00)
    return start_project(kind="task")


def test_fund_deliver_release_completes_the_project_and_empties_escrow(task, referrer,
                                                                      performer):
    m = add(task, referrer, 400_00)  # the whole $400 price
    assert fresh(Milestone, m.id).state == MilestoneState.DRAFT
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    assert wallets(referrer, performer) == [(100_00, 400_00), (0, 0)]
    assert run_checks(MONEY_CHECKS) == []
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Deployed to staging")
    assert run_checks(MONEY_CHECKS) == []
    ms.release_milestone(fresh(Milestone, m.id), actor=referrer)
    assert wallets(referrer, performer) == [(100_00, 0), (400_00, 0)]
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    assert fresh(Gig, task.gig_id).state == GigState.COMPLETED
    assert kinds(task)[-4:] == [EventKind.MILESTONE_FUNDED, EventKind.DELIVERED,
                                EventKind.RELEASED, EventKind.COMPLETED]
    assert run_checks(MONEY_CHECKS) == []


def test_a_revision_then_release(task, referrer, performer):
    m = add(task, referrer)
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="v1")
    ms.ask_for_revision(fresh(Milestone, m.id), actor=referrer, note="The export is slow")
    m = fresh(Milestone, m.id)
    assert m.state == MilestoneState.FUNDED and m.revision_note == "The export is slow"
    assert wallets(referrer) == [(300_00, 200_00)]  # still in escrow
    ms.deliver_milestone(m, actor=performer, note="v2")
    ms.release_milestone(fresh(Milestone, m.id), actor=referrer)
    assert wallets(performer) == [(200_00, 0)]
    assert EventKind.REVISION_REQUESTED in kinds(task)
    assert run_checks(MONEY_CHECKS) == []


def test_two_milestones_complete_the_project_only_when_both_are_settled(task, referrer):
    first, second = add(task, referrer, 150_00), add(task, referrer, 250_00, "Part two")
    for m in (first, second):
        ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    ms.release_milestone(fresh(Milestone, first.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.ACTIVE
    ms.release_milestone(fresh(Milestone, second.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    assert run_checks(MONEY_CHECKS) == []


def test_funding_the_wallet_cannot_cover_is_refused_with_nothing_held(
        start_project, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 300_00)
    project = start_project(kind="task")
    m = add(project, referrer, 400_00)
    with pytest.raises(EscrowNotCovered, match="doesn't cover this \\$400.00 milestone"):
        ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    assert fresh(Milestone, m.id).state == MilestoneState.DRAFT
    assert wallets(referrer) == [(300_00, 0)]


def test_a_retried_funding_holds_once(task, referrer):
    m = add(task, referrer)
    same = key()
    ms.fund_milestone(m, actor=referrer, idempotency_key=same)
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=same)
    assert wallets(referrer) == [(300_00, 200_00)]
    with pytest.raises(Conflict, match="already funded"):
        ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())


def test_who_may_do_what(task, referrer, performer, make_member):
    m = add(task, referrer)
    with pytest.raises(NotAllowed):
        add(task, performer)
    with pytest.raises(NotAllowed):
        ms.fund_milestone(m, actor=performer, idempotency_key=key())
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    with pytest.raises(NotAllowed):
        ms.deliver_milestone(fresh(Milestone, m.id), actor=referrer, note="Me?")
    with pytest.raises(NotAllowed):
        ms.release_milestone(fresh(Milestone, m.id), actor=performer)
    with pytest.raises(NotAllowed):
        ms.release_milestone(fresh(Milestone, m.id), actor=make_member("nosy"))
    with pytest.raises(Conflict, match="delivered work only"):
        ms.ask_for_revision(fresh(Milestone, m.id), actor=referrer, note="Again")
    with pytest.raises(InvalidField):
        ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="  ")
    assert run_checks(MONEY_CHECKS) == []


def test_bad_milestones_are_refused(task, referrer):
    for fields in ({"amount_minor": 0}, {"title": " "},
                   {"due_on": utcnow().date() - timedelta(days=1)}):
        values = {"title": "X", "amount_minor": 1_00, "due_on": utcnow().date(), **fields}
        with pytest.raises(InvalidField):
            ms.add_milestone(task, actor=referrer, **values)
    assert db.session.scalar(select(Milestone.id)) is None


def test_a_draft_can_be_removed_a_funded_one_cannot(task, referrer):
    m = add(task, referrer)
    ms.remove_milestone(m, actor=referrer)
    assert fresh(Milestone, m.id).state == MilestoneState.REMOVED
    funded = add(task, referrer)
    ms.fund_milestone(funded, actor=referrer, idempotency_key=key())
    with pytest.raises(Conflict):
        ms.remove_milestone(fresh(Milestone, funded.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.ACTIVE  # a removed one settles nothing


def _past_deadline(project) -> None:
    db.session.execute(update(Project).where(Project.id == project.id).values(
        due_on=utcnow().date() - timedelta(days=1)))
    db.session.commit()


def test_a_missed_deadline_lets_the_customer_cancel_and_be_refunded(task, referrer,
                                                                    performer):
    funded, draft = add(task, referrer), add(task, referrer, 50_00, "Later")
    ms.fund_milestone(funded, actor=referrer, idempotency_key=key())
    with pytest.raises(Conflict, match="once its deadline"):
        ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    _past_deadline(task)
    with pytest.raises(NotAllowed):
        ms.cancel_task_project(fresh(Project, task.id), actor=performer)
    ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    assert fresh(Milestone, funded.id).state == MilestoneState.REFUNDED
    assert fresh(Milestone, draft.id).state == MilestoneState.REMOVED
    assert fresh(Project, task.id).state == ProjectState.CANCELLED
    assert fresh(Gig, task.gig_id).state == GigState.CANCELLED
    assert wallets(referrer, performer) == [(500_00, 0), (0, 0)]
    assert run_checks(MONEY_CHECKS) == []


def test_delivered_work_blocks_the_deadline_cancel(task, referrer, performer):
    m = add(task, referrer)
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Done")
    _past_deadline(task)
    with pytest.raises(Conflict, match="only disputed"):
        ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    assert wallets(referrer) == [(300_00, 200_00)]


def test_a_release_and_a_cancel_at_once_end_one_way_only(app, task, referrer):
    m = add(task, referrer)
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    _past_deadline(task)
    ids = {"milestone": m.id, "project": task.id, "customer": referrer.id}
    barrier, outcomes, errors = threading.Barrier(2), [], []

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                actor = db.session.get(User, ids["customer"])
                if i == 0:
                    ms.release_milestone(db.session.get(Milestone, ids["milestone"]),
                                         actor=actor)
                    outcomes.append("released")
                else:
                    ms.cancel_task_project(db.session.get(Project, ids["project"]),
                                           actor=actor)
                    outcomes.append("refunded")
            except Conflict as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 1 and len(errors) == 1, (outcomes, errors)
    assert fresh(Milestone, m.id).state == outcomes[0]
    assert wallets(referrer)[0][1] == 0  # nothing left held either way
    assert run_checks(MONEY_CHECKS) == []


def test_work_delivered_then_sent_back_still_blocks_the_deadline_cancel(task, referrer,
                                                                         performer):
    m = add(task, referrer)
    ms.fund_milestone(m, actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Done")
    ms.ask_for_revision(fresh(Milestone, m.id), actor=referrer, note="Again")
    _past_deadline(task)
    with pytest.raises(Conflict, match="only disputed"):
        ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    assert wallets(referrer) == [(300_00, 200_00)]  # still in escrow: a dispute decides


def test_removing_the_last_open_draft_leaves_its_part_of_the_price_open(task, referrer):
    paid, draft = add(task, referrer, 390_00), add(task, referrer, 10_00, "Maybe later")
    ms.fund_milestone(paid, actor=referrer, idempotency_key=key())
    ms.release_milestone(fresh(Milestone, paid.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.ACTIVE  # the draft is still open
    ms.remove_milestone(fresh(Milestone, draft.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.ACTIVE  # $10 of the price is unpaid
    last = add(task, referrer, 10_00, "The last part")
    ms.fund_milestone(last, actor=referrer, idempotency_key=key())
    ms.release_milestone(fresh(Milestone, last.id), actor=referrer)
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    assert run_checks(MONEY_CHECKS) == []
