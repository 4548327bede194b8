"""Completing referral projects and paying commissions: every path ends with the full
money check; rounding; the jobs run once per commission; a race pays once."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.commissions.models import Commission, CommissionState
from offload.commissions.queries import overdue_commissions
from offload.commissions.services import (
    CommissionNotCovered,
    complete_referral,
    flag_overdue_commissions,
    pay_commission,
    remind_due_commissions,
)
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, Transfer, TransferKind
from offload.ledger.services import commission_split, system_account, wallet_account
from offload.notifications.models import Notification
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState
from tests.support.factories import fresh

_keys = itertools.count(1)


def key() -> str:
    return f"commission-key-{next(_keys)}"


def balances(*members) -> list[int]:
    db.session.rollback()
    return [wallet_account(m.id).balance for m in members]


def revenue() -> int:
    db.session.rollback()
    return system_account(AccountKind.PLATFORM_REVENUE).balance


def kinds(project) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent.kind).where(
        ProjectEvent.project_id == project.id).order_by(ProjectEvent.created_at,
                                                       ProjectEvent.id)))


def notes(member) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification.title).where(
        Notification.user_id == member.id, Notification.kind == "commission_due")
        .order_by(Notification.id)))


def test_paid_at_once_when_the_wallet_covers_it(start_project, referrer, performer, fund):
    fund(performer, 600_00)
    project = start_project()
    commission = complete_referral(project, actor=performer, invoiced_minor=4_800_00,
                                   idempotency_key=key())
    assert commission.state == CommissionState.PAID
    assert (commission.commission_minor, commission.platform_minor,
            commission.referrer_minor) == (480_00, 144_00, 336_00)
    assert balances(performer, referrer) == [120_00, 336_00]
    assert revenue() == 144_00
    assert fresh(Project, project.id).state == ProjectState.COMPLETED
    assert fresh(Gig, project.gig_id).state == GigState.COMPLETED
    assert kinds(project)[-3:] == [EventKind.COMPLETED, EventKind.INVOICED,
                                   EventKind.COMMISSION_PAID]
    assert any("paid the commission" in t for t in notes(referrer))
    assert run_checks(MONEY_CHECKS) == []


def test_due_then_paid_now(start_project, referrer, performer, fund):
    fund(performer, 10_00)
    project = start_project()
    commission = complete_referral(project, actor=performer, invoiced_minor=1_000_00,
                                   idempotency_key=key())
    assert commission.state == CommissionState.DUE
    assert commission.due_on == utcnow().date() + timedelta(days=14)
    assert balances(performer, referrer) == [10_00, 0]  # nothing moved
    assert any("is due" in t for t in notes(performer))
    assert any("is due" in t for t in notes(referrer))
    assert run_checks(MONEY_CHECKS) == []
    with pytest.raises(CommissionNotCovered, match="doesn't cover the \\$100.00 commission"):
        pay_commission(fresh(Commission, commission.id), actor=performer,
                       idempotency_key=key())
    assert fresh(Commission, commission.id).state == CommissionState.DUE
    fund(performer, 90_00)
    pay_key = key()
    pay_commission(fresh(Commission, commission.id), actor=performer, idempotency_key=pay_key)
    pay_commission(fresh(Commission, commission.id), actor=performer, idempotency_key=pay_key)
    assert fresh(Commission, commission.id).state == CommissionState.PAID
    assert balances(performer, referrer) == [0, 70_00] and revenue() == 30_00
    with pytest.raises(Conflict, match="already paid"):
        pay_commission(fresh(Commission, commission.id), actor=performer,
                       idempotency_key=key())
    assert run_checks(MONEY_CHECKS) == []


def test_overdue_is_flagged_once_and_listed(start_project, referrer, performer):
    project = start_project()
    commission = complete_referral(project, actor=performer, invoiced_minor=500_00,
                                   idempotency_key=key())
    later = utcnow() + timedelta(days=12)
    assert remind_due_commissions(now=later) == 1
    assert remind_due_commissions(now=later) == 0  # once
    assert flag_overdue_commissions(now=later) == 0  # not yet past due
    past = utcnow() + timedelta(days=15)
    assert overdue_commissions(today=past.date())[0][0].id == commission.id
    assert flag_overdue_commissions(now=past) == 1
    assert flag_overdue_commissions(now=past) == 0  # once
    assert fresh(Commission, commission.id).overdue_at is not None
    assert sum("overdue" in t for t in notes(performer)) == 1
    assert sum("overdue" in t for t in notes(referrer)) == 1
    assert run_checks(MONEY_CHECKS) == []


def test_only_the_performer_completes_a_running_referral_project(
        start_project, referrer, performer, make_member, fund):
    project = start_project()
    for actor in (referrer, make_member("nosy"), make_member("boss", admin=True)):
        with pytest.raises(NotAllowed):
            complete_referral(project, actor=actor, invoiced_minor=100_00,
                              idempotency_key=key())
    fund(performer, 1_00)  # the prepaid click of the task offer
    task = start_project(kind="task")
    with pytest.raises(Conflict, match="milestones"):
        complete_referral(task, actor=performer, invoiced_minor=100_00, idempotency_key=key())
    complete_referral(project, actor=performer, invoiced_minor=100_00, idempotency_key=key(),
                      invoice_reason="The client cut the scope.")
    with pytest.raises(Conflict, match="already ended"):
        complete_referral(fresh(Project, project.id), actor=performer, invoiced_minor=100_00,
                          idempotency_key=key(), invoice_reason="The client cut the scope.")
    assert db.session.scalar(select(func.count()).select_from(Commission)) == 1


@pytest.mark.parametrize("amount", [0, -5, 33])
def test_amounts_that_cannot_carry_a_commission_are_refused(start_project, performer, amount):
    project = start_project()
    with pytest.raises(InvalidField):
        complete_referral(project, actor=performer, invoiced_minor=amount,
                          idempotency_key=key())
    assert fresh(Project, project.id).state == ProjectState.ACTIVE


def test_a_retried_completion_completes_once(start_project, performer, fund):
    fund(performer, 100_00)
    project = start_project()
    same = key()
    first = complete_referral(project, actor=performer, invoiced_minor=200_00,
                              idempotency_key=same, invoice_reason="Scope cut.")
    again = complete_referral(fresh(Project, project.id), actor=performer,
                              invoiced_minor=200_00, idempotency_key=same,
                              invoice_reason="Scope cut.")
    assert first.id == again.id
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(
        Transfer.kind == TransferKind.COMMISSION)) == 2
    assert run_checks(MONEY_CHECKS) == []


@settings(max_examples=200, deadline=None)
@given(invoiced=st.integers(min_value=1, max_value=10**12),
       rate=st.integers(min_value=0, max_value=10_000), share=st.integers(0, 10_000))
def test_the_parts_always_add_up(invoiced, rate, share):
    platform_bps = rate * share // 10_000
    parts = commission_split(invoiced, commission_bps=rate, platform_bps=platform_bps)
    assert parts.platform + parts.referrer == parts.commission
    assert parts.commission == invoiced * rate // 10_000


def test_two_payments_at_once_pay_once(app, start_project, performer, fund):
    project = start_project()
    commission = complete_referral(project, actor=performer, invoiced_minor=300_00,
                                   idempotency_key=key(), invoice_reason="Scope cut.")
    fund(performer, 100_00)
    performer_id, commission_id = performer.id, commission.id  # no lazy loads in threads
    db.session.commit()
    barrier, errors, done = threading.Barrier(2), [], []

    def pay(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                pay_commission(db.session.get(Commission, commission_id),
                               actor=db.session.get(User, performer_id),
                               idempotency_key=f"race-{i}")
                done.append(i)
            except Conflict as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=pay, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 1 and len(errors) == 1
    assert balances(performer) == [70_00]
    assert run_checks(MONEY_CHECKS) == []
