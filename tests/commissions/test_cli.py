"""``flask commissions overdue``: lists commissions past their due day and exits 1 when
there are any, 0 when there are none (a commission due today is not overdue)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from offload.commissions.services import complete_referral
from offload.core.db import atomic, db, utcnow


def _overdue(app):
    return app.test_cli_runner().invoke(args=["commissions", "overdue"])


def test_no_commissions_no_overdue(app):
    result = _overdue(app)
    assert result.exit_code == 0
    assert result.output == "0 overdue commission(s)\n"


def test_due_today_is_not_listed_past_due_is_and_fails(app, start_project, performer):
    commission = complete_referral(start_project(title="Shop for a bakery"), actor=performer,
                                   invoiced_minor=500_00, idempotency_key="cli-overdue")
    today = utcnow().date()
    with atomic():
        db.session.execute(text("UPDATE commissions SET due_on = :d WHERE id = :id"),
                           {"d": today, "id": commission.id})
    result = _overdue(app)
    assert (result.exit_code, result.output) == (0, "0 overdue commission(s)\n")

    yesterday = today - timedelta(days=1)
    with atomic():
        db.session.execute(text("UPDATE commissions SET due_on = :d WHERE id = :id"),
                           {"d": yesterday, "id": commission.id})
    result = _overdue(app)
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"commission {commission.id}: $50.00 owed by performer since {yesterday.isoformat()} "
        f"(project {commission.project_id}, “Shop for a bakery”)",
        "1 overdue commission(s)"]
