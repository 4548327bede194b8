"""``flask jobs run`` and ``flask jobs deliver-mail`` through Flask's CLI runner."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from offload.core.db import db, utcnow
from offload.invites.models import Invite, InviteState
from offload.jobs import registry
from offload.notifications import services
from offload.notifications.services import queue_email


@pytest.fixture
def sent(app, monkeypatch):
    """Sending is recorded, not done."""
    messages: list[dict] = []
    monkeypatch.setattr(services, "send_email", lambda **mail: messages.append(mail))
    return messages


def invoke(app, *args: str):
    return app.test_cli_runner().invoke(args=["jobs", *args])


def test_run_delivers_due_mail_and_expires_invites(app, make_member, outbox, sent):
    inviter = make_member()
    queue_email("ada@example.com", "notification", title="Hi", link_url=None)
    stale = Invite(inviter_id=inviter.id, email="old@example.com", vouch_note="Good dev",
                   token_hash="0" * 64, expires_at=utcnow() - timedelta(days=1))
    db.session.add(stale)
    db.session.commit()

    result = invoke(app, "run")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        "expire_invites: expired 1 invites",
        "expire_gigs: expired 0 gigs",
        "flag_stalling_projects: told the referrers of 0 stalling projects",
        "remind_due_commissions: reminded 0 performers of due commissions",
        "flag_overdue_commissions: flagged 0 overdue commissions",
        "open_overdue_commission_cases: opened 0 cases for overdue commissions",
        "accept_lapsed_invoice_reviews: accepted 0 invoiced amounts left unreviewed",
        "publish_due_reviews: published 0 reviews whose window closed",
        "send_instant_alerts: sent 0 keyword alerts",
        "send_daily_digests: sent 0 daily alert digests",
        "reverse_returning_withdrawals: returned 0 withdrawals whose payout failed",
        "build_exports: built 0 data exports",
        "expire_exports: expired 0 data exports",
        "resolve_password_resets: queued 0 password reset mails",
        "deliver_outbox: sent 1, failed 0, gave up 0",
        "deliver_webhooks: delivered 0, failed 0, turned off 0 endpoints",
    ]
    assert [m["to"] for m in sent] == ["ada@example.com"]
    assert outbox.all()[0].sent_at is not None
    assert db.session.get(Invite, stale.id).state == InviteState.EXPIRED

    again = invoke(app, "run").stdout.splitlines()
    assert again[-2] == "deliver_outbox: sent 0, failed 0, gave up 0"
    assert len(sent) == 1


def test_a_failing_job_is_reported_and_the_others_still_run(app, monkeypatch, caplog):
    ran = []

    def broken() -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(registry, "JOBS", (
        registry.Job("first", broken),
        registry.Job("second", lambda: ran.append("second") or "did its work"),
    ))
    result = invoke(app, "run")
    assert result.exit_code == 1
    assert ran == ["second"]
    assert result.stdout == "second: did its work\n"
    assert "first: FAILED" in result.stderr
    assert "job first failed" in caplog.text and "boom" in caplog.text


class _Deadlock(Exception):
    sqlstate = "40P01"


def test_a_job_that_loses_a_deadlock_is_re_run_as_a_request_is(app, monkeypatch, caplog):
    attempts = []

    def loses_once() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise DBAPIError("UPDATE commissions", {}, _Deadlock())
        return "did its work"

    monkeypatch.setattr(registry, "JOBS", (registry.Job("racer", loses_once),))
    result = invoke(app, "run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "racer: did its work\n"
    assert len(attempts) == 2
    assert "retrying job racer" in caplog.text


def test_a_job_that_keeps_losing_gives_up_after_three_tries(app, monkeypatch):
    attempts = []

    def always_loses() -> str:
        attempts.append(1)
        raise DBAPIError("UPDATE commissions", {}, _Deadlock())

    monkeypatch.setattr(registry, "JOBS", (registry.Job("racer", always_loses),))
    result = invoke(app, "run")
    assert result.exit_code == 1
    assert len(attempts) == 3


def test_deliver_mail_runs_only_the_outbox(app, outbox, sent, monkeypatch):
    monkeypatch.setattr(registry, "JOBS", ())  # proves it does not go through the job list
    for n in range(3):
        queue_email(f"m{n}@example.com", "notification", title="Hi", link_url=None)
    result = invoke(app, "deliver-mail", "--limit", "2")
    assert result.exit_code == 0
    assert result.stdout == "deliver_outbox: sent 2, failed 0, gave up 0\n"
    assert len(sent) == 2


def test_every_job_has_a_unique_name():
    names = [job.name for job in registry.JOBS]
    assert names == ["expire_invites", "expire_gigs", "flag_stalling_projects",
                     "remind_due_commissions", "flag_overdue_commissions",
                     "open_overdue_commission_cases", "accept_lapsed_invoice_reviews",
                     "publish_due_reviews",
                     "send_instant_alerts", "send_daily_digests",
                     "reverse_returning_withdrawals", "build_exports", "expire_exports",
                     "resolve_password_resets",
                     "deliver_outbox", "deliver_webhooks"]
    assert len(set(names)) == len(names)
