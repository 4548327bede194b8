"""A task project's agreed price is the contract: it completes when released milestones
add up to it, milestones can't be scheduled past it, and closing it short takes a lower
price one side proposes and the other accepts. Every money test ends with the ledger
check (the conftest runs it)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField
from offload.gigs.models import Gig, GigState
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.milestones import services as ms
from offload.milestones.models import Milestone
from offload.milestones.queries import price_progress
from offload.offers.services import accept_award, award_offer
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState

from .test_services import fresh, wallets

_keys = itertools.count(1)


def key() -> str:
    return f"price-key-{next(_keys)}"


@pytest.fixture
def task320(make_gig, make_offer, referrer, performer, fund):
    """A task awarded at $320; the customer (the referrer) has $500."""
    fund(performer, 1_00)
    fund(referrer, 500_00)
    gig = make_gig(poster=referrer, kind="task")
    offer = make_offer(gig, performer, fee_kind="prepaid", price_minor=320_00)
    award_offer(offer, actor=referrer)
    return accept_award(offer, actor=performer)


def add(project, customer, amount, title="Part"):
    return ms.add_milestone(fresh(Project, project.id), actor=customer, title=title,
                            amount_minor=amount, due_on=utcnow().date() + timedelta(days=5))


def pay(project, customer, performer, amount, title="Part") -> Milestone:
    """Add, fund, deliver and release a milestone."""
    m = add(project, customer, amount, title)
    ms.fund_milestone(fresh(Milestone, m.id), actor=customer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Done")
    ms.release_milestone(fresh(Milestone, m.id), actor=customer)
    return m


def state(project) -> str:
    return fresh(Project, project.id).state


def events(project) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent.kind).where(
        ProjectEvent.project_id == project.id).order_by(ProjectEvent.id)))


def progress(project):
    return price_progress(fresh(Project, project.id))


# --- completion needs the whole price ------------------------------------------------------

def test_ten_dollars_released_of_320_leaves_the_project_open_until_the_rest_is_paid(
        task320, referrer, performer):
    pay(task320, referrer, performer, 10_00, "A first small part")
    assert state(task320) == ProjectState.ACTIVE
    assert fresh(Gig, task320.gig_id).state == GigState.IN_PROGRESS
    p = progress(task320)
    assert (p.paid_minor, p.scheduled_minor, p.unscheduled_minor) == (10_00, 10_00, 310_00)
    assert EventKind.COMPLETED not in events(task320)
    pay(task320, referrer, performer, 310_00, "The rest")  # milestones can still be added
    assert state(task320) == ProjectState.COMPLETED
    assert fresh(Gig, task320.gig_id).state == GigState.COMPLETED
    assert wallets(performer) == [(320_00, 0)]
    assert run_checks(MONEY_CHECKS) == []


def test_milestones_cannot_be_scheduled_past_the_price(task320, referrer):
    add(task320, referrer, 300_00)
    with pytest.raises(InvalidField, match=r"only \$20.00 of it is left to schedule") as e:
        add(task320, referrer, 30_00)
    assert e.value.field == "amount"
    add(task320, referrer, 20_00)
    with pytest.raises(Conflict, match=r"The whole \$320.00 price is scheduled"):
        add(task320, referrer, 1)
    assert progress(task320).scheduled_minor == 320_00


def test_a_removed_draft_frees_its_part_of_the_price(task320, referrer):
    draft = add(task320, referrer, 320_00)
    ms.remove_milestone(fresh(Milestone, draft.id), actor=referrer)
    assert progress(task320).unscheduled_minor == 320_00
    add(task320, referrer, 320_00)
