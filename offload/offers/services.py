"""Making, answering and awarding offers, and closing them when their gig closes or
their maker is suspended; negotiating their terms is ``negotiation``. Each public
function is one transaction (it joins the caller's, or opens its own and, on
PostgreSQL, is re-run on serialization failure or deadlock).

Every change of an offer's state goes through ``_move_offer`` / ``_close_offers``: an
UPDATE guarded by the state being left, so of two racing changes one wins and the
other gets ``Conflict``. The gig's state moves through ``gigs.lifecycle`` in the same
transaction, and the gig row is locked first (PostgreSQL) so that award, withdraw,
cancel and accept on one gig queue up instead of interleaving.

Fees move only through ``offload.ledger`` with ``Cause("offer", id)`` (see models).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from offload.accounts.models import User
from offload.accounts.standing import why_on_the_hook
from offload.core.db import db, in_atomic, known_id, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed, refuse
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import move_row
from offload.gigs.closing import GigClosed
from offload.gigs.lifecycle import lock_gig, lock_gig_state, log_after_commit, move_gig, move_gigs
from offload.gigs.models import Gig, GigKind, GigState
from offload.ledger.idempotency import claim_key, record_outcome
from offload.ledger.models import AccountKind, LedgerAccount, TransferKind
from offload.ledger.services import (
    Cause,
    InsufficientFunds,
    Leg,
    accounts_of,
    existing_wallet_and_system_ids,
    lock_accounts,
    post_batch,
    post_reservation,
    void_reservation,
    wallet_and_system_ids,
)
from offload.notifications.queries import Recipient, recipient_of
from offload.notifications.services import notify
from offload.profiles.models import PortfolioItem
from offload.projects.models import Project
from offload.projects.services import start_project

from .models import (
    COVER_LETTER_MAX,
    DAYS_LIMIT,
    DECLINE_REASON_MAX,
    LIVE_STATES,
    OFFER_TRANSITIONS,
    OPEN_STATES,
    PORTFOLIO_MAX,
    FeeKind,
    Offer,
    OfferClosedReason,
    OfferPortfolioItem,
    OfferProposal,
    OfferState,
    ProposalState,
)
from .policies import (
    why_cannot_answer_award,
    why_cannot_award,
    why_cannot_decline,
    why_cannot_offer_as,
    why_cannot_shortlist,
    why_cannot_take_back_award,
    why_cannot_withdraw,
    why_gig_takes_no_offers,
)

CHANGED_UNDER_YOU = "This offer changed while you were working on it. Reload it and try again."
ANOTHER_CHOSEN = "Another offer was chosen."


class FeeNotCovered(InsufficientFunds):
    """The wallet's available balance doesn't cover the offer's response fee."""


def fee_for(kind: FeeKind | str) -> int:
    """The response fee of a kind of click, from the configuration (minor units)."""
    if FeeKind(kind) == FeeKind.FREE:
        return 0
    name = f"{FeeKind(kind).upper()}_CLICK_FEE_MINOR"
    fee = current_app.config[name]
    if not isinstance(fee, int) or fee <= 0:  # a click is paid: free clicks are referrals
        raise RuntimeError(f"{name} must be a positive number of minor units, not {fee!r}")
    return fee


# --- making and withdrawing ---------------------------------------------------------------

def make_offer(gig: Gig, *, actor: User, price_minor: int, days_to_deliver: int,
               cover_letter: str, fee_kind: str | None, idempotency_key: str,
               portfolio_item_ids: Iterable[int] = ()) -> Offer:
    """Make an offer on an open gig of another member.

    State: a new offer, active.
    Money: referral gigs are free. Task gigs: a prepaid click posts
    PREPAID_CLICK_FEE_MINOR wallet → platform revenue at once; a postpaid click reserves
    POSTPAID_CLICK_FEE_MINOR (charged on acceptance of the award, else released).
    Idempotent: the same key again returns the first offer and charges nothing more.
    Notifies: the poster (new_offer).
    Refuses: ``why_cannot_offer``; a second live offer on the gig (Conflict, also when
    two arrive at once: a unique index); bad terms (InvalidField); a fee the wallet
    can't cover (FeeNotCovered), with nothing recorded.
    """
    # the ids from the identity map: after a rollback, reading them would reload the rows
    gig_id, actor_id = known_id(gig), known_id(actor)
    plan = _plan_offer(gig, actor, price_minor=price_minor, days_to_deliver=days_to_deliver,
                       cover_letter=cover_letter, fee_kind=fee_kind,
                       portfolio_item_ids=portfolio_item_ids)
    try:
        if not in_atomic():
            # a refusal rolls it all back
            return _make_offer_alone(plan, actor=actor, idempotency_key=idempotency_key)
        # a savepoint: a caller that catches a refusal (no funds) keeps no half-made offer
        with db.session.begin_nested():
            return _make_offer(plan, actor=actor, idempotency_key=idempotency_key)
    except IntegrityError:
        # rolled back by now, so the database can be asked why: two offers at once, the
        # one-live-offer index kept the other one
        if _live_offer_of(actor_id, gig_id) is None:
            # a chosen portfolio item deleted since the plan read it fails its foreign key
            problem = _portfolio_problem(plan.items, actor)
            if problem:
                raise problem from None
            raise  # not the one-live-offer index: a bug, not the member's doing
        raise Conflict("You already have an offer on this gig.") from None


@dataclass(frozen=True)
class _OfferPlan:
    """What placing an offer reads and checks before its write transaction, so that on
    SQLite the write lock is held only for the writes (and the re-checks that must be
    made under it: the gig's state, the one-time key). Each read here holds once read:
    a gig's poster, kind and title, a member's accounts and portfolio don't change under
    an offer (a portfolio item deleted meanwhile fails its foreign key), and an offer can
    only become live or declined after this read through the member's own offer on the
    gig, which the one-live-offer index refuses. Whether the member is on the hook is
    read under the lock (a case opened meanwhile must stop the offer), like the gig's
    state."""

    gig_id: int
    poster_id: int
    gig_title: str
    terms: dict[str, int]
    cover_letter: str
    fee: FeeKind
    items: list[int]
    portfolio_problem: InvalidField | None
    earlier: frozenset[OfferState]
    accounts: tuple[int | None, int | None]  # wallet, platform revenue (None: not made yet)
    poster: Recipient


def _plan_offer(gig: Gig, actor: User, *, price_minor: int, days_to_deliver: int,
                cover_letter: str, fee_kind: str | None,
                portfolio_item_ids: Iterable[int]) -> _OfferPlan:
    gig_id, poster_id = known_id(gig), gig.poster_id
    not_you = why_cannot_offer_as(actor, poster_id)
    if not_you:
        raise NotAllowed(not_you)  # who the actor is: no input or replay changes that
    terms = _terms(price_minor, days_to_deliver)
    cover_letter = clean_text("cover_letter", cover_letter, COVER_LETTER_MAX,
                              "The cover letter", required=True, multiline=True)
    fee = _fee_kind(gig, fee_kind)
    items = sorted(set(portfolio_item_ids))
    return _OfferPlan(
        gig_id=gig_id, poster_id=poster_id, gig_title=gig.title,
        terms=terms, cover_letter=cover_letter,
        fee=fee, items=items, portfolio_problem=_portfolio_problem(items, actor),
        earlier=frozenset(_earlier_offers(actor.id, gig_id)),
        accounts=(existing_wallet_and_system_ids(actor.id, AccountKind.PLATFORM_REVENUE)
                  if fee != FeeKind.FREE else (None, None)),
        poster=recipient_of(poster_id, "new_offer"))


def _make_offer(plan: _OfferPlan, *, actor: User, idempotency_key: str) -> Offer:
    reason = (why_gig_takes_no_offers(*lock_gig_state(plan.gig_id))
              or why_on_the_hook(actor, "make offers"))
    stored = claim_key(actor.id, idempotency_key, {
        "op": "make_offer", "gig": plan.gig_id, "fee": plan.fee.value, "items": plan.items,
        "cover_letter": plan.cover_letter, **plan.terms})
    if stored is not None:
        offer = db.session.get(Offer, stored.get("offer_id", 0))
        if offer is None:
            raise Conflict("This offer is still being sent; reload the page in a moment.")
        return offer
    refuse(reason, actor_may=True)  # the gig's state stands in the way
    if plan.earlier.intersection(LIVE_STATES):
        raise Conflict("You already have an offer on this gig. Withdraw it first to make "
                       "a new one, or propose new terms on it.")
    if OfferState.DECLINED in plan.earlier:
        raise Conflict("The poster declined your offer on this gig, so you can't make "
                       "another one on it.")
    if plan.portfolio_problem:
        raise plan.portfolio_problem
    now = utcnow()
    offer = Offer(gig_id=plan.gig_id, member_id=actor.id, state=OfferState.ACTIVE,
                  cover_letter=plan.cover_letter, fee_kind=plan.fee,
                  fee_minor=fee_for(plan.fee), created_at=now, updated_at=now,
                  state_changed_at=now, **plan.terms)
    db.session.add(offer)
    db.session.flush()  # the unique index settles two offers at once (see make_offer)
    db.session.add_all(OfferPortfolioItem(offer_id=offer.id, portfolio_item_id=i)
                       for i in plan.items)
    batch_id = _charge_on_sending(offer, actor, plan.accounts)
    record_outcome(actor.id, idempotency_key, {"offer_id": offer.id}, batch_id)
    notify(plan.poster, "new_offer", title=f"{actor.name} made an offer on “{plan.gig_title}”",
           link=site_path("offers.show", offer_id=offer.id), subject=plan.gig_title)
    log_after_commit("offer made", offer_id=offer.id, gig_id=plan.gig_id, member_id=actor.id,
                     fee_kind=plan.fee.value, fee_minor=offer.fee_minor)
    return offer


_make_offer_alone = transactional(_make_offer)


@transactional
def withdraw_offer(offer: Offer, *, actor: User) -> Offer:
    """Take one's offer back before the poster chooses.

    State: active/shortlisted → withdrawn; a pending proposal lapses.
    Money: a postpaid hold is voided; a prepaid fee stays charged.
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_withdraw(offer, actor), actor_may=actor.id == offer.member_id)
    _move_offer(offer, OfferState.WITHDRAWN)
    _release_fee(offer, actor_id=actor.id)
    _lapse_proposals(Offer.id == offer.id)
    log_after_commit("offer withdrawn", offer_id=offer.id, gig_id=gig.id)
    return offer


# --- the poster's choices -----------------------------------------------------------------

@transactional
def shortlist_offer(offer: Offer, *, actor: User, shortlisted: bool = True) -> Offer:
    """Put an offer on the gig's shortlist, or take it off (the offerer sees it).

    State: active ↔ shortlisted (already there: nothing changes).
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_shortlist(offer, gig, actor), actor_may=actor.id == gig.poster_id)
    target = OfferState.SHORTLISTED if shortlisted else OfferState.ACTIVE
    if offer.state != target:
        _move_offer(offer, target)
    return offer


@transactional
def decline_offer(offer: Offer, *, actor: User, reason: str | None = None) -> Offer:
    """Decline an offer on one's gig; the offerer sees the reason if one is given.

    State: active/shortlisted → declined; a pending proposal lapses.
    Money: a postpaid hold is voided. Notifies: the offerer (offer_declined).
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_decline(offer, gig, actor), actor_may=actor.id == gig.poster_id)
    reason = clean_text("reason", reason, DECLINE_REASON_MAX, "The reason") or None
    _move_offer(offer, OfferState.DECLINED, decline_reason=reason)
    _release_fee(offer, actor_id=actor.id)
    _lapse_proposals(Offer.id == offer.id)
    notify(db.session.get(User, offer.member_id), "offer_declined",
           title=f"Your offer on “{gig.title}” was declined" + (f": {reason}" if reason
                                                                else "."),
           link=site_path("offers.show", offer_id=offer.id))
    return offer


@transactional
def award_offer(offer: Offer, *, actor: User) -> Offer:
    """Choose this offer for one's gig; the offerer then accepts or turns it down.

    State: gig open → awarded; offer active/shortlisted → awarded; its pending proposal
    lapses (the award is on the terms agreed so far). Other offers stay as they are
    until the award is accepted.
    Notifies: the offerer (award).
    Refuses: a gig that is no longer open, an offer no longer open (Conflict): of two
    awards at once, or an award and a withdrawal, exactly one happens.
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_award(offer, gig, actor), actor_may=actor.id == gig.poster_id)
    move_gig(gig, GigState.AWARDED)
    _move_offer(offer, OfferState.AWARDED)
    _lapse_proposals(Offer.id == offer.id)
    notify(db.session.get(User, offer.member_id), "award",
           title=f"{actor.name} chose your offer on “{gig.title}”: accept or turn it down",
           link=site_path("offers.show", offer_id=offer.id))
    log_after_commit("offer awarded", offer_id=offer.id, gig_id=gig.id)
    return offer


@transactional
def take_back_award(offer: Offer, *, actor: User) -> Offer:
    """Take back an award its offerer hasn't answered yet; the gig reopens.

    State: offer awarded → active (live again, its place kept); gig awarded → open.
    Money: none moves (a postpaid hold stays held: the offer is live again).
    Notifies: the offerer (award_taken_back).
    Refuses: an award already accepted or turned down (Conflict): of a take-back and
    an acceptance at once, exactly one happens.
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_take_back_award(offer, gig, actor), actor_may=actor.id == gig.poster_id)
    _move_offer(offer, OfferState.ACTIVE)
    move_gig(gig, GigState.OPEN)
    notify(db.session.get(User, offer.member_id), "award_taken_back",
           title=f"{actor.name} took back the award of “{gig.title}”; your offer is "
                 "open again", link=site_path("offers.show", offer_id=offer.id))
    log_after_commit("award taken back", offer_id=offer.id, gig_id=gig.id)
    return offer


# --- the offerer's answer to an award -----------------------------------------------------

@transactional
def accept_award(offer: Offer, *, actor: User) -> Project:
    """Accept the award and start the project.

    State: offer awarded → accepted; gig awarded → in progress (performer recorded);
    the gig's other open offers → declined; a project on the agreed terms.
    Money: this offer's postpaid fee posted; other postpaid holds voided.
    Notifies: the poster (award_accepted); the declined offerers (offer_declined).
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_answer_award(offer, actor), actor_may=actor.id == offer.member_id)
    awarded_at = offer.state_changed_at
    lock_fee_accounts(Offer.gig_id == gig.id)  # this fee and the holds released below
    _move_offer(offer, OfferState.ACCEPTED)
    if offer.fee_kind == FeeKind.POSTPAID:
        charged = post_reservation(offer.fee_transfer_id, actor_id=actor.id)
        _store(offer, fee_settle_transfer_id=charged.id)
    move_gig(gig, GigState.IN_PROGRESS, performer_id=offer.member_id)
    _close_offers(Offer.gig_id == gig.id, Offer.id != offer.id, reason=ANOTHER_CHOSEN,
                  closed=OfferClosedReason.ANOTHER_CHOSEN, actor_id=actor.id)
    project = start_project(gig_id=gig.id, offer_id=offer.id, poster_id=gig.poster_id,
                            performer_id=offer.member_id, kind=gig.kind,
                            price_minor=offer.price_minor, currency=gig.currency,
                            days_to_deliver=offer.days_to_deliver, awarded_at=awarded_at)
    notify(db.session.get(User, gig.poster_id), "award_accepted",
           title=f"{actor.name} accepted “{gig.title}”: the project has started",
           link=site_path("projects.show", project_id=project.id))
    log_after_commit("award accepted", offer_id=offer.id, gig_id=gig.id,
                     project_id=project.id)
    return project


@transactional
def decline_award(offer: Offer, *, actor: User) -> Offer:
    """Turn an award down; the gig goes back on the board.

    State: offer awarded → award declined; gig awarded → open.
    Money: this offer's postpaid hold voided. Notifies: the poster (award_declined).
    """
    gig = _locked_gig(offer)
    refuse(why_cannot_answer_award(offer, actor), actor_may=actor.id == offer.member_id)
    _move_offer(offer, OfferState.AWARD_DECLINED)
    _release_fee(offer, actor_id=actor.id)
    move_gig(gig, GigState.OPEN)
    notify(db.session.get(User, gig.poster_id), "award_declined",
           title=f"{actor.name} turned down “{gig.title}”; it is open for offers again",
           link=site_path("gigs.show", gig_id=gig.id))
    log_after_commit("award declined", offer_id=offer.id, gig_id=gig.id)
    return offer


@transactional
def lapse_unanswered_awards(*, today: date) -> int:
    """The job: an award still unanswered after its gig's deadline lapses, so the gig
    can expire instead of holding every offer's fee for good; how many lapsed.

    State: offer awarded → active; gig awarded → open (the expiry that follows in the
    same job declines the offers and releases their postpaid holds).
    Notifies: each offerer (award_taken_back).
    """
    stale = select(Gig.id).where(Gig.state == GigState.AWARDED, Gig.deadline < today)
    rows = _take_back_awards(Offer.gig_id.in_(stale))
    if not rows:
        return 0
    titles = dict(db.session.execute(
        select(Gig.id, Gig.title).where(Gig.id.in_([r.gig_id for r in rows]))).all())
    for r in rows:
        notify(db.session.get(User, r.member_id), "award_taken_back",
               title=f"The award of “{titles[r.gig_id]}” lapsed: its deadline passed "
                     "before you answered", link=site_path("offers.show", offer_id=r.id))
    log_after_commit("awards lapsed", count=len(rows))
    return len(rows)


# --- gigs closing -------------------------------------------------------------------------

@transactional
def close_offers_on_gigs(gig_ids: list[int], *, reason: str,
                         closed: OfferClosedReason | GigClosed,
                         actor_id: int | None = None) -> int:
    """Decline the open offers on gigs that closed (cancelled or expired); how many.

    State: active/shortlisted → declined with ``reason`` (told to the offerer) and
    ``closed`` (why, as the pages say it); pending proposals lapse.
    Money: their postpaid holds voided. Notifies: each offerer (offer_declined).
    Called by the gig services (through ``gigs.closing``) in the transaction that closes
    the gigs; ``closed`` may be the gig's ``GigClosed``, whose values are reasons here.
    """
    closed = OfferClosedReason(closed)
    # every wallet of every batch below, at once: across batches too (the gigs are
    # closed and locked, so no offer joins them meanwhile)
    accounts: set[int] = set()
    for first in range(0, len(gig_ids), 500):
        accounts |= fee_accounts(Offer.gig_id.in_(gig_ids[first:first + 500]))
    lock_accounts(accounts)
    count = 0
    for first in range(0, len(gig_ids), 500):
        count += len(_close_offers(Offer.gig_id.in_(gig_ids[first:first + 500]),
                                   reason=reason, closed=closed, actor_id=actor_id))
    return count


# --- a member suspended -------------------------------------------------------------------

@transactional
def close_member_offers(member: User, *, reason: str, actor_id: int,
                        closed: OfferClosedReason | None = OfferClosedReason.MEMBER_SUSPENDED
                        ) -> int:
    """A suspended (or leaving) member's live offers end; how many.

    State: open offers → withdrawn (postpaid holds voided, the member told); an award
    waiting for their answer → award declined, its gig open again (the poster told);
    each closed because the member was suspended (``closed_reason``), which the pages
    say instead of "withdrawn" or "award turned down". ``closed`` None records no
    reason of the site's: a member deleting their account withdraws them themselves.
    """
    awarded = list(db.session.scalars(select(Offer).where(
        Offer.member_id == member.id, Offer.state == OfferState.AWARDED).order_by(Offer.id)))
    declined = 0
    for offer in awarded:
        gig = _locked_gig(offer)  # (the suspension locked it already: this reloads)
        db.session.refresh(offer)
        if offer.state != OfferState.AWARDED:  # answered or taken back a moment ago
            continue
        declined += 1
        _move_offer(offer, OfferState.AWARD_DECLINED,
                    closed_reason=closed.value if closed else None)
        _release_fee(offer, actor_id=actor_id)
        move_gig(gig, GigState.OPEN)
        notify(db.session.get(User, gig.poster_id), "award_declined",
               title=f"{member.name} can no longer take “{gig.title}”; it is open for "
                     "offers again", link=site_path("gigs.show", gig_id=gig.id))
    withdrawn = _close_offers(Offer.member_id == member.id, reason=reason, actor_id=actor_id,
                              closed=closed, to=OfferState.WITHDRAWN)
    return declined + len(withdrawn)


@transactional
def take_back_awards_on_gigs(gig_ids: list[int], *, reason: str) -> list[int]:
    """Unanswered awards on these gigs go back (a suspended poster's gigs are about to
    be cancelled); the gigs reopen. Notifies each offerer (award_taken_back). The ids
    of the offers."""
    if not gig_ids:
        return []
    rows = _take_back_awards(Offer.gig_id.in_(gig_ids))
    for r in rows:
        notify(db.session.get(User, r.member_id), "award_taken_back",
               title=f"An award to you was taken back: {reason}",
               link=site_path("offers.show", offer_id=r.id))
    return [r.id for r in rows]


def _take_back_awards(on_gigs: ColumnElement[bool]) -> list:
    """Unanswered awards on the gigs matching ``on_gigs`` become active offers again and
    the gigs reopen (guarded bulk UPDATEs); the offers' (id, gig_id, member_id) rows."""
    now = utcnow()
    assert OfferState.ACTIVE in OFFER_TRANSITIONS[OfferState.AWARDED]
    rows = db.session.execute(
        update(Offer).where(Offer.state == OfferState.AWARDED, on_gigs)
        .values(state=OfferState.ACTIVE, state_changed_at=now, updated_at=now)
        .returning(Offer.id, Offer.gig_id, Offer.member_id)
        .execution_options(synchronize_session=False)).all()
    if rows:
        move_gigs(GigState.AWARDED, GigState.OPEN, Gig.id.in_([r.gig_id for r in rows]),
                  now=now)
    return rows


# --- state changes ------------------------------------------------------------------------

def _move_offer(offer: Offer, to: OfferState, **values: Any) -> None:
    """Move ``offer`` along ``OFFER_TRANSITIONS`` with an UPDATE guarded by its state."""
    now = utcnow()
    move_row(offer, to, OFFER_TRANSITIONS,
             not_allowed=lambda frm: f"This offer is {frm.label.lower()}; it can't become "
                                     f"{to.label.lower()}.",
             refused=CHANGED_UNDER_YOU, **{"state_changed_at": now, "updated_at": now, **values})


def _close_offers(*where: ColumnElement[bool], reason: str, closed: OfferClosedReason | None,
                  actor_id: int | None, to: OfferState = OfferState.DECLINED) -> list[int]:
    """Decline (or withdraw) every open offer matching ``where``, recording why
    (``closed``; None when the offerer closed them): guarded bulk UPDATE, holds voided,
    proposals lapsed, offerers told. Returns the offer ids."""
    assert all(to in OFFER_TRANSITIONS[s] for s in OPEN_STATES)
    now = utcnow()
    rows = db.session.execute(
        update(Offer).where(Offer.state.in_(OPEN_STATES), *where)
        .values(state=to, decline_reason=reason, closed_reason=closed.value if closed else None,
                state_changed_at=now, updated_at=now)
        .returning(Offer.id, Offer.member_id, Offer.gig_id, Offer.fee_kind,
                   Offer.fee_transfer_id)
        .execution_options(synchronize_session=False)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    lock_accounts(accounts_of(r.fee_transfer_id for r in rows if r.fee_kind == FeeKind.POSTPAID))
    for r in rows:
        if r.fee_kind == FeeKind.POSTPAID:
            _void_hold(r.id, r.fee_transfer_id, actor_id=actor_id)
    _lapse_proposals(Offer.id.in_(ids))
    titles = dict(db.session.execute(
        select(Gig.id, Gig.title).where(Gig.id.in_({r.gig_id for r in rows}))).all())
    members = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_({r.member_id for r in rows})))}
    for r in rows:
        released = " Your postpaid fee was released." if r.fee_kind == FeeKind.POSTPAID else ""
        notify(members[r.member_id], "offer_declined",
               title=f"Your offer on “{titles[r.gig_id]}” was closed: {reason}{released}",
               link=site_path("offers.show", offer_id=r.id))
    log_after_commit("offers closed", count=len(ids), reason=reason)
    return ids


def _lapse_proposals(*offer_where: ColumnElement[bool]) -> None:
    db.session.execute(
        update(OfferProposal).where(
            OfferProposal.state == ProposalState.PENDING,
            OfferProposal.offer_id.in_(select(Offer.id).where(*offer_where)))
        .values(state=ProposalState.LAPSED, responded_at=utcnow())
        .execution_options(synchronize_session=False))


# --- fees ---------------------------------------------------------------------------------

def _charge_on_sending(offer: Offer, actor: User,
                      known: tuple[int | None, int | None]) -> str | None:
    """Post a prepaid fee or reserve a postpaid one; the ledger batch id (None if free).
    ``known``: the wallet and revenue accounts' ids read before, None for one to make."""
    if offer.fee_kind == FeeKind.FREE:
        return None
    wallet_id, revenue_id = (known if None not in known else
                             wallet_and_system_ids(actor.id, AccountKind.PLATFORM_REVENUE))
    kind = (TransferKind.PREPAID_CLICK if offer.fee_kind == FeeKind.PREPAID
            else TransferKind.POSTPAID_CLICK)
    leg = Leg(wallet_id, revenue_id, offer.fee_minor, kind)
    try:
        # the batch, not the Transfer: its id and batch id are all this needs
        batch = post_batch([leg], cause=Cause("offer", offer.id), actor_id=actor.id,
                           pending=offer.fee_kind == FeeKind.POSTPAID)
    except InsufficientFunds:
        available = db.session.get(LedgerAccount, wallet_id, populate_existing=True).available
        how = ("charged when you send the offer" if offer.fee_kind == FeeKind.PREPAID
               else "held until the poster chooses")
        raise FeeNotCovered(
            f"Your available balance is {_money(available)}: it doesn't cover the "
            f"{_money(offer.fee_minor)} {offer.fee_kind} fee ({how}). Add funds to your "
            "wallet, then send the offer.") from None
    _store(offer, fee_transfer_id=batch.transfer_ids[0])
    return batch.batch_id


def lock_fee_accounts(*offer_where: ColumnElement[bool]) -> None:
    """Lock up front the ledger accounts of the postpaid holds of the live offers
    matching ``offer_where``: what charging or releasing them will touch, so that a
    transaction settling several (an expiry, a suspension) takes its locks in one
    ascending order instead of hold by hold. Joins the caller's transaction."""
    lock_accounts(fee_accounts(*offer_where))


def fee_accounts(*offer_where: ColumnElement[bool]) -> set[int]:
    """The ledger accounts of those holds, unlocked: for a caller that locks them
    together with the other accounts its transaction touches. Reads only."""
    holds = db.session.scalars(select(Offer.fee_transfer_id).where(
        Offer.fee_kind == FeeKind.POSTPAID, Offer.state.in_(LIVE_STATES),
        Offer.fee_transfer_id.is_not(None), *offer_where))
    return accounts_of(holds)


def _release_fee(offer: Offer, *, actor_id: int | None) -> None:
    if offer.fee_kind == FeeKind.POSTPAID:
        settle_id = _void_hold(offer.id, offer.fee_transfer_id, actor_id=actor_id)
        set_committed_value(offer, "fee_settle_transfer_id", settle_id)


def _void_hold(offer_id: int, hold_id: int, *, actor_id: int | None) -> int:
    """Release a postpaid offer's hold and record the release on the offer; its id."""
    voided = void_reservation(hold_id, actor_id=actor_id)
    _store_id(offer_id, fee_settle_transfer_id=voided.id)
    return voided.id


def _store(offer: Offer, **values: Any) -> None:
    _store_id(offer.id, **values)
    for name, value in values.items():
        set_committed_value(offer, name, value)


def _store_id(offer_id: int, **values: Any) -> None:
    db.session.execute(update(Offer).where(Offer.id == offer_id).values(**values)
                       .execution_options(synchronize_session=False))


# --- reading and checking -----------------------------------------------------------------

def _locked_gig(offer: Offer) -> Gig:
    """The offer's gig, row-locked (PostgreSQL), and the offer re-read after the lock."""
    gig = db.session.get(Gig, offer.gig_id)
    lock_gig(gig)
    db.session.refresh(offer)
    return gig


def _live_offer_of(member_id: int, gig_id: int) -> int | None:
    return db.session.scalar(select(Offer.id).where(
        Offer.gig_id == gig_id, Offer.member_id == member_id,
        Offer.state.in_(LIVE_STATES)))


def _earlier_offers(member_id: int, gig_id: int) -> set[OfferState]:
    """The states of the member's offers on the gig that stop a new one: live (one at
    a time) or declined. While a gig is open, only its poster declines offers (the gig
    closing declines the rest, and then nobody can offer); a withdrawn offer may be
    made again. One query for both checks."""
    return {OfferState(s) for s in db.session.scalars(select(Offer.state).distinct().where(
        Offer.gig_id == gig_id, Offer.member_id == member_id,
        Offer.state.in_([*LIVE_STATES, OfferState.DECLINED])))}


def _terms(price_minor: int, days_to_deliver: int) -> dict[str, int]:
    top = current_app.config["MAX_AMOUNT_MINOR"]
    if not isinstance(price_minor, int) or isinstance(price_minor, bool):
        raise InvalidField("price", "Enter the price as an amount, for example 450.")
    if price_minor <= 0:
        raise InvalidField("price", "The price must be more than zero.")
    if price_minor > top:
        raise InvalidField("price", f"The price can be at most {_money(top)}.")
    days_max = min(current_app.config["OFFER_DAYS_MAX"], DAYS_LIMIT)
    # bool is an int subclass: True would pass as one day
    if not isinstance(days_to_deliver, int) or isinstance(days_to_deliver, bool) \
            or not 1 <= days_to_deliver <= days_max:
        raise InvalidField("days_to_deliver",
                           f"Enter the days to deliver as a whole number from 1 to {days_max}.")
    return {"price_minor": price_minor, "days_to_deliver": days_to_deliver}


def _fee_kind(gig: Gig, given: str | None) -> FeeKind:
    if gig.kind == GigKind.REFERRAL:
        if given not in (None, "", FeeKind.FREE):
            raise InvalidField("fee_kind", "Offers on referral gigs are free.")
        return FeeKind.FREE
    if given not in (FeeKind.PREPAID, FeeKind.POSTPAID):
        raise InvalidField("fee_kind", "Choose a prepaid or a postpaid click.")
    return FeeKind(given)


def _portfolio_problem(item_ids: list[int], actor: User) -> InvalidField | None:
    """Why these portfolio items can't go with the offer, or None."""
    if len(item_ids) > PORTFOLIO_MAX:
        return InvalidField("portfolio_items",
                            f"Choose at most {PORTFOLIO_MAX} portfolio items.")
    if item_ids:
        mine = db.session.scalar(select(func.count()).select_from(PortfolioItem).where(
            PortfolioItem.id.in_(item_ids), PortfolioItem.user_id == actor.id))
        if mine != len(item_ids):
            return InvalidField("portfolio_items", "Choose items from your own portfolio.")
    return None


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])
