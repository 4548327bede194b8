"""Negotiation (offload/offers/negotiation.py) on the real database: proposals, counters,
answers, refusals, and proposals lapsing when the offer stops being open.

An accepted proposal becomes the terms of the award and the project; reads go afresh
after ``db.session.rollback()``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.gigs.models import Gig
from offload.gigs.services import cancel_gig
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.offers import negotiation, services
from offload.offers.models import Offer, OfferProposal, ProposalState
from offload.projects.models import Project
from tests.support.factories import count, fresh
from tests.support.offers import notes, wallet


def proposal_states(offer: Offer) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(OfferProposal.state).where(
        OfferProposal.offer_id == offer.id).order_by(OfferProposal.id)))


def terms_of(offer: Offer) -> tuple[int, int]:
    o = fresh(Offer, offer.id)
    return o.price_minor, o.days_to_deliver


def test_either_side_proposes_and_the_other_is_told(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    proposal = negotiation.propose_terms(offer, actor=poster, price_minor=350_00,
                                      days_to_deliver=10, note="  Could you?  ")
    p = fresh(OfferProposal, proposal.id)
    assert (p.proposer_id, p.state, p.price_minor, p.days_to_deliver, p.note) == (
        poster.id, ProposalState.PENDING, 350_00, 10, "Could you?")
    assert p.responded_at is None and p.responded_by_id is None
    assert notes(bob, "offer_terms") == [
        f"Poster proposed $350.00 in 10 days for “{task_gig.title}”"]
    assert terms_of(offer) == (400_00, 10)  # nothing agreed yet
    negotiation.decline_proposal(fresh(OfferProposal, proposal.id), actor=bob)
    negotiation.propose_terms(fresh(Offer, offer.id), actor=bob, price_minor=400_00,
                           days_to_deliver=1)
    assert notes(poster, "offer_terms")[-1] == (
        f"Bob proposed $400.00 in 1 day for “{task_gig.title}”")


def test_one_proposal_waits_at_a_time(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    negotiation.propose_terms(offer, actor=bob, price_minor=380_00, days_to_deliver=10)
    for actor in (bob, poster):
        with pytest.raises(Conflict, match="waiting for an answer"):
            negotiation.propose_terms(fresh(Offer, offer.id), actor=actor, price_minor=360_00,
                                   days_to_deliver=9)
    assert proposal_states(offer) == [ProposalState.PENDING]


def test_the_database_refuses_a_second_pending_proposal(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    negotiation.propose_terms(offer, actor=bob, price_minor=380_00, days_to_deliver=10)
    with pytest.raises(Exception, match="(?i)unique"), atomic():
        db.session.add(OfferProposal(offer_id=offer.id, proposer_id=poster.id,
                                     price_minor=1, days_to_deliver=1))
        db.session.flush()
    assert proposal_states(offer) == [ProposalState.PENDING]


def test_proposing_the_terms_agreed_already_is_refused(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    with pytest.raises(Invalid, match="terms agreed already") as refused:
        negotiation.propose_terms(offer, actor=poster, price_minor=400_00, days_to_deliver=10)
    assert not isinstance(refused.value, InvalidField)  # not one field's fault
    with pytest.raises(InvalidField, match="more than zero") as refused:
        negotiation.propose_terms(fresh(Offer, offer.id), actor=poster, price_minor=0,
                               days_to_deliver=10)
    assert refused.value.field == "price"
    with pytest.raises(InvalidField, match="at most 1,000") as refused:
        negotiation.propose_terms(fresh(Offer, offer.id), actor=poster, price_minor=399_00,
                               days_to_deliver=10, note="n" * 1001)
    assert refused.value.field == "note"
    assert proposal_states(offer) == []


def test_negotiation_refusals(task_gig, poster, bob, carol, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    for actor in (stranger, carol):
        with pytest.raises(NotAllowed, match="Only the poster and the member"):
            negotiation.propose_terms(fresh(Offer, offer.id), actor=actor, price_minor=1_00,
                                   days_to_deliver=1)
    services.award_offer(fresh(Offer, other.id), actor=poster)
    with pytest.raises(Conflict, match="while the offer is open on an open gig"):
        negotiation.propose_terms(fresh(Offer, offer.id), actor=bob, price_minor=1_00,
                               days_to_deliver=1)
    with pytest.raises(Conflict, match="while the offer is open"):  # the awarded one
        negotiation.propose_terms(fresh(Offer, other.id), actor=poster, price_minor=1_00,
                               days_to_deliver=1)
    assert count(OfferProposal) == 0


def test_an_accepted_proposal_becomes_the_terms_of_the_award_and_the_project(
        task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    first = negotiation.propose_terms(offer, actor=poster, price_minor=350_00, days_to_deliver=14)
    before = utcnow()
    negotiation.accept_proposal(fresh(OfferProposal, first.id), actor=bob)
    p = fresh(OfferProposal, first.id)
    assert (p.state, p.responded_by_id) == (ProposalState.ACCEPTED, bob.id)
    assert before <= p.responded_at <= utcnow()
    assert terms_of(offer) == (350_00, 14)
    assert notes(poster, "offer_terms") == [
        f"Bob agreed to $350.00 in 14 days for “{task_gig.title}”"]
    # a later proposal that is declined leaves the last agreed terms in force
    second = negotiation.propose_terms(fresh(Offer, offer.id), actor=bob, price_minor=380_00,
                                    days_to_deliver=14)
    negotiation.decline_proposal(fresh(OfferProposal, second.id), actor=poster)
    assert fresh(OfferProposal, second.id).state == ProposalState.DECLINED
    assert notes(bob, "offer_terms")[-1] == (
        f"Poster kept the current terms for “{task_gig.title}”")
    assert terms_of(offer) == (350_00, 14)

    services.award_offer(fresh(Offer, offer.id), actor=poster)
    project = services.accept_award(fresh(Offer, offer.id), actor=bob)
    assert (project.price_minor, project.days_to_deliver) == (350_00, 14)
    assert fresh(Project, project.id).due_on == utcnow().date() + timedelta(days=14)
    assert wallet(bob).balance == 8_00  # the fee is the click's, whatever the price
    assert run_checks(MONEY_CHECKS) == []


def test_a_counter_proposal_closes_the_first_and_waits_for_the_first_proposer(
        task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    first = negotiation.propose_terms(offer, actor=poster, price_minor=300_00, days_to_deliver=10)
    counter = negotiation.counter_proposal(fresh(OfferProposal, first.id), actor=bob,
                                        price_minor=350_00, days_to_deliver=8, note="Meet me")
    old, new = fresh(OfferProposal, first.id), fresh(OfferProposal, counter.id)
    assert (old.state, old.responded_by_id) == (ProposalState.COUNTERED, bob.id)
    assert (new.state, new.proposer_id, new.price_minor, new.days_to_deliver, new.note) == (
        ProposalState.PENDING, bob.id, 350_00, 8, "Meet me")
    assert notes(poster, "offer_terms") == [
        f"Bob proposed $350.00 in 8 days for “{task_gig.title}”"]
    assert terms_of(offer) == (400_00, 10)
    negotiation.accept_proposal(fresh(OfferProposal, counter.id), actor=poster)
    assert terms_of(offer) == (350_00, 8)
    assert proposal_states(offer) == [ProposalState.COUNTERED, ProposalState.ACCEPTED]


def test_a_counter_must_change_the_proposed_terms(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    first = negotiation.propose_terms(offer, actor=poster, price_minor=300_00, days_to_deliver=10)
    with pytest.raises(Invalid, match="accept the proposal instead"):
        negotiation.counter_proposal(fresh(OfferProposal, first.id), actor=bob,
                                  price_minor=300_00, days_to_deliver=10)
    # countering with the terms agreed already is declining: refused, nothing changes
    with pytest.raises(Invalid, match="terms agreed already"):
        negotiation.counter_proposal(fresh(OfferProposal, first.id), actor=bob,
                                  price_minor=400_00, days_to_deliver=10)
    with pytest.raises(InvalidField, match="from 1 to 365"):
        negotiation.counter_proposal(fresh(OfferProposal, first.id), actor=bob,
                                  price_minor=300_00, days_to_deliver=0)
    assert proposal_states(offer) == [ProposalState.PENDING]


@pytest.mark.parametrize("answer", ["accept", "decline", "counter"])
def test_the_proposer_cannot_answer_their_own_proposal(task_gig, poster, bob, make_offer,
                                                       answer):
    offer = make_offer(task_gig, bob)
    proposal = negotiation.propose_terms(offer, actor=bob, price_minor=380_00, days_to_deliver=10)
    calls = {"accept": lambda p: negotiation.accept_proposal(p, actor=bob),
             "decline": lambda p: negotiation.decline_proposal(p, actor=bob),
             "counter": lambda p: negotiation.counter_proposal(p, actor=bob, price_minor=370_00,
                                                            days_to_deliver=10)}
    with pytest.raises(NotAllowed, match="you can't answer it yourself"):
        calls[answer](fresh(OfferProposal, proposal.id))
    assert proposal_states(offer) == [ProposalState.PENDING]
    assert terms_of(offer) == (400_00, 10)


def test_proposal_answer_refusals(task_gig, poster, bob, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    proposal = negotiation.propose_terms(offer, actor=bob, price_minor=380_00, days_to_deliver=10)
    with pytest.raises(NotAllowed, match="Only the poster and the member"):
        negotiation.accept_proposal(fresh(OfferProposal, proposal.id), actor=stranger)
    with pytest.raises(NotAllowed, match="Only the poster and the member"):
        negotiation.counter_proposal(fresh(OfferProposal, proposal.id), actor=stranger,
                                  price_minor=1_00, days_to_deliver=1)
    negotiation.decline_proposal(fresh(OfferProposal, proposal.id), actor=poster)
    for answer in (negotiation.accept_proposal, negotiation.decline_proposal):
        with pytest.raises(Conflict, match="already been answered"):
            answer(fresh(OfferProposal, proposal.id), actor=poster)
    with pytest.raises(Conflict, match="already been answered"):
        negotiation.counter_proposal(fresh(OfferProposal, proposal.id), actor=poster,
                                  price_minor=1_00, days_to_deliver=1)
    assert proposal_states(offer) == [ProposalState.DECLINED]
    assert terms_of(offer) == (400_00, 10)


@pytest.mark.parametrize("ending", ["withdraw", "decline", "award", "cancel_gig"])
def test_a_pending_proposal_lapses_when_the_offer_stops_being_open(
        task_gig, poster, bob, make_offer, ending):
    offer = make_offer(task_gig, bob)
    proposal = negotiation.propose_terms(offer, actor=poster, price_minor=300_00,
                                      days_to_deliver=10)
    {"withdraw": lambda: services.withdraw_offer(fresh(Offer, offer.id), actor=bob),
     "decline": lambda: services.decline_offer(fresh(Offer, offer.id), actor=poster),
     "award": lambda: services.award_offer(fresh(Offer, offer.id), actor=poster),
     "cancel_gig": lambda: cancel_gig(fresh(Gig, task_gig.id), actor=poster)}[ending]()
    p = fresh(OfferProposal, proposal.id)
    assert p.state == ProposalState.LAPSED and p.responded_at is not None
    with pytest.raises(Conflict, match="already been answered"):
        negotiation.accept_proposal(fresh(OfferProposal, proposal.id), actor=bob)
    assert terms_of(offer) == (400_00, 10)  # an award is on the terms agreed so far
    assert run_checks(MONEY_CHECKS) == []


def test_countering_with_the_terms_agreed_already_is_refused_and_changes_nothing(
        poster, bob, referral_gig, make_offer):
    offer = make_offer(referral_gig, bob)
    proposal = negotiation.propose_terms(offer, actor=poster, price_minor=300_00,
                                      days_to_deliver=10)
    with pytest.raises(Invalid, match="Keep the current terms"):
        negotiation.counter_proposal(fresh(OfferProposal, proposal.id), actor=bob,
                                  price_minor=offer.price_minor,
                                  days_to_deliver=offer.days_to_deliver)
    assert proposal_states(offer) == [ProposalState.PENDING]
