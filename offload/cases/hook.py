"""On the hook: while a case about a member is open, that member and the member who
invited them may not send invites, post gigs or make offers (they may still finish
running projects and pay what they owe). The gig, offer and invite policies ask
``offload.accounts.standing``, which ``create_app`` points here (those packages sit
below cases, so they cannot import this module).

A case that contests an invoiced amount (``contested_commission_id``) holds nobody: it
is a disagreement about money for an admin to settle, opened on the referrer's word
alone, not a finding of misconduct. If the admin's correction leaves a commission due,
the overdue job opens an ordinary case later, and that one holds. Nor does a system
case about money that came for a member who deleted their account (a deposit, a
returned withdrawal, a chargeback: kind "other"): it is the admins' bookkeeping.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Integer, Select, and_, bindparam, func, or_, select

from offload.accounts.models import User
from offload.accounts.names import MemberName
from offload.core.db import db

from .models import Case, CaseKind, CaseSource, CaseState


class HookReason(str):
    """The reason text, with the case it comes from (pages link to it)."""

    case_id: int

    def __new__(cls, text: str, case_id: int) -> HookReason:
        reason = super().__new__(cls, text)
        reason.case_id = case_id
        return reason


class HookCase(NamedTuple):
    """The open case that puts a member on the hook, and whom it is about."""

    id: int
    subject: MemberName

    @property
    def subject_id(self) -> int:
        return self.subject.id


@lru_cache(maxsize=2)
def _hook_statement(as_inviter: bool) -> Select:
    # Built once for members (about them or about a member they invited) and once for
    # admins (about them); parameter: member_id. Core rows: it runs on every dashboard
    # view and behind every gig, offer and invite policy.
    member = bindparam("member_id", type_=Integer)
    subject = User.__table__.alias("subject")
    about = Case.subject_id == member
    if as_inviter:
        about = or_(about, subject.c.invited_by_id == member)
    # a contest holds nobody. coalesce, not IS NULL: SQLite would answer IS NULL from the
    # unique index on contested_commission_id, walking every case ever opened (all but
    # contests are NULL there) instead of the open ones by the state index
    not_a_contest = func.coalesce(Case.contested_commission_id, 0) == 0
    # nor does the admins' bookkeeping of money that came for a member who deleted their
    # account (``services.open_unclaimed_deposit_case`` and its kin): nobody misbehaved
    not_unclaimed = ~and_(Case.source == CaseSource.SYSTEM, Case.kind == CaseKind.OTHER,
                          subject.c.deleted_at.is_not(None))
    return (select(Case.id, subject.c.id, subject.c.username, subject.c.display_name)
            .join(subject, subject.c.id == Case.subject_id)
            .where(Case.state == CaseState.OPEN, not_a_contest, not_unclaimed, about)
            .order_by(Case.id).limit(1))


def hook_case(member: User) -> HookCase | None:
    """The oldest open case that puts the member on the hook (about them, or about a
    member they invited; not one contesting an invoiced amount); one query on the
    open-cases index.

    Admins answer for their own conduct but not as inviters: the site's first members
    are invited by its staff, who must not be stopped from working by them.
    """
    row = db.session.connection().execute(_hook_statement(not member.is_admin),
                                          {"member_id": member.id}).first()
    return HookCase(row[0], MemberName(*row[1:])) if row else None


def open_case_subjects() -> Select:
    """The subject ids of the open cases, one row per case (contests too: the invite
    tree counts every open case in a branch)."""
    return select(Case.subject_id).where(Case.state == CaseState.OPEN)


def why_on_the_hook(member: User, doing: str) -> HookReason | None:
    """The member-facing reason ``member`` may not do ``doing`` ("send invites") now."""
    case = hook_case(member)
    if case is None:
        return None
    about = "you" if case.subject_id == member.id else f"{case.subject.name}, whom you invited,"
    return HookReason(f"You can't {doing} while case #{case.id} about {about} is open. You "
                      "can still finish your running projects and pay what you owe.", case.id)
