"""The people and gigs of the offer tests (offers and conversations): a poster, two
funded offerers (bob, carol), a stranger, the poster's task and referral gigs; and
their read helpers, each of which first ends the test's read transaction
(``rollback``), so it sees what services committed.

The fixtures are imported by the conftests of tests/offers and tests/conversations."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from offload.core.db import db
from offload.ledger.models import LedgerAccount
from offload.ledger.services import wallet_account
from offload.notifications.models import Notification
from tests.support import factories


def new_key() -> str:
    return factories.new_key("offer-key")


def wallet(member) -> LedgerAccount:
    db.session.rollback()
    return wallet_account(member.id)


def notes(member, kind: str) -> list[str]:
    """The titles of the member's notifications of ``kind``, oldest first."""
    db.session.rollback()
    return list(db.session.scalars(select(Notification.title).where(
        Notification.user_id == member.id, Notification.kind == kind)
        .order_by(Notification.id)))


@pytest.fixture
def poster(make_member):
    return make_member("poster")


@pytest.fixture
def bob(make_member, fund):
    member = make_member("bob")
    fund(member, 10_00)
    return member


@pytest.fixture
def carol(make_member, fund):
    member = make_member("carol")
    fund(member, 10_00)
    return member


@pytest.fixture
def stranger(make_member):
    return make_member("stranger")


@pytest.fixture
def task_gig(make_gig, poster):
    return make_gig(poster=poster, kind="task")


@pytest.fixture
def referral_gig(make_gig, poster):
    return make_gig(poster=poster)
