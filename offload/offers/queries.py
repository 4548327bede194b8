"""Reading offers for pages. Each function runs a fixed number of queries whatever the
number of offers, proposals or messages; relationships are ``lazy="raise"``, so a
template reaching for something not loaded here fails in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import BigInteger, Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.accounts.names import MemberName
from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, encode_cursor, newest_first
from offload.core.text import markdown_excerpt
from offload.gigs.models import Gig
from offload.profiles.models import PortfolioItem
from offload.reviews.models import MemberRating
from offload.reviews.queries import Rating

from . import ranking
from .models import (
    LIVE_STATES,
    Offer,
    OfferClosedReason,
    OfferPortfolioItem,
    OfferProposal,
    OfferState,
    ProposalState,
)
from .policies import can_view_offer, why_cannot_withdraw
from .ranking import places_of

LETTER_START_CHARS = 200


class PortfolioLink(NamedTuple):
    """A portfolio item shown with an offer."""

    id: int
    title: str
    url: str


class RankedOffer(NamedTuple):
    """A live offer in the poster's ranked list, with what the poster weighs it by:
    plain values, for the template and the JSON API alike.

    ``fragment_key`` names the cached HTML of its row: it changes whenever anything
    the cached part shows changes (the offer's ``version``, bumped by every UPDATE; the
    offerer's name and rating; the portfolio items, which are only ever added or
    deleted), and holds ``created_at`` so a reused id (SQLite) is a new key. The place,
    the unread count and "sent … ago" stay outside it.
    """

    id: int
    gig_id: int
    state: str
    closed_reason: str | None
    price_minor: int
    days_to_deliver: int
    cover_letter: str
    created_at: datetime
    version: int
    member: MemberName
    rating: Rating  # the offerer's: value None while no review is published
    portfolio_items: tuple[PortfolioLink, ...]

    @property
    def member_id(self) -> int:
        return self.member.id

    @property
    def state_label(self) -> str:
        if self.closed_reason:
            return OfferClosedReason(self.closed_reason).label
        return OfferState(self.state).label

    @property
    def letter_start(self) -> str:
        """The cover letter's first words, as plain text (made when a row is rendered,
        so a cached row costs no markdown)."""
        return markdown_excerpt(self.cover_letter, LETTER_START_CHARS)

    @property
    def fragment_key(self) -> str:
        items = ",".join(str(item.id) for item in self.portfolio_items)
        return (f"{self.id}.{self.created_at.isoformat()}.{self.version}.{self.member.stamp}"
                f".{self.rating.value}/{self.rating.reviews}.{items}")


@dataclass
class OffersTab:
    """The offers section of a gig page."""

    live_count: int
    mine: Offer | None = None  # the viewer's live offer, or their latest one
    my_place: int | None = None
    can_withdraw_mine: bool = False  # shown next to their offer instead of a new one
    top: list[RankedOffer] = field(default_factory=list)  # for the poster: the first ranked
    accepted: Offer | None = None  # for the poster: the offer the project started from


@dataclass
class OfferPage:
    offer: Offer  # with gig (and its poster), member and portfolio items loaded
    place: int | None  # among the gig's live offers, None once not live
    live_count: int
    proposals: list[OfferProposal]  # oldest first, proposers loaded
    pending: OfferProposal | None


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

    Two queries for members (three with an offer); for the poster, the ranked offers
    (their rows carry the live count) and their portfolio items, and the accepted
    offer once an award was accepted.
    """
    if viewer.id == gig.poster_id or viewer.is_admin:
        rows = _ranked_rows(gig.id, limit=current_app.config["OFFERS_ON_GIG_PAGE"])
        tab = OffersTab(live_count=rows[0].live if rows else 0, top=_ranked_offers(rows))
        if gig.performer_id is not None:
            tab.accepted = db.session.scalar(
                select(Offer).where(Offer.gig_id == gig.id,
                                    Offer.state == OfferState.ACCEPTED)
                .options(joinedload(Offer.member, innerjoin=True)))
    else:
        tab = OffersTab(live_count=live_offer_count(gig.id))
    if viewer.id != gig.poster_id:
        tab.mine = db.session.scalar(
            select(Offer).where(Offer.gig_id == gig.id, Offer.member_id == viewer.id)
            .order_by(Offer.created_at.desc(), Offer.id.desc()).limit(1))
        if tab.mine is not None and tab.mine.is_live:
            tab.my_place = places_of([tab.mine.id]).get(tab.mine.id)
            tab.can_withdraw_mine = why_cannot_withdraw(tab.mine, viewer) is None
    return tab


def live_offer_of(gig_id: int, member_id: int) -> Offer | None:
    """The member's live offer on the gig (at most one: a partial unique index); one
    query."""
    return db.session.scalar(select(Offer).where(
        Offer.gig_id == gig_id, Offer.member_id == member_id, Offer.state.in_(LIVE_STATES)))


def ranked_offers_page(gig_id: int, cursor: str | None = None, size: int | None = None
                       ) -> Page:
    """A gig's live offers in ranking order, a page (``size``, default PAGE_SIZE) at a
    time (keyset on the rank; the cursor is "<rating key>.<created_at>.<id>" of the last
    offer shown)."""
    size = size or current_app.config["PAGE_SIZE"]
    key = _decode_rank_cursor(cursor)
    rows = _ranked_rows(gig_id, limit=size + 1, after=key)
    offers = _ranked_offers(rows[:size])
    next_cursor = None
    if len(rows) > size:
        last = rows[size - 1]
        next_cursor = f"{last.rank}.{encode_cursor(last.created_at, last.id)}"
    return Page(items=offers, next_cursor=next_cursor, is_first=key is None)


def _decode_rank_cursor(cursor: str | None) -> tuple | None:
    """A malformed cursor starts from the beginning rather than failing."""
    rank, _, rest = (cursor or "").partition(".")
    at_id = decode_cursor(rest)
    try:
        return (int(rank), *at_id) if at_id else None
    except ValueError:
        return None


def _ranked_rows(gig_id: int, *, limit: int, after=None) -> list:
    """The offers' rows with their offerers' names and ratings and their rank key (the
    rating is joined for the order anyway); one statement whatever the number."""
    config = current_app.config
    statement = _ranked_statement(limit, after is not None, config["RATING_PRIOR"],
                                  config["RATING_PRIOR_WEIGHT"])
    params = {"gig_id": gig_id}
    if after is not None:
        params.update(zip(("after_rating", "after_at", "after_id"), after, strict=True))
    return db.session.connection().execute(statement, params).all()


def _ranked_offers(rows) -> list[RankedOffer]:
    """Read models of ``rows`` (``_ranked_rows``), with their portfolio items: one more
    statement."""
    if not rows:
        return []
    items: dict[int, list[PortfolioLink]] = {}
    for offer_id, *item in db.session.connection().execute(
            _PORTFOLIO_OF_OFFERS, {"offer_ids": [row.id for row in rows]}):
        items.setdefault(offer_id, []).append(PortfolioLink(*item))
    return [RankedOffer(*row[:9], MemberName(*row[9:12]), Rating.of(row),
                        tuple(items.get(row.id, ()))) for row in rows]


_offers, _users = Offer.__table__, User.__table__

# RankedOffer's columns in its order, then the offerer's name and rating
_RANKED_COLUMNS = (_offers.c.id, _offers.c.gig_id, _offers.c.state, _offers.c.closed_reason,
                   _offers.c.price_minor, _offers.c.days_to_deliver, _offers.c.cover_letter,
                   _offers.c.created_at, _offers.c.version, _offers.c.member_id,
                   _users.c.username, _users.c.display_name, MemberRating.reviews,
                   MemberRating.stars_sum)

# the portfolio items of a page's offers, in one statement (built once)
_PORTFOLIO_OF_OFFERS = (
    select(OfferPortfolioItem.offer_id, PortfolioItem.id, PortfolioItem.title,
           PortfolioItem.url)
    .join(PortfolioItem, PortfolioItem.id == OfferPortfolioItem.portfolio_item_id)
    .where(OfferPortfolioItem.offer_id.in_(bindparam("offer_ids", expanding=True)))
    .order_by(OfferPortfolioItem.offer_id, PortfolioItem.id))


@lru_cache(maxsize=16)
def _ranked_statement(limit: int, paged: bool, prior: float, weight: int) -> Select:
    # Built once (it cost more to put together than to run); the rating prior is part
    # of the key because rating_key() writes it into the statement. Parameters: gig_id,
    # and after_rating, after_at, after_id when ``paged``.
    # ``live``: how many live offers the gig has, counted before the limit (meaningful
    # on the first page only)
    stmt = (ranking.ranked(select(*_RANKED_COLUMNS, ranking.rating_key().label("rank"),
                                  func.count().over().label("live")))
            .join(_users, _users.c.id == _offers.c.member_id)
            .where(Offer.gig_id == bindparam("gig_id"), Offer.state.in_(LIVE_STATES))
            .order_by(*ranking.rank_order()).limit(limit))
    if paged:
        stmt = stmt.where(ranking.after(tuple_(
            bindparam("after_rating", type_=BigInteger),
            bindparam("after_at", type_=Offer.created_at.type),
            bindparam("after_id", type_=Integer))))
    return stmt


def offer_for(viewer: User, offer_id: int) -> Offer:
    """The offer, if ``viewer`` may see it (its maker, the gig's poster, an admin); else
    NotFound, the 404 the offer and its actions answer to everyone else."""
    offer = db.session.get(Offer, offer_id)
    if offer is None or not can_view_offer(offer, db.session.get(Gig, offer.gig_id), viewer):
        raise NotFound()
    return offer


def proposal_for(viewer: User, proposal_id: int) -> OfferProposal:
    """The proposal, if ``viewer`` may see its offer (``offer_for``); else NotFound."""
    proposal = db.session.get(OfferProposal, proposal_id)
    if proposal is None:
        raise NotFound()
    offer_for(viewer, proposal.offer_id)
    return proposal


def offer_page(offer_id: int, viewer: User) -> OfferPage | None:
    """Everything the offer page shows but its conversation (``offload.conversations``,
    which sits above offers), in five queries; None when there is no such
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
    return OfferPage(offer=offer, place=places_of([offer.id]).get(offer.id),
                     live_count=live_offer_count(offer.gig_id), proposals=proposals,
                     pending=pending)


def my_offers(member_id: int, state: OfferState | None = None, cursor: str | None = None,
              size: int | None = None) -> tuple[Page, dict[int, int]]:
    """The member's offers, any state or one, newest first, a page (``size``, default
    PAGE_SIZE) at a time, with their gigs; and the place of each live one. Three
    queries."""
    stmt = (select(Offer).where(Offer.member_id == member_id)
            .options(joinedload(Offer.gig, innerjoin=True)))
    if state:
        stmt = stmt.where(Offer.state == state)
    page = newest_first(stmt, Offer, cursor, size)
    return page, places_of([o.id for o in page.items if o.is_live])


class AwardLine(NamedTuple):
    """An offer of the member's that a poster chose, waiting for their answer."""

    id: int
    gig_title: str
    state_changed_at: datetime  # when it was chosen


@lru_cache(maxsize=1)
def _awards_statement() -> Select:
    # built once (the dashboard runs it on every visit); parameters: member_id, limit
    return (select(Offer.id, Gig.title, Offer.state_changed_at)
            .join(Gig, Gig.id == Offer.gig_id)
            .where(Offer.member_id == bindparam("member_id", type_=Integer),
                   Offer.state == OfferState.AWARDED)
            .order_by(Offer.state_changed_at.desc(), Offer.id.desc())
            .limit(bindparam("limit", type_=Integer)))


def awards_awaiting_answer(member_id: int, limit: int = 10) -> list[AwardLine]:
    """The member's offers chosen by a poster and waiting for their answer."""
    return [AwardLine(*row) for row in db.session.execute(
        _awards_statement(), {"member_id": member_id, "limit": limit})]


def portfolio_choices(member_id: int) -> list[PortfolioItem]:
    return list(db.session.scalars(select(PortfolioItem).where(
        PortfolioItem.user_id == member_id).order_by(PortfolioItem.id)))


def gig_title_of_offer(offer_id: int) -> str | None:
    """What a notification linking to the offer is about: its gig (notifications.subjects)."""
    return db.session.scalar(select(Gig.title).join(Offer, Offer.gig_id == Gig.id)
                             .where(Offer.id == offer_id))
