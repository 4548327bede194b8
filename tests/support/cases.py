"""The case tests' people and helpers (tests/cases and tests/admin): a family on the
invite tree (gramps → ivan → sam → gina, and tom outside it), admins, projects started
the real way, and read-only helpers. A plugin (``pytest_plugins`` in tests/conftest.py):
the fixtures are everyone's; a directory's own fixture of the same name wins there.

Every helper that reads first ends the test's read transaction (``rollback``), so it
sees what services committed. Wallets are read with ``wallet_summary`` (it never
writes), not ``wallet_account`` (which creates the account it does not find).
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from offload.cases.models import Case, CaseEvidence
from offload.cases.services import open_case
from offload.core.db import db
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.offers.services import accept_award, award_offer
from offload.wallet.queries import wallet_summary

_keys = itertools.count(1)


def key(prefix: str = "case-test") -> str:
    return f"{prefix}-{next(_keys)}"


def entries(**where) -> list[tuple]:
    """The moderation log, oldest first: (action, subject_type, subject_id, actor_id,
    subject_user_id, reason), filtered on ModerationEntry columns."""
    db.session.rollback()
    stmt = select(ModerationEntry).order_by(ModerationEntry.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(ModerationEntry, name) == value)
    return [(e.action, e.subject_type, e.subject_id, e.actor_id, e.subject_user_id, e.reason)
            for e in db.session.scalars(stmt)]


def notes(member, kind: str) -> list[tuple[str, str | None]]:
    """(title, link) of the member's notifications of ``kind``, oldest first."""
    db.session.rollback()
    return [(n.title, n.link) for n in db.session.scalars(
        select(Notification).where(Notification.user_id == member.id,
                                   Notification.kind == kind).order_by(Notification.id))]


def evidence_of(case_id: int) -> list[tuple[str, int]]:
    db.session.rollback()
    return [(e.kind, e.target_id) for e in db.session.scalars(
        select(CaseEvidence).where(CaseEvidence.case_id == case_id).order_by(CaseEvidence.id))]


def wallet(member) -> tuple[int, int]:
    """(available, held), read-only."""
    db.session.rollback()
    s = wallet_summary(member.id)
    return s.available, s.held


def case_ids() -> list[int]:
    db.session.rollback()
    return list(db.session.scalars(select(Case.id).order_by(Case.id)))


@pytest.fixture
def admin(make_member):
    return make_member("boss", display_name="Bea Boss", admin=True)


@pytest.fixture
def other_admin(make_member):
    return make_member("chief", display_name="Cid Chief", admin=True)


@pytest.fixture
def gramps(make_member):
    return make_member("gramps", display_name="Gus Gramps")


@pytest.fixture
def ivan(make_member, gramps):
    """The inviter: invited by gramps."""
    return make_member("ivan", display_name="Ivan Inviter", inviter=gramps)


@pytest.fixture
def sam(make_member, ivan):
    """The subject of the cases: invited by ivan."""
    return make_member("sam", display_name="Sam Subject", inviter=ivan)


@pytest.fixture
def gina(make_member, sam):
    """Sam's own invitee (ivan's grandchild on the tree)."""
    return make_member("gina", display_name="Gina Grandchild", inviter=sam)


@pytest.fixture
def tom(make_member):
    """A member outside the family."""
    return make_member("tom", display_name="Tom Third")


@pytest.fixture
def open_case_about(admin):
    """``open_case_about(subject, actor=admin, kind="other", summary=..., evidence=())``."""

    def do(subject, *, actor=None, kind="other", summary="Missed three agreed deadlines.",
           evidence=()):
        return open_case(actor=actor or admin, subject=subject, kind=kind, summary=summary,
                         evidence=evidence)

    return do


@pytest.fixture
def run_project(make_gig, make_offer):
    """``run_project(poster, performer, kind="referral")``: a gig awarded and accepted
    (task offers are prepaid: the performer needs $1 in the wallet); the project."""

    def run(poster, performer, kind: str = "referral", **gig_fields):
        gig = make_gig(poster=poster, kind=kind, **gig_fields)
        offer = make_offer(gig, performer, fee_kind="prepaid" if kind == "task" else None)
        award_offer(offer, actor=poster)
        return accept_award(offer, actor=performer)

    return run


@pytest.fixture
def logout(client):
    def do():
        client.post("/logout")

    return do
