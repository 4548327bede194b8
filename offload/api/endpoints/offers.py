"""Offers: making one (its fee through an ``Idempotency-Key``), one offer, the member's
offers with their places, a gig's ranked offers for its poster, and every action of
the offer page (``offers.views``) over ``offers.services`` and ``offers.negotiation``.

An offer is seen by its maker, the gig's poster and admins; everyone else gets 404, for
the offer and its actions, as on the pages. Who may do which action is the services'
answer (a ``NotAllowed`` 403, a ``Conflict`` 409 when the offer's state is in the way).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask.views import MethodView
from sqlalchemy import inspect
from werkzeug.exceptions import NotFound

from offload.accounts.models import TokenScope
from offload.gigs.queries import gig_for
from offload.offers import negotiation, services
from offload.offers.models import OfferState
from offload.offers.queries import (
    my_offers as my_offers_page,
)
from offload.offers.queries import (
    offer_for,
    offer_page,
    proposal_for,
    ranked_offers_page,
)
from offload.offers.ranking import places_of
from offload.projects.queries import project_of_gig

from ..auth import require_scope
from ..blueprint import LINK_HEADER, PREFIX, READ, Joined, bp, link, needs, problem_response
from ..idempotency import IdempotencyHeader
from ..paging import paged
from ..schemas.common import CursorQuery
from ..schemas.offers import (
    DeclineBody,
    MyOfferPageSchema,
    MyOffersQuery,
    OfferBody,
    OfferSchema,
    RankedOfferPageSchema,
    ShortlistBody,
    TermsBody,
)
from ..writes import LOCATION_HEADER, body_names, created, loads, refusable
from .gigs import posters_gig

OFFERS = TokenScope.OFFERS.value
WALLET = TokenScope.WALLET.value

# the service's field names → the body's
_BODY_NAMES = {"price": "price_minor", "portfolio_items": "portfolio_item_ids"}
_NO_OFFER = "No such offer, or not one of the member's (its maker's or its gig's poster's)"
_NO_PROPOSAL = "No such proposal on this offer, or an offer the member may not see"


def _offer(member, offer_id: int) -> dict[str, Any]:
    return {"offer": offer_for(member, offer_id)}


def _proposal(member, offer_id: int, proposal_id: int) -> dict[str, Any]:
    offer = offer_for(member, offer_id)
    proposal = proposal_for(member, proposal_id)
    if proposal.offer_id != offer.id:
        raise NotFound()
    return {"proposal": proposal}


def _posters_gig(member, gig_id: int) -> dict[str, Any]:
    return {"gig": posters_gig(member, gig_id)}


def offer_detail(member, offer_id: int) -> Joined:
    """What ``OfferSchema`` shows, as the offer page reads it; else NotFound."""
    page = offer_page(offer_id, member)
    if page is None:
        raise NotFound()
    offer = page.offer
    project_id = project_of_gig(offer.gig) if offer.state == OfferState.ACCEPTED else None
    return Joined(offer, place=page.place, live_count=page.live_count,
                  proposals=page.proposals, project_id=project_id,
                  project_url=project_id and _project_path(project_id, absolute=True))


def _project_path(project_id: int, *, absolute: bool = False) -> str:
    """The project in the API; its endpoints are another area's (endpoints/projects.py),
    so by path."""
    root = current_app.config["CANONICAL_URL"].rstrip("/") if absolute else ""
    return f"{root}{PREFIX}/projects/{project_id}"


# --- a gig's offers -----------------------------------------------------------------------

@needs(READ)
@loads(_posters_gig)
@problem_response(404, "No such gig, or not the member's (admins see every gig's)")
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, RankedOfferPageSchema, headers=LINK_HEADER)
def gig_offers(member, gig, cursor: str | None = None, limit: int | None = None):
    """The gig's live offers in ranking order, for its poster"""
    page = ranked_offers_page(gig.id, cursor, size=limit)
    places = places_of([o.id for o in page.items])
    return paged([Joined(o, place=places[o.id]) for o in page.items], page.next_cursor)


@needs(OFFERS)
@link("TheOffer", "/offers/{offer_id}", offer_id="$response.body#/id")
@refusable
@loads(lambda member, gig_id: {"gig": gig_for(member, gig_id)})
@problem_response(404, "No such gig, or another member's draft")
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.arguments(OfferBody)
@bp.response(201, OfferSchema, headers=LOCATION_HEADER)
def make_offer(member, body: dict, gig, idempotency_key: str):
    """Make an offer on an open gig; a task gig's fee is charged (prepaid) or held
    (postpaid, charged when the award is accepted), which needs the `wallet` scope too
    (idempotent: a retry with the same key and body answers the same offer)"""
    if body.get("fee_kind"):  # money leaves the wallet: the token must be trusted with it
        require_scope(WALLET)
    with body_names(_BODY_NAMES):
        offer = services.make_offer(gig, actor=member, idempotency_key=idempotency_key,
                                    **body)
    offer_id = inspect(offer).identity[0]  # without reloading the committed row
    return created(offer_detail(member, offer_id), "api.offer", offer_id=offer_id)


@bp.route("/gigs/<int:gig_id>/offers", endpoint="gig_offers", tags=["offers"])
class GigOffers(MethodView):
    # one rule for both methods: with a rule per method, an id the converter refuses
    # (too big) would answer the other rule's 405 instead of a 404
    get = staticmethod(gig_offers)
    post = staticmethod(make_offer)


# --- the member's offers ------------------------------------------------------------------

@bp.route("/offers", tags=["offers"])
@needs(READ)
@bp.arguments(MyOffersQuery, location="query", as_kwargs=True)
@bp.response(200, MyOfferPageSchema, headers=LINK_HEADER)
def my_offers(member, cursor: str | None = None, limit: int | None = None,
              state: str | None = None):
    """The member's offers, newest first, each with its state and place"""
    page, places = my_offers_page(member.id, OfferState(state) if state else None, cursor,
                                  size=limit)
    return paged([Joined(o, place=places.get(o.id)) for o in page.items], page.next_cursor)


@bp.route("/offers/<int:offer_id>", tags=["offers"])
@needs(READ)
@problem_response(404, _NO_OFFER)
@bp.response(200, OfferSchema)
def offer(member, offer_id: int):
    """One offer with its terms, proposals and place, for its maker and the gig's poster"""
    return offer_detail(member, offer_id)


# --- the offer's actions ------------------------------------------------------------------

def _acted(member, offer, act: Callable[..., object], **values: Any) -> Joined:
    """``act(offer, actor=member, ...)`` (a service), then the offer as it now is."""
    offer_id = offer.id
    act(offer, actor=member, **values)
    return offer_detail(member, offer_id)


def _action(rule: str, summary: str, act: Callable[..., object]) -> None:
    """A button of the offer page without fields: POST ``rule``, an offer's."""

    def view(member, offer):
        return _acted(member, offer, act)

    view.__name__ = act.__name__
    view.__doc__ = summary
    bp.route(rule, methods=["POST"], tags=["offers"])(
        needs(OFFERS)(refusable(loads(_offer)(problem_response(404, _NO_OFFER)(
            bp.response(200, OfferSchema)(view))))))


_action("/offers/<int:offer_id>/withdraw",
        "Withdraw one's offer before the poster chooses", services.withdraw_offer)
_action("/offers/<int:offer_id>/award",
        "Choose this offer for one's gig; its maker then accepts or declines",
        services.award_offer)
_action("/offers/<int:offer_id>/take-back-award",
        "Take back an award its maker hasn't answered; the gig reopens",
        services.take_back_award)
_action("/offers/<int:offer_id>/decline-award",
        "Turn down the award of one's offer; the gig reopens", services.decline_award)


@bp.route("/offers/<int:offer_id>/shortlist", methods=["POST"], tags=["offers"])
@needs(OFFERS)
@refusable
@loads(_offer)
@problem_response(404, _NO_OFFER)
@bp.arguments(ShortlistBody, required=False)
@bp.response(200, OfferSchema)
def shortlist_offer(member, body: dict, offer):
    """Put an offer on one's gig's shortlist (or, with false, take it off)"""
    return _acted(member, offer, services.shortlist_offer, shortlisted=body["shortlisted"])


@bp.route("/offers/<int:offer_id>/decline", methods=["POST"], tags=["offers"])
@needs(OFFERS)
@refusable
@loads(_offer)
@problem_response(404, _NO_OFFER)
@bp.arguments(DeclineBody, required=False)
@bp.response(200, OfferSchema)
def decline_offer(member, body: dict, offer):
    """Decline an offer on one's gig; its maker sees the reason"""
    return _acted(member, offer, services.decline_offer, reason=body["reason"])


@bp.route("/offers/<int:offer_id>/accept", methods=["POST"], tags=["offers"])
@needs(OFFERS)
@refusable
@loads(_offer)
@problem_response(404, _NO_OFFER)
@bp.response(201, OfferSchema, headers=LOCATION_HEADER)
def accept_award(member, offer):
    """Accept the award of one's offer: the project starts (its id and project_url in
    the answer, its URL in Location)"""
    detail = _acted(member, offer, services.accept_award)
    return detail, 201, {"Location": _project_path(detail.project_id)}


# --- negotiating the terms ----------------------------------------------------------------

@bp.route("/offers/<int:offer_id>/terms", methods=["POST"], tags=["offers"])
@needs(OFFERS)
@refusable
@loads(_offer)
@problem_response(404, _NO_OFFER)
@bp.arguments(TermsBody)
@bp.response(201, OfferSchema, headers=LOCATION_HEADER)
def propose_terms(member, body: dict, offer):
    """Propose a new price or delivery time on an open offer; the other side answers
    (the proposal is in the offer's ``proposals``)"""
    offer_id = offer.id
    with body_names(_BODY_NAMES):
        detail = _acted(member, offer, negotiation.propose_terms, **body)
    return created(detail, "api.offer", offer_id=offer_id)


def _answered(member, proposal, act: Callable[..., object], **values: Any):
    offer_id = proposal.offer_id
    with body_names(_BODY_NAMES):
        act(proposal, actor=member, **values)
    return offer_detail(member, offer_id)


def _answer(rule: str, summary: str, act: Callable[..., object]) -> None:
    """An answer to the other side's proposal without fields: POST ``rule``, a
    proposal's."""

    def view(member, proposal):
        return _answered(member, proposal, act)

    view.__name__ = act.__name__
    view.__doc__ = summary
    bp.route(rule, methods=["POST"], tags=["offers"])(
        needs(OFFERS)(refusable(loads(_proposal)(problem_response(404, _NO_PROPOSAL)(
            bp.response(200, OfferSchema)(view))))))


_answer("/offers/<int:offer_id>/terms/<int:proposal_id>/accept",
        "Agree to the other side's proposal: it becomes the offer's terms",
        negotiation.accept_proposal)
_answer("/offers/<int:offer_id>/terms/<int:proposal_id>/decline",
        "Keep the terms agreed so far", negotiation.decline_proposal)


@bp.route("/offers/<int:offer_id>/terms/<int:proposal_id>/counter", methods=["POST"],
          tags=["offers"])
@needs(OFFERS)
@refusable
@loads(_proposal)
@problem_response(404, _NO_PROPOSAL)
@bp.arguments(TermsBody)
@bp.response(201, OfferSchema, headers=LOCATION_HEADER)
def counter_proposal(member, body: dict, proposal):
    """Answer the other side's proposal with other terms (a new pending proposal)"""
    offer_id = proposal.offer_id
    detail = _answered(member, proposal, negotiation.counter_proposal, **body)
    return created(detail, "api.offer", offer_id=offer_id)
