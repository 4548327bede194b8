"""Reading offers for pages. Each function runs a fixed number of queries whatever the
number of offers, proposals or messages; relationships are ``lazy="raise"``, so a
template reaching for something not loaded here fails in tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import joinedload, selectinload

from offload.accounts.models import User
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor, newest_first
from offload.gigs.models import Gig
from offload.profiles.models import PortfolioItem

from .models import LIVE_STATES, Offer, OfferMessage, OfferProposal, OfferState, ProposalState
from .policies import can_view_offer
from .ranking import RANK_ORDER, places_of


@dataclass
class OffersTab:
    """The offers section of a gig page."""

    live_count: int
    mine: Offer | None = None  # the viewer's live offer, or their latest one
    my_place: int | None = None
    top: list[Offer] = field(default_factory=list)  # for the poster: the first ranked
    accepted: Offer | None = None  # for the poster: the offer the project started from


@dataclass
class OfferPage:
    offer: Offer  # with gig (and its poster), member and portfolio items loaded
    place: int | None  # among the gig's live offers, None once not live
    live_count: int
    proposals: list[OfferProposal]  # oldest first, proposers loaded
    pending: OfferProposal | None
    messages: list[OfferMessage]  # oldest first on this page, senders loaded
    messages_page: Page  # its cursor leads to older messages


def live_offer_count(gig_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Offer).where(
        Offer.gig_id == gig_id, Offer.state.in_(LIVE_STATES)))


def live_offer_counts(gig_ids: list[int]) -> dict[int, int]:
    """How many live offers each of these gigs has (absent: none); one query."""
    if not gig_ids:
        return {}
    return dict(db.session.execute(
        select(Offer.gig_id, func.count()).where(Offer.gig_id.in_(gig_ids),
                                                 Offer.state.in_(LIVE_STATES))
        .group_by(Offer.gig_id)).all())


def offers_tab(gig: Gig, viewer: User) -> OffersTab:
    """The count for everyone, the viewer's own offer and place, the poster's top offers.

    Two queries for members (three with an offer), three for the poster (four once
    an award was accepted).
    """
    tab = OffersTab(live_count=live_offer_count(gig.id))
    if viewer.id == gig.poster_id or viewer.is_admin:
        tab.top = _ranked(gig.id, limit=current_app.config["OFFERS_ON_GIG_PAGE"])
        if gig.performer_id is not None:
            tab.accepted = db.session.scalar(
                select(Offer).where(Offer.gig_id == gig.id,
                                    Offer.state == OfferState.ACCEPTED)
                .options(joinedload(Offer.member, innerjoin=True)))
    if viewer.id != gig.poster_id:
        tab.mine = db.session.scalar(
            select(Offer).where(Offer.gig_id == gig.id, Offer.member_id == viewer.id)
            .order_by(Offer.created_at.desc(), Offer.id.desc()).limit(1))
        if tab.mine is not None and tab.mine.is_live:
            tab.my_place = places_of([tab.mine.id]).get(tab.mine.id)
    return tab


def ranked_offers_page(gig_id: int, cursor: str | None = None) -> Page:
    """A gig's live offers in ranking order, a page at a time (keyset on the rank)."""
    size = current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    offers = _ranked(gig_id, limit=size + 1, after=key)
    more = len(offers) > size
    offers = offers[:size]
    next_cursor = encode_cursor(offers[-1].created_at, offers[-1].id) if more else None
    return Page(items=offers, next_cursor=next_cursor, is_first=key is None)


def _ranked(gig_id: int, *, limit: int, after=None) -> list[Offer]:
    stmt = (select(Offer).where(Offer.gig_id == gig_id, Offer.state.in_(LIVE_STATES))
            .options(joinedload(Offer.member, innerjoin=True),
                     selectinload(Offer.portfolio_items))
            .order_by(*RANK_ORDER).limit(limit))
    if after is not None:
        stmt = stmt.where(tuple_(Offer.created_at, Offer.id) > after)
    return list(db.session.scalars(stmt))


def offer_page(offer_id: int, viewer: User, messages_cursor: str | None = None
               ) -> OfferPage | None:
    """Everything the offer page shows, in seven queries; None when there is no such
    offer or the viewer is neither party nor an admin."""
    offer = db.session.scalar(
        select(Offer).where(Offer.id == offer_id)
        .options(joinedload(Offer.gig, innerjoin=True).joinedload(Gig.poster, innerjoin=True),
                 joinedload(Offer.member, innerjoin=True),
                 selectinload(Offer.portfolio_items)))
    if offer is None or not can_view_offer(offer, offer.gig, viewer):
        return None
    proposals = list(db.session.scalars(
        select(OfferProposal).where(OfferProposal.offer_id == offer.id)
        .order_by(OfferProposal.created_at, OfferProposal.id)
        .options(joinedload(OfferProposal.proposer, innerjoin=True))))
    pending = next((p for p in proposals if p.state == ProposalState.PENDING), None)
    messages = conversation_page(offer.id, messages_cursor)
    return OfferPage(offer=offer, place=places_of([offer.id]).get(offer.id),
                     live_count=live_offer_count(offer.gig_id), proposals=proposals,
                     pending=pending, messages=list(reversed(messages.items)),
                     messages_page=messages)


def messages_after(offer_id: int, after_id: int, limit: int = 50) -> list[OfferMessage]:
    """The conversation's messages newer than ``after_id``, oldest first (senders loaded);
    one query on the (offer_id, created_at, id) index."""
    return list(db.session.scalars(
        select(OfferMessage).where(OfferMessage.offer_id == offer_id,
                                   OfferMessage.id > after_id)
        .options(joinedload(OfferMessage.sender, innerjoin=True),
                 selectinload(OfferMessage.attachments))
        .order_by(OfferMessage.id).limit(limit)))


def conversation_page(offer_id: int, cursor: str | None) -> Page:
    """A page of the conversation, newest first (reverse it to show); senders loaded."""
    return newest_first(
        select(OfferMessage).where(OfferMessage.offer_id == offer_id)
        .options(joinedload(OfferMessage.sender, innerjoin=True),
                 selectinload(OfferMessage.attachments)),
        OfferMessage, cursor, size=current_app.config["MESSAGES_PAGE_SIZE"])


def my_offers(member_id: int, state: OfferState | None = None, cursor: str | None = None
              ) -> tuple[Page, dict[int, int]]:
    """The member's offers, any state or one, newest first, with their gigs; and the
    place of each live one. Three queries."""
    stmt = (select(Offer).where(Offer.member_id == member_id)
            .options(joinedload(Offer.gig, innerjoin=True)))
    if state:
        stmt = stmt.where(Offer.state == state)
    page = newest_first(stmt, Offer, cursor)
    return page, places_of([o.id for o in page.items if o.is_live])


def awards_awaiting_answer(member_id: int, limit: int = 10) -> list[Offer]:
    """The member's offers chosen by a poster and waiting for their answer (gigs loaded)."""
    return list(db.session.scalars(
        select(Offer).where(Offer.member_id == member_id, Offer.state == OfferState.AWARDED)
        .options(joinedload(Offer.gig, innerjoin=True))
        .order_by(Offer.state_changed_at.desc(), Offer.id.desc()).limit(limit)))


def portfolio_choices(member_id: int) -> list[PortfolioItem]:
    return list(db.session.scalars(select(PortfolioItem).where(
        PortfolioItem.user_id == member_id).order_by(PortfolioItem.id)))
