"""Who may write in, and keep a read mark on, an offer's conversation.

A conversation is an offer's, so who its parties are and whether it is still open is
read from the offer and its gig (offers' and gigs' models only: conversations sits below
offers and projects, which call it, and imports none of their services, policies or
queries). Who may *read* it is the page's question: the offer's and the project's
load-and-authorize calls answer it (the two parties and admins).
"""

from __future__ import annotations

from offload.accounts.models import User
from offload.gigs.models import Gig
from offload.offers.models import OPEN_STATES, Offer, OfferState

# an accepted offer's conversation goes on as the project's
WRITABLE_STATES = (*OPEN_STATES, OfferState.AWARDED, OfferState.ACCEPTED)


def parties_of(offer: Offer, gig: Gig) -> tuple[int, int]:
    """The two sides of the offer's conversation: the offerer and the gig's poster."""
    return offer.member_id, gig.poster_id


def is_in_conversation(offer: Offer, gig: Gig, member: User) -> bool:
    return member.id in parties_of(offer, gig)


def other_side_of(offer: Offer, gig: Gig, member: User) -> int:
    """The other party from ``member`` (one of the two)."""
    return gig.poster_id if member.id == offer.member_id else offer.member_id


def why_cannot_message(offer: Offer, gig: Gig, actor: User) -> str | None:
    if not is_in_conversation(offer, gig, actor):
        return "Only the poster and the member who made the offer can write here."
    if not actor.is_confirmed:
        return "Confirm your e-mail address before sending messages."
    if offer.state not in WRITABLE_STATES:
        return "This conversation is closed: the offer is no longer open."
    return None
