"""Races on one gig, each run several times on fresh gigs: threads with their own app
context, session and connection, released together (the ``race`` fixture), on the
suite's database (file SQLite, or PostgreSQL with OFFLOAD_TEST_DATABASE_URL).

The only refusal a loser may get is ``Conflict``: no "database is locked", no deadlock
or serialization failure left unretried, no integrity error leaking out. Threads get
ids and reload their rows with ``db.session.get``: ORM objects belong to one session.
"""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.core.db import db
from offload.core.errors import Conflict
from offload.gigs.models import Gig, GigState
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import Transfer, TransferState
from offload.ledger.services import wallet_account
from offload.notifications.models import Notification
from offload.offers import services
from offload.offers.models import Offer, OfferState

ROUNDS = 5


def describe(errors: list[BaseException]) -> str:
    return "; ".join(sorted({f"{type(e).__name__}: {e}"[:300] for e in errors}))


def offers_on(gig_id: int) -> list[Offer]:
    db.session.rollback()
    return list(db.session.scalars(select(Offer).where(Offer.gig_id == gig_id)
                                   .order_by(Offer.id)))


def fee_transfers(offer_id: int) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(
        Transfer.cause_type == "offer", Transfer.cause_id == offer_id).order_by(Transfer.id)))


@pytest.fixture
def poster(make_member):
    return make_member("poster")


@pytest.fixture
def bob(make_member, fund):
    member = make_member("bob")
    fund(member, 20_00)  # every round's fees, with room to spare
    return member


@pytest.fixture
def carol(make_member, fund):
    member = make_member("carol")
    fund(member, 20_00)
    return member


def test_two_awards_on_one_gig_at_once_let_exactly_one_through(
        poster, bob, carol, make_gig, make_offer, race):
    poster_id = poster.id
    for _ in range(ROUNDS):
        gig_id = make_gig(poster=poster, kind="task").id
        gig = db.session.get(Gig, gig_id)
        offer_ids = [make_offer(gig, bob).id, make_offer(gig, carol, fee_kind="prepaid").id]

        def award(i, offer_ids=offer_ids):
            actor = db.session.get(User, poster_id)
            return services.award_offer(db.session.get(Offer, offer_ids[i]), actor=actor).id

        results, errors = race(2, award)
        assert {type(e) for e in errors} == {Conflict}, describe(errors)
        assert len(results) == 1 and len(errors) == 1
        assert db.session.get(Gig, gig_id).state == GigState.AWARDED
        states = {o.id: o.state for o in offers_on(gig_id)}
        assert Counter(states.values()) == {OfferState.AWARDED: 1, OfferState.ACTIVE: 1}
        assert states[results[0]] == OfferState.AWARDED
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.kind == "award", Notification.link == f"/offers/{results[0]}")) == 1
        assert run_checks(MONEY_CHECKS) == []


def test_an_offer_withdrawn_while_it_is_awarded_ends_one_way_only(
        poster, bob, make_gig, make_offer, race):
    poster_id, bob_id = poster.id, bob.id
    outcomes = []
    for n in range(ROUNDS):
        gig_id = make_gig(poster=poster, kind="task").id
        offer_id = make_offer(db.session.get(Gig, gig_id), bob).id

        def award_or_withdraw(i, offer_id=offer_id, awarder=n % 2):
            offer = db.session.get(Offer, offer_id)
            if i == awarder:  # which thread awards alternates between rounds
                services.award_offer(offer, actor=db.session.get(User, poster_id))
                return OfferState.AWARDED
            services.withdraw_offer(offer, actor=db.session.get(User, bob_id))
            return OfferState.WITHDRAWN

        results, errors = race(2, award_or_withdraw)
        assert {type(e) for e in errors} == {Conflict}, describe(errors)
        assert len(results) == 1 and len(errors) == 1
        (outcome,) = results
        outcomes.append(outcome)
        offer = db.session.get(Offer, offer_id)
        assert offer.state == outcome
        transfers = fee_transfers(offer_id)
        if outcome == OfferState.WITHDRAWN:
            assert db.session.get(Gig, gig_id).state == GigState.OPEN
            assert [t.state for t in transfers] == [TransferState.PENDING,
                                                    TransferState.VOID_PENDING]
            assert offer.fee_settle_transfer_id == transfers[1].id
        else:
            assert db.session.get(Gig, gig_id).state == GigState.AWARDED
            assert [t.state for t in transfers] == [TransferState.PENDING]
        assert run_checks(MONEY_CHECKS) == []
    db.session.rollback()
    held = outcomes.count(OfferState.AWARDED) * 2_00
    assert (wallet_account(bob.id).held, wallet_account(bob.id).balance) == (held, 20_00)


def test_one_member_sending_two_offers_on_one_gig_at_once_makes_one_and_pays_once(
        poster, bob, make_gig, make_offer, race):
    bob_id = bob.id
    spent = 0
    for n in range(ROUNDS):
        fee_kind = ("prepaid", "postpaid")[n % 2]
        gig_id = make_gig(poster=poster, kind="task").id

        def send(i, gig_id=gig_id, fee_kind=fee_kind):
            # different keys: two separate submits, not one retried
            return make_offer(db.session.get(Gig, gig_id), db.session.get(User, bob_id),
                              fee_kind=fee_kind, price_minor=400_00 + i).id

        results, errors = race(2, send)
        assert {type(e) for e in errors} == {Conflict}, describe(errors)
        assert len(results) == 1 and len(errors) == 1
        assert [o.id for o in offers_on(gig_id)] == results
        assert len(fee_transfers(results[0])) == 1
        spent += services.fee_for(fee_kind)
        db.session.rollback()
        assert wallet_account(bob_id).available == 20_00 - spent
        assert run_checks(MONEY_CHECKS) == []


def test_one_offer_submitted_twice_at_once_with_one_key_is_made_once(
        poster, bob, make_gig, make_offer, race):
    bob_id = bob.id
    for n in range(ROUNDS):
        gig_id = make_gig(poster=poster, kind="task").id

        def send(_i, gig_id=gig_id, key=f"double-click-{n}"):
            return make_offer(db.session.get(Gig, gig_id), db.session.get(User, bob_id),
                              fee_kind="prepaid", idempotency_key=key).id

        results, errors = race(2, send)
        assert errors == [], describe(errors)
        assert len(results) == 2 and len(set(results)) == 1
        assert [o.id for o in offers_on(gig_id)] == results[:1]
        assert len(fee_transfers(results[0])) == 1
        assert run_checks(MONEY_CHECKS) == []
    db.session.rollback()
    assert wallet_account(bob_id).available == 20_00 - ROUNDS * services.fee_for("prepaid")


def test_an_award_taken_back_while_it_is_accepted_ends_one_way_only(
        poster, bob, make_gig, make_offer, race):
    poster_id, bob_id = poster.id, bob.id
    for n in range(ROUNDS):
        gig_id = make_gig(poster=poster, kind="task").id
        offer_id = make_offer(db.session.get(Gig, gig_id), bob).id
        services.award_offer(db.session.get(Offer, offer_id), actor=poster)

        def accept_or_take_back(i, offer_id=offer_id, first=n % 2):
            offer = db.session.get(Offer, offer_id)
            if i == first:
                services.accept_award(offer, actor=db.session.get(User, bob_id))
                return OfferState.ACCEPTED
            services.take_back_award(offer, actor=db.session.get(User, poster_id))
            return OfferState.ACTIVE

        results, errors = race(2, accept_or_take_back)
        assert {type(e) for e in errors} == {Conflict}, describe(errors)
        (outcome,) = results
        assert db.session.get(Offer, offer_id).state == outcome
        expected_gig = GigState.IN_PROGRESS if outcome == OfferState.ACCEPTED else GigState.OPEN
        assert db.session.get(Gig, gig_id).state == expected_gig
        assert run_checks(MONEY_CHECKS) == []
