"""What closing gigs does to the offers on them: asked by the gig services, answered by
the offer services.

Offers sit above gigs (an offer points at its gig and moves it through ``lifecycle``),
so the gig services cannot import the offer services; yet a gig that closes must
close its offers in the same transaction (declined, postpaid holds released). So the
gig services call the steps here and ``create_app`` installs the offer side
(``install_offer_side``), as it registers notification subjects. Until then the steps
raise instead of leaving offers open on a closed gig with their fees held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class GigClosed(StrEnum):
    """Why gigs closed, as their offers record it (``offers.closed_reason`` values)."""

    CANCELLED = "gig_cancelled"
    EXPIRED = "gig_expired"
    POSTER_SUSPENDED = "poster_suspended"  # and the gig cancelled


@dataclass(frozen=True)
class OfferSide:
    # (gig_ids, *, reason, closed: GigClosed, actor_id=None) -> how many offers closed:
    # the open offers declined, their postpaid holds voided, offerers told
    close_offers_on_gigs: Callable[..., int]
    # (gig_ids, *, reason) -> offer ids: unanswered awards go back, the gigs reopen
    take_back_awards_on_gigs: Callable[..., list[int]]
    # (*, today) -> how many: awards unanswered past their gig's deadline go back
    lapse_unanswered_awards: Callable[..., int]


_side: OfferSide | None = None


def install_offer_side(side: OfferSide) -> None:
    global _side
    _side = side


def close_offers_on_gigs(gig_ids: list[int], *, reason: str, closed: GigClosed,
                         actor_id: int | None = None) -> int:
    """Close the open offers on these closed gigs; joins the caller's transaction."""
    return _installed().close_offers_on_gigs(gig_ids, reason=reason, closed=closed,
                                             actor_id=actor_id)


def take_back_awards_on_gigs(gig_ids: list[int], *, reason: str) -> list[int]:
    """Unanswered awards on these gigs go back; joins the caller's transaction."""
    return _installed().take_back_awards_on_gigs(gig_ids, reason=reason)


def lapse_unanswered_awards(*, today: date) -> int:
    """Awards still unanswered after their gig's deadline go back (its own transaction)."""
    return _installed().lapse_unanswered_awards(today=today)


def _installed() -> OfferSide:
    if _side is None:
        raise RuntimeError("No offer side installed for closing gigs: create_app() "
                           "installs it (offload.offers.services).")
    return _side
