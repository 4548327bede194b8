"""Date boundaries of a due commission: on its due day (from its first minute to its
last) it is neither overdue, flagged nor listed, and the reminder still reaches the
performer; from the first minute of the next day it is overdue."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from offload.commissions.models import Commission, CommissionState
from offload.commissions.queries import overdue_commissions
from offload.commissions.services import (
    complete_referral,
    flag_overdue_commissions,
    remind_due_commissions,
)
from offload.core.db import db


def _due(start_project, performer) -> Commission:
    commission = complete_referral(start_project(), actor=performer, invoiced_minor=500_00,
                                   idempotency_key="boundary-due")
    assert commission.state == CommissionState.DUE
    return commission


def _at(day, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def test_a_commission_due_today_is_not_overdue_all_day(start_project, performer):
    commission = _due(start_project, performer)
    due_on = commission.due_on
    for now in (_at(due_on, 0, 0), _at(due_on, 23, 59)):
        assert not commission.is_overdue(now.date())
        assert overdue_commissions(today=now.date()) == []
        assert flag_overdue_commissions(now=now) == 0
    db.session.rollback()
    assert db.session.get(Commission, commission.id).overdue_at is None


def test_the_reminder_does_not_miss_a_commission_due_today(start_project, performer):
    commission = _due(start_project, performer)
    assert remind_due_commissions(now=_at(commission.due_on, 23, 59)) == 1
    db.session.rollback()
    assert db.session.get(Commission, commission.id).reminded_at is not None


def test_the_reminder_comes_no_earlier_than_its_days_before(app, start_project, performer):
    commission = _due(start_project, performer)
    first_day = commission.due_on - timedelta(days=app.config["COMMISSION_REMIND_DAYS"])
    assert remind_due_commissions(now=_at(first_day - timedelta(days=1), 23, 59)) == 0
    assert remind_due_commissions(now=_at(first_day, 0, 0)) == 1


def test_the_next_day_it_is_overdue_and_no_longer_a_reminder(start_project, performer):
    commission = _due(start_project, performer)
    next_day = _at(commission.due_on + timedelta(days=1), 0, 0)
    assert remind_due_commissions(now=next_day) == 0  # overdue now, not due soon
    assert commission.is_overdue(next_day.date())
    assert [row[0].id for row in overdue_commissions(today=next_day.date())] == [commission.id]
    assert flag_overdue_commissions(now=next_day) == 1
