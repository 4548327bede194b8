"""Who may do what with an offer. Each ``why_cannot_*`` returns the member-facing reason,
or None when allowed; services raise with it and views use the same functions to
decide which buttons to show."""

from __future__ import annotations

from datetime import date

from offload.accounts.models import User
from offload.accounts.standing import why_on_the_hook
from offload.core.db import utcnow
from offload.gigs.models import Gig, GigState

from .models import OPEN_STATES, Offer, OfferProposal, OfferState, ProposalState


def why_cannot_offer(gig: Gig, actor: User) -> str | None:
    """Why the member may not make an offer on this gig now (also: on the hook, an
    open case about them or a member they invited)."""
    return (why_cannot_offer_as(actor, gig.poster_id)
            or why_gig_takes_no_offers(gig.state, gig.deadline)
            or why_on_the_hook(actor, "make offers"))


def why_cannot_offer_as(actor: User, poster_id: int) -> str | None:
    """The part of ``why_cannot_offer`` that is who the actor is: nothing the gig's
    state or a retried request changes."""
    if not actor.is_confirmed:
        return "Confirm your e-mail address before making offers."
    if actor.id == poster_id:
        return "This is your own gig: you can't make an offer on it."
    return None


def why_gig_takes_no_offers(state: str, deadline: date) -> str | None:
    """The part of ``why_cannot_offer`` that is the gig's: its state and deadline."""
    if state != GigState.OPEN:
        return "Offers can only be made while the gig is open."
    if deadline < utcnow().date():
        return "This gig's deadline has passed."
    return None


def can_view_offer(offer: Offer, gig: Gig, viewer: User | None) -> bool:
    """The offerer, the gig's poster and admins; everyone else gets 404."""
    return viewer is not None and (viewer.id in (offer.member_id, gig.poster_id)
                                   or viewer.is_admin)


def is_party(offer: Offer, gig: Gig, actor: User) -> bool:
    return actor.id in (offer.member_id, gig.poster_id)


def other_party_id(offer: Offer, gig: Gig, actor: User) -> int:
    """The other side of the offer's conversation from ``actor`` (a party)."""
    return gig.poster_id if actor.id == offer.member_id else offer.member_id


def why_cannot_withdraw(offer: Offer, actor: User) -> str | None:
    if actor.id != offer.member_id:
        return "Only the member who made this offer can withdraw it."
    if offer.state not in OPEN_STATES:
        return _closed(offer, "withdrawn")
    return None


def why_cannot_shortlist(offer: Offer, gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted the gig can shortlist offers."
    if offer.state not in OPEN_STATES:
        return _closed(offer, "shortlisted")
    if gig.state != GigState.OPEN:  # the offer is still open: say what is closed
        return "Offers can only be shortlisted while the gig is open."
    return None


def why_cannot_decline(offer: Offer, gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted the gig can decline offers."
    if offer.state not in OPEN_STATES:
        return _closed(offer, "declined")
    return None


def why_cannot_award(offer: Offer, gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted the gig can award it."
    if gig.state != GigState.OPEN:
        return "Only an open gig can be awarded."
    if offer.state not in OPEN_STATES:
        return _closed(offer, "awarded")
    return None


def why_cannot_take_back_award(offer: Offer, gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted the gig can take back its award."
    if offer.state != OfferState.AWARDED:
        return "This offer isn't waiting for an answer to an award."
    return None


def why_cannot_answer_award(offer: Offer, actor: User) -> str | None:
    if actor.id != offer.member_id:
        return "Only the member who made this offer can accept or turn down its award."
    if offer.state != OfferState.AWARDED:
        return "This offer isn't waiting for your answer to an award."
    return None


def why_cannot_negotiate(offer: Offer, gig: Gig, actor: User) -> str | None:
    if not is_party(offer, gig, actor):
        return "Only the poster and the member who made the offer can negotiate it."
    if gig.state != GigState.OPEN or offer.state not in OPEN_STATES:
        return "Terms can only be negotiated while the offer is open on an open gig."
    return None


def why_cannot_answer_proposal(proposal: OfferProposal, offer: Offer, gig: Gig,
                               actor: User) -> str | None:
    if not is_party(offer, gig, actor):
        return "Only the poster and the member who made the offer can negotiate it."
    if proposal.proposer_id == actor.id:
        return "The other side answers your proposal; you can't answer it yourself."
    if proposal.state != ProposalState.PENDING:
        return "This proposal has already been answered."
    return why_cannot_negotiate(offer, gig, actor)


def _closed(offer: Offer, verb: str) -> str:
    state = OfferState(offer.state).label.lower()
    return f"This offer is {state}; it can't be {verb} any more."
