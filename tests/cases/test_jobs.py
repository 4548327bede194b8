"""The job that opens a case per overdue commission: about the payer, by the system,
with the project as evidence, exactly once however often and however concurrently it
runs (a unique commission_id and INSERT … ON CONFLICT DO NOTHING); paying lets an
admin clear the case."""

from __future__ import annotations

import contextlib
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.cases import services
from offload.cases.hook import why_on_the_hook
from offload.cases.models import Case, CaseKind, CaseSource, CaseState, EvidenceKind
from offload.cases.services import open_overdue_commission_cases, resolve_case
from offload.commissions.models import Commission, CommissionState
from offload.commissions.services import (
    complete_referral,
    flag_overdue_commissions,
    pay_commission,
)
from offload.core.db import db, utcnow
from offload.core.errors import Conflict
from offload.notifications.models import Notification
from tests.support.cases import evidence_of, key, notes
from tests.support.factories import count, fresh

ROUNDS = 4


def past_due():
    return utcnow() + timedelta(days=15)  # commissions are due in 14 days


@pytest.fixture
def owe(run_project, make_member):
    """``owe(performer, poster=None, flag=True)``: a referral done for ``poster`` whose
    commission the performer (empty wallet) owes, flagged overdue; the commission."""

    def do(performer, poster=None, flag=True):
        poster = poster or make_member()
        project = run_project(poster, performer)
        commission = complete_referral(project, actor=fresh(User, performer.id),
                                       invoiced_minor=500_00, idempotency_key=key())
        assert commission.state == CommissionState.DUE
        if flag:
            flag_overdue_commissions(now=past_due())
        return fresh(Commission, commission.id)

    return do


def cases_for(commission_id: int) -> list[Case]:
    db.session.rollback()
    return list(db.session.scalars(select(Case).where(Case.commission_id == commission_id)))


def test_an_overdue_commission_opens_one_case_about_the_payer(owe, ivan, sam, tom):
    commission = owe(sam, poster=tom)
    assert open_overdue_commission_cases(now=past_due()) == 1
    assert open_overdue_commission_cases(now=past_due()) == 0
    assert open_overdue_commission_cases() == 0
    (case,) = cases_for(commission.id)
    assert (case.subject_id, case.kind, case.source, case.state, case.opened_by_id) == (
        sam.id, CaseKind.UNPAID_COMMISSION, CaseSource.SYSTEM, CaseState.OPEN, None)
    assert f"project #{commission.project_id}" in case.summary and "unpaid" in case.summary
    assert evidence_of(case.id) == [(EvidenceKind.PROJECT, commission.project_id)]
    assert count(Case) == 1
    # the payer and their inviter are told once, and held
    assert [link for _, link in notes(sam, "case_opened")] == [f"/cases/{case.id}"]
    assert [link for _, link in notes(ivan, "case_opened")] == [f"/cases/{case.id}"]
    assert notes(tom, "case_opened") == []  # the referrer is owed, not answerable
    assert why_on_the_hook(fresh(User, sam.id), "post gigs").case_id == case.id
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs").case_id == case.id
    assert why_on_the_hook(fresh(User, tom.id), "post gigs") is None


def test_only_commissions_flagged_overdue_and_still_due_get_a_case(owe, fund, make_member):
    paid_late = owe(make_member("payer"))
    payer = fresh(User, paid_late.payer_id)
    fund(payer, paid_late.commission_minor)
    pay_commission(fresh(Commission, paid_late.id), actor=payer, idempotency_key=key())
    not_flagged = owe(make_member("early"), flag=False)  # due, not yet overdue
    assert open_overdue_commission_cases(now=past_due()) == 0
    assert cases_for(not_flagged.id) == [] and cases_for(paid_late.id) == []


def test_each_overdue_commission_gets_its_own_case(owe, make_member):
    first, second = owe(make_member("one")), owe(make_member("two"))
    assert open_overdue_commission_cases(now=past_due()) == 2
    assert [c.subject_id for c in cases_for(first.id)] == [first.payer_id]
    assert [c.subject_id for c in cases_for(second.id)] == [second.payer_id]


def test_a_resolved_case_is_not_opened_again_for_the_same_commission(owe, admin, sam):
    commission = owe(sam)
    open_overdue_commission_cases(now=past_due())
    (case,) = cases_for(commission.id)
    resolve_case(case, actor=admin, resolution="warned", reason="Pay by Friday, please.")
    assert open_overdue_commission_cases(now=past_due()) == 0
    assert count(Case) == 1


def test_the_job_runs_with_flask_jobs_run_once(app, owe, sam):
    commission = owe(sam)
    line = "open_overdue_commission_cases: opened {} cases for overdue commissions"
    for opened in (1, 0):
        result = app.test_cli_runner().invoke(args=["jobs", "run"])
        assert result.exit_code == 0, result.output
        assert line.format(opened) in result.output.splitlines()
    assert len(cases_for(commission.id)) == 1


def test_two_runs_at_the_same_moment_open_each_case_once(owe, make_member, race):
    for n in range(ROUNDS):
        payer = make_member(f"payer{n}")
        commission_id = owe(payer).id
        at = past_due()

        results, errors = race(2, lambda i, at=at: open_overdue_commission_cases(now=at))
        assert errors == [], "; ".join(f"{type(e).__name__}: {e}"[:300] for e in errors)
        assert sorted(results) == [0, 1]
        (case,) = cases_for(commission_id)
        assert case.subject_id == payer.id
        assert evidence_of(case.id) == [(EvidenceKind.PROJECT, fresh(
            Commission, commission_id).project_id)]
        assert count(Notification, Notification.kind == "case_opened",
                      Notification.link == f"/cases/{case.id}") == 1  # payer has no inviter


def test_a_run_that_loses_the_insert_opens_nothing(owe, sam, race, monkeypatch):
    """Both runs read the commission as caseless before either inserts (PostgreSQL):
    the unique commission_id and ON CONFLICT DO NOTHING settle it. (On SQLite the
    second run waits for the write lock instead and then finds the case.)"""
    commission_id = owe(sam).id
    at = past_due()
    both_read = threading.Barrier(2)
    inserts = []
    real_insert = services.insert_ignoring_conflicts

    def insert_once_both_have_read(model):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=3)  # SQLite: the other run waits for the write lock
        inserts.append(model)
        return real_insert(model)

    monkeypatch.setattr(services, "insert_ignoring_conflicts", insert_once_both_have_read)
    results, errors = race(2, lambda i: open_overdue_commission_cases(now=at))
    assert errors == [], "; ".join(f"{type(e).__name__}: {e}"[:300] for e in errors)
    assert sorted(results) == [0, 1]
    if db.engine.dialect.name == "postgresql":
        assert len(inserts) == 2  # both tried: the database decided
    (case,) = cases_for(commission_id)
    assert len(evidence_of(case.id)) == 1
    assert len(notes(sam, "case_opened")) == 1


def test_paying_the_commission_lets_an_admin_clear_the_case(owe, fund, admin, ivan, sam):
    commission = owe(sam)
    open_overdue_commission_cases(now=past_due())
    (case,) = cases_for(commission.id)
    fund(fresh(User, sam.id), commission.commission_minor)
    pay_commission(fresh(Commission, commission.id), actor=fresh(User, sam.id),
                   idempotency_key=key())  # allowed on the hook
    assert fresh(Commission, commission.id).state == CommissionState.PAID
    assert fresh(Case, case.id).is_open  # paying alone closes nothing: an admin decides
    resolve_case(fresh(Case, case.id), actor=admin, resolution="cleared",
                 reason="Paid in full, four days late.")
    closed = fresh(Case, case.id)
    assert (closed.state, closed.resolution, closed.resolved_by_id) == (
        CaseState.RESOLVED, "cleared", admin.id)
    assert why_on_the_hook(fresh(User, sam.id), "post gigs") is None
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs") is None
    with pytest.raises(Conflict, match="already resolved"):
        resolve_case(fresh(Case, case.id), actor=admin, resolution="warned", reason="Again.")
    assert open_overdue_commission_cases(now=past_due()) == 0


def test_the_case_page_says_whether_the_commission_is_paid(client, login, owe, fund, admin,
                                                            sam):
    commission = owe(sam)
    open_overdue_commission_cases(now=past_due())
    (case,) = cases_for(commission.id)
    login(sam)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Still unpaid" in page and f'href="/projects/{commission.project_id}"' in page
    fund(fresh(User, sam.id), commission.commission_minor)
    pay_commission(fresh(Commission, commission.id), actor=fresh(User, sam.id),
                   idempotency_key=key())
    login(admin)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Paid</strong>" in page and "The case can be cleared now." in page
