"""The moderation log: written with a reason, in the acting service's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Invalid
from offload.moderation.models import ModerationEntry
from offload.moderation.services import record_moderation


def entries() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ModerationEntry))


def test_an_entry_records_who_did_what_to_whom_and_why(make_member):
    admin, alice = make_member("root", admin=True), make_member("alice")
    before = utcnow()
    entry = record_moderation(actor=admin, action="member_suspended", subject_type="user",
                              subject_id=alice.id, reason="  Spam in three gigs  ",
                              subject_user=alice)
    stored = db.session.get(ModerationEntry, entry.id, populate_existing=True)
    assert (stored.actor_id, stored.action, stored.subject_type, stored.subject_id,
            stored.subject_user_id, stored.reason) == (
        admin.id, "member_suspended", "user", alice.id, alice.id, "Spam in three gigs")
    assert before <= stored.created_at <= utcnow()


def test_the_member_affected_is_optional(make_member):
    admin = make_member("root", admin=True)
    entry = record_moderation(actor=admin, action="gig_hidden", subject_type="gig",
                              subject_id=3, reason="Off topic")
    assert entry.subject_user_id is None


@pytest.mark.parametrize("reason", ["", "   \n ", None])
def test_a_blank_reason_is_refused(make_member, reason):
    admin = make_member("root", admin=True)
    with pytest.raises(Invalid, match="reason"):
        record_moderation(actor=admin, action="gig_hidden", subject_type="gig", subject_id=3,
                          reason=reason)
    assert entries() == 0


def test_an_overlong_reason_is_refused(make_member):
    with pytest.raises(Invalid, match="under 2,000"):
        record_moderation(actor=make_member("root", admin=True), action="gig_hidden",
                          subject_type="gig", subject_id=3, reason="x" * 2001)


def test_the_database_refuses_a_blank_reason_too(make_member):
    admin = make_member("root", admin=True)
    with pytest.raises(IntegrityError), atomic():
        db.session.add(ModerationEntry(actor_id=admin.id, action="x", subject_type="gig",
                                       subject_id=1, reason="  "))
    assert entries() == 0


def test_the_entry_joins_the_callers_transaction_and_rolls_back_with_it(make_member):
    admin = make_member("root", admin=True)
    with pytest.raises(RuntimeError), atomic():
        record_moderation(actor=admin, action="gig_hidden", subject_type="gig",
                          subject_id=3, reason="Off topic")
        raise RuntimeError("the action failed after logging")
    assert entries() == 0
    with atomic():
        record_moderation(actor=admin, action="gig_hidden", subject_type="gig", subject_id=3,
                          reason="Off topic")
    assert entries() == 1
