"""A task project's agreed price is the contract: it completes when released milestones
add up to it, milestones can't be scheduled past it, and closing it short takes a lower
price one side proposes and the other accepts. Every money test ends with the ledger
check (the conftest runs it)."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.milestones import price
from offload.milestones import services as ms
from offload.milestones.models import Milestone, MilestoneState, PriceProposal
from offload.milestones.queries import price_progress
from offload.notifications.models import Notification
from offload.offers.services import accept_award, award_offer
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState
from tests.support.factories import fresh
from tests.support.milestones import wallets

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


# --- closing short: propose, accept, decline, withdraw -------------------------------------

def test_the_performer_proposes_closing_at_what_is_paid_and_the_customer_accepts(
        task320, referrer, performer):
    pay(task320, referrer, performer, 100_00)
    proposal = price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                         price_minor=100_00,
                                         reason="I can't do the rest: a new job came up.")
    assert (proposal.state, proposal.was_price_minor) == ("pending", 320_00)
    told = db.session.scalars(select(Notification.title).where(
        Notification.user_id == referrer.id)).all()
    assert any("lowering the price to $100.00" in t for t in told)
    price.accept_lower_price(fresh(PriceProposal, proposal.id), actor=referrer)
    project = fresh(Project, task320.id)
    assert (project.state, project.price_minor) == (ProjectState.COMPLETED, 100_00)
    assert fresh(Gig, task320.gig_id).state == GigState.COMPLETED
    assert fresh(PriceProposal, proposal.id).state == "accepted"
    assert events(task320)[-3:] == [EventKind.PRICE_PROPOSED, EventKind.PRICE_ACCEPTED,
                                    EventKind.COMPLETED]
    assert wallets(referrer, performer) == [(400_00, 0), (100_00, 0)]
    assert run_checks(MONEY_CHECKS) == []


def test_escrow_is_respected_and_the_project_completes_when_it_is_released(
        task320, referrer, performer):
    pay(task320, referrer, performer, 100_00)
    held = add(task320, referrer, 50_00, "Held")
    ms.fund_milestone(fresh(Milestone, held.id), actor=referrer, idempotency_key=key())
    add(task320, referrer, 100_00, "Not funded")
    with pytest.raises(InvalidField, match=r"can't go below \$150.00: \$100.00 is paid and "
                                           r"\$50.00 is held in escrow"):
        price.propose_lower_price(fresh(Project, task320.id), actor=referrer,
                                  price_minor=120_00, reason="Less work")
    proposal = price.propose_lower_price(fresh(Project, task320.id), actor=referrer,
                                         price_minor=150_00, reason="Less work")
    price.accept_lower_price(fresh(PriceProposal, proposal.id), actor=performer)
    project = fresh(Project, task320.id)
    assert (project.state, project.price_minor) == (ProjectState.ACTIVE, 150_00)
    # the draft no longer fits under the new price: it is taken off
    assert db.session.scalars(select(Milestone.state).where(
        Milestone.title == "Not funded")).all() == [MilestoneState.REMOVED]
    ms.release_milestone(fresh(Milestone, held.id), actor=referrer)
    assert state(task320) == ProjectState.COMPLETED
    assert run_checks(MONEY_CHECKS) == []


def test_decline_and_withdraw_keep_the_price(task320, referrer, performer):
    first = price.propose_lower_price(fresh(Project, task320.id), actor=referrer,
                                      price_minor=200_00, reason="Scope cut")
    with pytest.raises(Conflict, match="waiting for an answer"):
        price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                  price_minor=250_00, reason="Counter")
    with pytest.raises(NotAllowed):
        price.accept_lower_price(fresh(PriceProposal, first.id), actor=referrer)  # own
    with pytest.raises(NotAllowed):
        price.withdraw_lower_price(fresh(PriceProposal, first.id), actor=performer)
    price.decline_lower_price(fresh(PriceProposal, first.id), actor=performer)
    with pytest.raises(Conflict, match="already declined"):
        price.accept_lower_price(fresh(PriceProposal, first.id), actor=performer)
    second = price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                       price_minor=250_00, reason="Counter")
    price.withdraw_lower_price(fresh(PriceProposal, second.id), actor=performer)
    assert fresh(Project, task320.id).price_minor == 320_00
    assert events(task320)[-4:] == [EventKind.PRICE_PROPOSED, EventKind.PRICE_DECLINED,
                                    EventKind.PRICE_PROPOSED, EventKind.PRICE_WITHDRAWN]


@pytest.mark.parametrize(("amount", "reason", "message"), [
    (320_00, "Why", r"less than the agreed \$320.00"),
    (400_00, "Why", r"less than the agreed"),
    (0, "Why", "Enter the new price"),
    (50_00, "  ", "reason"),
])
def test_bad_proposals_are_refused_and_change_nothing(task320, referrer, performer, amount,
                                                      reason, message):
    pay(task320, referrer, performer, 10_00)
    with pytest.raises(InvalidField, match=message):
        price.propose_lower_price(fresh(Project, task320.id), actor=referrer,
                                  price_minor=amount, reason=reason)
    assert db.session.scalar(select(PriceProposal.id)) is None


def test_only_the_two_sides_of_a_running_task_propose(task320, start_project, make_member,
                                                      referrer):
    with pytest.raises(NotAllowed):
        price.propose_lower_price(fresh(Project, task320.id), actor=make_member("nosy"),
                                  price_minor=100_00, reason="Me")
    referral = start_project()
    with pytest.raises(Conflict, match="Referral projects"):
        price.propose_lower_price(referral, actor=referrer, price_minor=100_00, reason="R")


def test_the_database_keeps_one_pending_proposal_per_project(task320, referrer, performer):
    price.propose_lower_price(fresh(Project, task320.id), actor=referrer, price_minor=200_00,
                              reason="Scope cut")
    db.session.add(PriceProposal(project_id=task320.id, proposer_id=performer.id,
                                 price_minor=210_00, was_price_minor=320_00, reason="Again"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_more_funded_since_the_proposal_refuses_the_acceptance(task320, referrer, performer):
    proposal = price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                         price_minor=50_00, reason="Stopping here")
    m = add(task320, referrer, 100_00)
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key=key())
    with pytest.raises(Conflict, match=r"more was funded: The price can't go below \$100.00"):
        price.accept_lower_price(fresh(PriceProposal, proposal.id), actor=referrer)
    assert fresh(PriceProposal, proposal.id).is_pending
    assert fresh(Project, task320.id).price_minor == 320_00


def test_paying_the_whole_price_lapses_a_waiting_proposal(task320, referrer, performer):
    pay(task320, referrer, performer, 300_00)
    proposal = price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                         price_minor=300_00, reason="Close it here")
    pay(task320, referrer, performer, 20_00, "The last part")
    assert state(task320) == ProjectState.COMPLETED
    assert fresh(PriceProposal, proposal.id).state == "lapsed"
    with pytest.raises(Conflict):
        price.accept_lower_price(fresh(PriceProposal, proposal.id), actor=referrer)


def test_an_accept_and_a_withdraw_at_once_end_one_way_only(app, task320, referrer,
                                                           performer):
    pay(task320, referrer, performer, 100_00)
    proposal = price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                                         price_minor=100_00, reason="Stopping here")
    ids = {"proposal": proposal.id, "customer": referrer.id, "performer": performer.id}
    barrier, outcomes, errors = threading.Barrier(2), [], []

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                p = db.session.get(PriceProposal, ids["proposal"])
                if i == 0:
                    price.accept_lower_price(p, actor=db.session.get(User, ids["customer"]))
                    outcomes.append("accepted")
                else:
                    price.withdraw_lower_price(p, actor=db.session.get(User, ids["performer"]))
                    outcomes.append("withdrawn")
            except Conflict as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(outcomes) == 1 and len(errors) == 1, (outcomes, errors)
    assert fresh(PriceProposal, proposal.id).state == outcomes[0]
    project = fresh(Project, task320.id)
    assert (project.state, project.price_minor) == (
        (ProjectState.COMPLETED, 100_00) if outcomes == ["accepted"]
        else (ProjectState.ACTIVE, 320_00))
    assert run_checks(MONEY_CHECKS) == []


def test_accepting_takes_off_only_the_drafts_that_no_longer_fit(
        make_gig, make_offer, referrer, performer, fund):
    """Price 1000, 200 paid, two drafts of 300, accepted at 600: the older draft fits
    (200 + 300 <= 600) and stays; the newer one doesn't and is taken off."""
    fund(performer, 1_00)
    fund(referrer, 1000_00)
    offer = make_offer(make_gig(poster=referrer, kind="task"), performer, fee_kind="prepaid",
                       price_minor=1000_00)
    award_offer(offer, actor=referrer)
    project = accept_award(offer, actor=performer)
    pay(project, referrer, performer, 200_00, "Paid")
    older, newer = add(project, referrer, 300_00, "Older"), add(project, referrer, 300_00, "Newer")
    proposal = price.propose_lower_price(fresh(Project, project.id), actor=referrer,
                                         price_minor=600_00, reason="Less to do")
    price.accept_lower_price(fresh(PriceProposal, proposal.id), actor=performer)
    assert fresh(Milestone, older.id).state == MilestoneState.DRAFT
    assert fresh(Milestone, newer.id).state == MilestoneState.REMOVED
    p = progress(project)
    assert (p.price_minor, p.paid_minor, p.draft_minor, p.unscheduled_minor) == (
        600_00, 200_00, 300_00, 100_00)
    note = db.session.scalar(select(ProjectEvent.note).where(
        ProjectEvent.project_id == project.id, ProjectEvent.kind == EventKind.PRICE_ACCEPTED))
    assert note == ("The agreed price is now $600.00 (was $1,000.00). Milestones not funded "
                    "yet that no longer fit were taken off: “Newer”.")
    assert state(project) == ProjectState.ACTIVE
    assert run_checks(MONEY_CHECKS) == []


def test_the_drafts_over_a_price_go_from_the_first_that_does_not_fit():
    from offload.milestones.policies import drafts_over_price

    def draft(id_, amount):
        return Milestone(id=id_, amount_minor=amount, state=MilestoneState.DRAFT,
                         created_at=utcnow() + timedelta(seconds=id_))

    a, b, c = draft(1, 100_00), draft(2, 300_00), draft(3, 50_00)
    funded = Milestone(id=4, amount_minor=500_00, state=MilestoneState.FUNDED,
                       created_at=utcnow())
    assert drafts_over_price([c, funded, a, b], 0, 450_00) == []
    assert drafts_over_price([c, funded, a, b], 0, 400_00) == [c]
    # b doesn't fit, so c after it goes too, though c alone would fit: newest first
    assert drafts_over_price([c, a, b], 100_00, 300_00) == [c, b]
    assert drafts_over_price([a, b, c], 0, 0) == [c, b, a]
