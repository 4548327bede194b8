"""Negotiating an open offer's terms: one side proposes a price and delivery time, the
other accepts, declines or counters. Each public function is one transaction, like the
offer services (``transactional``).

A proposal changes only the offer's terms, never its state: the offer's lifecycle and
fees stay in ``services``, whose gig lock (``_locked_gig``) and terms check (``_terms``)
this module shares so that a proposal queues up behind an award or a withdrawal on the
same gig. One pending proposal per offer (a unique index); closing an offer lapses it
(``services._lapse_proposals``). Depends on ``services``, never the other way round.
"""

from __future__ import annotations

from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db, transactional, utcnow
from offload.core.errors import Conflict, Invalid, refuse
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.transitions import insert_once, update_row
from offload.gigs.models import Gig
from offload.notifications.services import notify

from .models import NOTE_MAX, OPEN_STATES, Offer, OfferProposal, ProposalState
from .policies import other_party_id, why_cannot_answer_proposal, why_cannot_negotiate
from .services import CHANGED_UNDER_YOU, _locked_gig, _money, _terms


@transactional
def propose_terms(offer: Offer, *, actor: User, price_minor: int, days_to_deliver: int,
                  note: str = "") -> OfferProposal:
    """Propose a new price or delivery time on an open offer; the other side answers.

    Writes: a pending proposal (one per offer: a unique index).
    Notifies: the other side (offer_terms).
    Refuses: the terms agreed already (Invalid); a proposal already waiting (Conflict).
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_negotiate(offer, gig, actor),
            actor_may=actor.id in (offer.member_id, gig.poster_id))
    terms = _terms(price_minor, days_to_deliver)
    note = clean_text("note", note, NOTE_MAX, "The note", multiline=True)
    if (terms["price_minor"], terms["days_to_deliver"]) == (offer.price_minor,
                                                            offer.days_to_deliver):
        raise Invalid("Those are the terms agreed already: change the price or the days.")
    if _pending_proposal(offer.id) is not None:
        raise Conflict("A proposal on this offer is waiting for an answer: accept it, "
                       "decline it or counter it.")
    proposal = OfferProposal(offer_id=offer.id, proposer_id=actor.id, note=note,
                             state=ProposalState.PENDING, **terms)
    insert_once(proposal, refused="A proposal on this offer is waiting for an answer.",
                taken=lambda: _pending_proposal(offer.id))  # the one-pending-proposal index
    _tell(other_party_id(offer, gig, actor), offer,
          f"{actor.name} proposed {_terms_text(proposal)} for “{gig.title}”")
    return proposal


@transactional
def accept_proposal(proposal: OfferProposal, *, actor: User) -> Offer:
    """Agree to the other side's proposal: it becomes the offer's terms.

    State: proposal pending → accepted; the offer's price and days change.
    Notifies: the proposer (offer_terms).
    """
    offer, gig = _proposal_offer(proposal)
    _answer(proposal, offer, gig, actor, ProposalState.ACCEPTED)
    update_row(offer, Offer.state.in_(OPEN_STATES), price_minor=proposal.price_minor,
               days_to_deliver=proposal.days_to_deliver, updated_at=utcnow(),
               refused=CHANGED_UNDER_YOU)
    _tell(proposal.proposer_id, offer,
          f"{actor.name} agreed to {_terms_text(proposal)} for “{gig.title}”")
    return offer


@transactional
def decline_proposal(proposal: OfferProposal, *, actor: User) -> OfferProposal:
    """Keep the terms agreed so far. State: proposal pending → declined.
    Notifies: the proposer (offer_terms)."""
    offer, gig = _proposal_offer(proposal)
    _answer(proposal, offer, gig, actor, ProposalState.DECLINED)
    _tell(proposal.proposer_id, offer, f"{actor.name} kept the current terms for “{gig.title}”")
    return proposal


@transactional
def counter_proposal(proposal: OfferProposal, *, actor: User, price_minor: int,
                     days_to_deliver: int, note: str = "") -> OfferProposal:
    """Answer a proposal with other terms.

    State: proposal pending → countered; a new pending proposal from ``actor``.
    Notifies: the first proposer (offer_terms).
    """
    offer, gig = _proposal_offer(proposal)
    refuse(why_cannot_answer_proposal(proposal, offer, gig, actor),
            actor_may=_may_answer(proposal, offer, gig, actor))
    terms = _terms(price_minor, days_to_deliver)
    if (terms["price_minor"], terms["days_to_deliver"]) == (proposal.price_minor,
                                                            proposal.days_to_deliver):
        raise Invalid("Those are the terms proposed: accept the proposal instead.")
    if (terms["price_minor"], terms["days_to_deliver"]) == (offer.price_minor,
                                                            offer.days_to_deliver):
        raise Invalid("Those are the terms agreed already: to keep them, choose “Keep the "
                      "current terms”.")
    _answer(proposal, offer, gig, actor, ProposalState.COUNTERED)
    return propose_terms(offer, actor=actor, note=note, **terms)



def _tell(member_id: int, offer: Offer, title: str) -> None:
    notify(db.session.get(User, member_id), "offer_terms", title=title,
           link=site_path("offers.show", offer_id=offer.id, _anchor="negotiation"))


def _terms_text(proposal: OfferProposal) -> str:
    return f"{_money(proposal.price_minor)} in {_days(proposal.days_to_deliver)}"


# --- answering a proposal -----------------------------------------------------------------

def _answer(proposal: OfferProposal, offer: Offer, gig: Gig, actor: User,
            to: ProposalState) -> None:
    refuse(why_cannot_answer_proposal(proposal, offer, gig, actor),
            actor_may=_may_answer(proposal, offer, gig, actor))
    update_row(proposal, OfferProposal.state == ProposalState.PENDING, state=to.value,
               responded_by_id=actor.id, responded_at=utcnow(),
               refused="This proposal has already been answered.")



def _proposal_offer(proposal: OfferProposal) -> tuple[Offer, Gig]:
    offer = db.session.get(Offer, proposal.offer_id)
    gig = _locked_gig(offer)
    db.session.refresh(proposal)
    return offer, gig



def _may_answer(proposal: OfferProposal, offer: Offer, gig: Gig, actor: User) -> bool:
    """Whether ``actor`` could ever answer ``proposal``: the other party, never its
    proposer (so a refusal for them is NotAllowed, not Conflict)."""
    return actor.id in (offer.member_id, gig.poster_id) and actor.id != proposal.proposer_id



def _pending_proposal(offer_id: int) -> int | None:
    return db.session.scalar(select(OfferProposal.id).where(
        OfferProposal.offer_id == offer_id, OfferProposal.state == ProposalState.PENDING))



def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"
