"""An admin resets a member's two-factor log-in: what goes, what is told, who may."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.accounts.devices import start_member_session
from offload.accounts.models import BackupCode, MemberSession, TwoFactor, User
from offload.accounts.queries import two_factor_status
from offload.core.db import db
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.moderation.account_recovery import (
    reset_member_two_factor,
    why_cannot_reset_two_factor,
)
from offload.moderation.models import PUBLIC_ACTIONS, ModerationEntry
from offload.notifications.models import Notification
from tests.support.factories import PASSWORD
from tests.support.two_factor import turn_on_two_factor


def _count(model, member_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(model)
                             .where(model.user_id == member_id))


def test_a_reset_removes_the_factors_ends_the_sessions_and_tells_the_member(make_member,
                                                                         outbox):
    boss = make_member("boss", admin=True)
    alice = make_member("alice")
    turn_on_two_factor(alice)
    start_member_session(alice, user_agent="Mozilla/5.0 (iPhone) Safari/604.1",
                         address="203.0.113.9")
    token = alice.session_token
    reset_member_two_factor(alice, actor=boss, password=PASSWORD,
                            reason="She called from her number on file; lost her phone.")
    db.session.expire_all()
    assert not two_factor_status(alice.id).is_on
    assert _count(TwoFactor, alice.id) == 0 and _count(BackupCode, alice.id) == 0
    assert db.session.get(User, alice.id).session_token != token
    assert db.session.scalar(select(func.count()).select_from(MemberSession).where(
        MemberSession.user_id == alice.id, MemberSession.ended_at.is_(None))) == 0
    mail = outbox.to("alice@example.com")[-1]
    assert mail.template == "two_factor_reset_by_admin"
    assert "An admin has reset two-factor authentication" in mail.text_body
    note = db.session.scalar(select(Notification).where(Notification.user_id == alice.id))
    assert note.kind == "two_factor_reset" and note.link == "/settings/two-factor"
    entry = db.session.scalar(select(ModerationEntry).where(
        ModerationEntry.action == "two_factor_reset"))
    assert (entry.actor_id, entry.subject_user_id) == (boss.id, alice.id)
    assert entry.reason.startswith("She called")
    assert "two_factor_reset" not in PUBLIC_ACTIONS  # how the admin checked stays private


@pytest.mark.parametrize(("password", "reason", "error"), [
    ("not the password", "Checked by phone", InvalidField),
    (PASSWORD, "   ", Invalid),
])
def test_a_wrong_password_or_a_blank_reason_changes_nothing(make_member, outbox, password,
                                                            reason, error):
    boss = make_member("boss", admin=True)
    alice = make_member("alice")
    turn_on_two_factor(alice)
    before = len(outbox.all())
    with pytest.raises(error):
        reset_member_two_factor(alice, actor=boss, password=password, reason=reason)
    db.session.rollback()
    assert two_factor_status(alice.id).is_on and _count(BackupCode, alice.id) == 10
    assert len(outbox.all()) == before
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0


def test_who_may_reset_whom(make_member):
    boss = make_member("boss", admin=True)
    other_admin = make_member("root2", admin=True)
    alice, bob = make_member("alice"), make_member("bob")
    for member in (boss, other_admin, alice):
        turn_on_two_factor(member)
    with pytest.raises(NotAllowed, match="Only admins"):
        reset_member_two_factor(alice, actor=bob, password=PASSWORD, reason="x")
    with pytest.raises(NotAllowed, match="your own"):
        reset_member_two_factor(boss, actor=boss, password=PASSWORD, reason="x")
    with pytest.raises(NotAllowed, match="An admin's two-factor"):
        reset_member_two_factor(other_admin, actor=boss, password=PASSWORD, reason="x")
    with pytest.raises(Conflict, match="no two-factor authentication to reset"):
        reset_member_two_factor(bob, actor=boss, password=PASSWORD, reason="x")
    assert why_cannot_reset_two_factor(alice, actor=boss) is None
    reset_member_two_factor(alice, actor=boss, password=PASSWORD, reason="Checked")
    with pytest.raises(Conflict):  # twice: the second finds nothing left
        reset_member_two_factor(alice, actor=boss, password=PASSWORD, reason="Checked")
