"""Offer services on the real database: every transition, every refusal, every fee.

Each money step ends with the full money check (the ledger's invariants, the wallet's
and the offers' own); balances are read afresh after ``db.session.rollback()``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.gigs.services import cancel_gig, expire_gigs
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import (
    AccountKind,
    IdempotencyKey,
    LedgerAccount,
    Transfer,
    TransferKind,
    TransferState,
)
from offload.ledger.services import system_account
from offload.notifications.services import notify
from offload.offers import negotiation, services
from offload.offers.models import (
    FeeKind,
    Offer,
    OfferClosedReason,
    OfferPortfolioItem,
    OfferProposal,
    OfferState,
    ProposalState,
)
from offload.offers.services import FeeNotCovered
from offload.profiles.models import PortfolioItem
from offload.profiles.services import add_portfolio_item, remove_portfolio_item
from offload.projects.models import Project, ProjectState
from tests.support.factories import count, fresh
from tests.support.offers import new_key, notes, wallet

PREPAID, POSTPAID = 100, 200  # PREPAID_CLICK_FEE_MINOR, POSTPAID_CLICK_FEE_MINOR


def revenue() -> LedgerAccount:
    db.session.rollback()
    return system_account(AccountKind.PLATFORM_REVENUE)


def fee_transfers(offer: Offer) -> list[Transfer]:
    db.session.rollback()
    return list(db.session.scalars(select(Transfer).where(
        Transfer.cause_type == "offer", Transfer.cause_id == offer.id).order_by(Transfer.id)))


# --- making an offer ----------------------------------------------------------------------

def test_an_offer_on_a_referral_gig_is_free_and_moves_no_money(
        referral_gig, poster, bob, make_offer):
    offer = make_offer(referral_gig, bob, price_minor=450_00, days_to_deliver=7)
    o = fresh(Offer, offer.id)
    assert (o.state, o.fee_kind, o.fee_minor) == (OfferState.ACTIVE, FeeKind.FREE, 0)
    assert (o.price_minor, o.days_to_deliver) == (450_00, 7)
    assert (o.gig_id, o.member_id) == (referral_gig.id, bob.id)
    assert o.fee_transfer_id is None and o.fee_settle_transfer_id is None
    assert fee_transfers(offer) == []
    assert count(Transfer, Transfer.kind.in_([TransferKind.PREPAID_CLICK,
                                              TransferKind.POSTPAID_CLICK])) == 0
    assert wallet(bob).available == 10_00
    assert notes(poster, "new_offer") == [f"Bob made an offer on “{referral_gig.title}”"]
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize("fee_kind", [None, "", "free"])
def test_a_referral_offer_takes_no_fee_kind_or_free(referral_gig, bob, make_offer, fee_kind):
    assert make_offer(referral_gig, bob, fee_kind=fee_kind).fee_kind == FeeKind.FREE


def test_a_prepaid_offer_posts_its_fee_to_platform_revenue_at_once(task_gig, bob, make_offer):
    offer = make_offer(task_gig, bob, fee_kind="prepaid")
    (fee,) = fee_transfers(offer)
    assert (fee.kind, fee.state, fee.amount_minor) == (TransferKind.PREPAID_CLICK,
                                                       TransferState.POSTED, PREPAID)
    assert (fee.debit_account_id, fee.credit_account_id) == (wallet(bob).id, revenue().id)
    assert fee.actor_id == bob.id
    o = fresh(Offer, offer.id)
    assert (o.fee_kind, o.fee_minor, o.fee_transfer_id) == (FeeKind.PREPAID, PREPAID, fee.id)
    w = wallet(bob)
    assert (w.balance, w.held, w.available) == (9_00, 0, 9_00)
    assert revenue().balance == PREPAID
    assert run_checks(MONEY_CHECKS) == []


def test_a_postpaid_offer_reserves_its_fee(task_gig, bob, make_offer):
    offer = make_offer(task_gig, bob, fee_kind="postpaid")
    (hold,) = fee_transfers(offer)
    assert (hold.kind, hold.state, hold.amount_minor) == (TransferKind.POSTPAID_CLICK,
                                                          TransferState.PENDING, POSTPAID)
    o = fresh(Offer, offer.id)
    assert (o.fee_kind, o.fee_minor, o.fee_transfer_id) == (FeeKind.POSTPAID, POSTPAID, hold.id)
    assert o.fee_settle_transfer_id is None
    w = wallet(bob)
    assert (w.balance, w.held, w.available) == (10_00, 2_00, 8_00)
    assert revenue().balance == 0
    assert run_checks(MONEY_CHECKS) == []


def test_the_fees_are_read_from_the_configuration(app, monkeypatch, make_gig, poster, bob,
                                                  carol, make_offer):
    monkeypatch.setitem(app.config, "PREPAID_CLICK_FEE_MINOR", 150)
    monkeypatch.setitem(app.config, "POSTPAID_CLICK_FEE_MINOR", 350)
    assert make_offer(make_gig(poster=poster, kind="task"), bob,
                      fee_kind="prepaid").fee_minor == 150
    assert make_offer(make_gig(poster=poster, kind="task"), carol,
                      fee_kind="postpaid").fee_minor == 350
    assert (wallet(bob).available, wallet(carol).available) == (8_50, 6_50)
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize(("fee_kind", "balance"), [("prepaid", 0), ("prepaid", 99),
                                                   ("postpaid", 0), ("postpaid", 1_99)])
def test_a_fee_the_wallet_cannot_cover_is_refused_with_nothing_recorded(
        task_gig, poster, make_member, fund, make_offer, fee_kind, balance):
    dan = make_member("dan")
    if balance:
        fund(dan, balance)
    transfers_before = count(Transfer)
    with pytest.raises(FeeNotCovered, match=rf"doesn't cover the \$\d\.00 {fee_kind} fee") \
            as refused:
        make_offer(task_gig, dan, fee_kind=fee_kind, idempotency_key="only-try")
    assert "Add funds" in str(refused.value)
    assert count(Offer) == 0 and count(Transfer) == transfers_before
    assert count(IdempotencyKey, IdempotencyKey.key == "only-try") == 0
    assert notes(poster, "new_offer") == []
    assert wallet(dan).available == balance
    assert run_checks(MONEY_CHECKS) == []
    fund(dan, 2_00)  # with the money the same key goes through
    offer = make_offer(task_gig, dan, fee_kind=fee_kind, idempotency_key="only-try")
    assert fresh(Offer, offer.id).state == OfferState.ACTIVE
    assert run_checks(MONEY_CHECKS) == []


def test_one_live_offer_per_member_per_gig(task_gig, bob, make_offer):
    first = make_offer(task_gig, bob)
    with pytest.raises(Conflict, match="already have an offer"):
        make_offer(task_gig, bob, fee_kind="prepaid")
    assert count(Offer) == 1 and len(fee_transfers(first)) == 1
    assert wallet(bob).available == 8_00
    services.withdraw_offer(fresh(Offer, first.id), actor=bob)
    second = make_offer(task_gig, bob, fee_kind="prepaid")  # a withdrawn offer isn't live
    assert fresh(Offer, second.id).state == OfferState.ACTIVE
    assert wallet(bob).available == 9_00
    assert run_checks(MONEY_CHECKS) == []


def test_the_database_refuses_a_second_live_offer_whatever_the_service_checks(
        task_gig, bob, make_offer):
    make_offer(task_gig, bob)
    with pytest.raises(Exception, match="(?i)unique"), atomic():
        db.session.add(Offer(gig_id=task_gig.id, member_id=bob.id, price_minor=1,
                             days_to_deliver=1, cover_letter="again",
                             fee_kind=FeeKind.PREPAID, fee_minor=PREPAID))
        db.session.flush()
    assert count(Offer) == 1


@pytest.mark.parametrize("joined", [False, True], ids=["alone", "in a callers transaction"])
def test_a_second_live_offer_that_gets_past_the_checks_is_refused_by_the_index(
        task_gig, poster, bob, make_offer, monkeypatch, joined):
    first = make_offer(task_gig, bob)
    # what a rival's offer committed between the check and the INSERT would look like
    monkeypatch.setattr(services, "_earlier_offers", lambda member_id, gig_id: set())
    with pytest.raises(Conflict, match="already have an offer"):
        if joined:
            with atomic():
                make_offer(task_gig, bob, fee_kind="prepaid")
        else:
            make_offer(task_gig, bob, fee_kind="prepaid")
    assert count(Offer) == 1 and len(fee_transfers(first)) == 1
    assert wallet(bob).available == 8_00 and len(notes(poster, "new_offer")) == 1
    assert run_checks(MONEY_CHECKS) == []


def test_an_offer_on_ones_own_gig_is_not_allowed(task_gig, poster, fund, make_offer):
    fund(poster, 10_00)
    with pytest.raises(NotAllowed, match="your own gig"):
        make_offer(task_gig, poster)
    assert count(Offer) == 0 and wallet(poster).available == 10_00


def test_an_unconfirmed_member_cannot_make_offers(referral_gig, make_member, make_offer):
    newbie = make_member("newbie", confirmed=False)
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        make_offer(referral_gig, newbie)
    assert count(Offer) == 0


def test_offers_only_on_open_gigs(make_gig, poster, bob, make_offer):
    draft = make_gig(poster=poster, kind="task", publish=False)
    with pytest.raises(Conflict, match="only be made while the gig is open"):
        make_offer(draft, bob)
    cancelled = make_gig(poster=poster, kind="task")
    cancel_gig(cancelled, actor=poster)
    with pytest.raises(Conflict, match="only be made while the gig is open"):
        make_offer(fresh(Gig, cancelled.id), bob)
    assert count(Offer) == 0 and wallet(bob).available == 10_00


def test_no_offers_on_an_awarded_gig(task_gig, poster, bob, carol, make_offer):
    services.award_offer(make_offer(task_gig, carol), actor=poster)
    with pytest.raises(Conflict, match="while the gig is open"):
        make_offer(fresh(Gig, task_gig.id), bob)
    assert wallet(bob).available == 10_00
    assert run_checks(MONEY_CHECKS) == []


def test_no_offers_once_the_deadline_has_passed(task_gig, bob, make_offer):
    with atomic():  # the job that expires it has not run yet
        db.session.execute(update(Gig).where(Gig.id == task_gig.id)
                           .values(deadline=utcnow().date() - timedelta(days=1)))
    with pytest.raises(Conflict, match="deadline has passed"):
        make_offer(fresh(Gig, task_gig.id), bob)
    assert count(Offer) == 0


@pytest.mark.parametrize("fee_kind", [None, "", "free", "gratis"])
def test_a_task_gig_needs_a_prepaid_or_postpaid_click(task_gig, bob, make_offer, fee_kind):
    with pytest.raises(InvalidField, match="prepaid or a postpaid") as refused:
        make_offer(task_gig, bob, fee_kind=fee_kind)
    assert refused.value.field == "fee_kind"
    assert count(Offer) == 0


@pytest.mark.parametrize("fee_kind", ["prepaid", "postpaid", "gratis"])
def test_a_referral_gig_takes_no_fee(referral_gig, bob, make_offer, fee_kind):
    with pytest.raises(InvalidField, match="referral gigs are free") as refused:
        make_offer(referral_gig, bob, fee_kind=fee_kind)
    assert refused.value.field == "fee_kind"
    assert count(Offer) == 0 and wallet(bob).available == 10_00


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"price_minor": 0}, "price", "more than zero"),
    ({"price_minor": -5}, "price", "more than zero"),
    ({"price_minor": 1_000_000_01}, "price", "at most"),
    ({"price_minor": "450"}, "price", "as an amount"),
    ({"price_minor": True}, "price", "as an amount"),
    ({"days_to_deliver": 0}, "days_to_deliver", "from 1 to 365"),
    ({"days_to_deliver": 366}, "days_to_deliver", "from 1 to 365"),
    ({"days_to_deliver": "3"}, "days_to_deliver", "whole number"),
    ({"days_to_deliver": True}, "days_to_deliver", "whole number"),
    ({"cover_letter": "   "}, "cover_letter", "can't be empty"),
    ({"cover_letter": "x" * 5001}, "cover_letter", "at most 5,000"),
])
def test_bad_terms_are_refused_naming_the_field(task_gig, bob, make_offer, overrides,
                                                field, message):
    with pytest.raises(InvalidField, match=message) as refused:
        make_offer(task_gig, bob, **overrides)
    assert refused.value.field == field
    assert count(Offer) == 0 and wallet(bob).available == 10_00


def test_an_offer_shows_portfolio_items_of_the_offerer_only(referral_gig, bob, carol,
                                                            make_offer):
    mine = [add_portfolio_item(actor=bob, title=f"Shop {i}", url="https://x.example",
                               description="").id for i in range(6)]
    theirs = add_portfolio_item(actor=carol, title="Carol's", url="https://x.example",
                                description="").id
    with pytest.raises(InvalidField, match="your own portfolio") as refused:
        make_offer(referral_gig, bob, portfolio_item_ids=[mine[0], theirs])
    assert refused.value.field == "portfolio_items"
    with pytest.raises(InvalidField, match="your own portfolio"):
        make_offer(referral_gig, bob, portfolio_item_ids=[999_999])
    with pytest.raises(InvalidField, match="at most 5"):
        make_offer(referral_gig, bob, portfolio_item_ids=mine)
    assert count(Offer) == 0
    offer = make_offer(referral_gig, bob, portfolio_item_ids=[mine[2], mine[0], mine[2]])
    assert set(db.session.scalars(select(OfferPortfolioItem.portfolio_item_id).where(
        OfferPortfolioItem.offer_id == offer.id))) == {mine[0], mine[2]}


def test_the_same_key_twice_makes_one_offer_and_charges_once(task_gig, poster, bob,
                                                              make_offer):
    key = new_key()
    first = make_offer(task_gig, bob, fee_kind="prepaid", idempotency_key=key)
    again = make_offer(task_gig, bob, fee_kind="prepaid", idempotency_key=key)
    assert again.id == first.id
    assert count(Offer) == 1 and len(fee_transfers(first)) == 1
    assert wallet(bob).available == 9_00
    assert len(notes(poster, "new_offer")) == 1
    stored = fresh(IdempotencyKey, (bob.id, key))
    assert stored.batch_id == fee_transfers(first)[0].batch_id
    assert run_checks(MONEY_CHECKS) == []


def test_a_replayed_key_answers_with_the_first_offer_even_after_it_changed(
        task_gig, bob, make_offer):
    key = new_key()
    first = make_offer(task_gig, bob, idempotency_key=key)
    services.withdraw_offer(first, actor=bob)
    again = make_offer(fresh(Gig, task_gig.id), bob, idempotency_key=key)
    assert again.id == first.id and again.state == OfferState.WITHDRAWN
    assert count(Offer) == 1 and wallet(bob).available == 10_00
    assert run_checks(MONEY_CHECKS) == []


@pytest.mark.parametrize("change", [{"price_minor": 401_00}, {"days_to_deliver": 11},
                                    {"fee_kind": "prepaid"}, {"cover_letter": "Other."}])
def test_the_same_key_for_a_different_offer_is_refused(task_gig, bob, make_offer, change):
    key = new_key()
    make_offer(task_gig, bob, idempotency_key=key)
    with pytest.raises(Conflict, match="different request"):
        make_offer(task_gig, bob, idempotency_key=key, **change)
    assert count(Offer) == 1 and wallet(bob).available == 8_00
    assert run_checks(MONEY_CHECKS) == []


def test_the_same_key_on_another_gig_is_refused(make_gig, poster, bob, make_offer):
    key = new_key()
    make_offer(make_gig(poster=poster, kind="task"), bob, idempotency_key=key)
    with pytest.raises(Conflict, match="different request"):
        make_offer(make_gig(poster=poster, kind="task"), bob, idempotency_key=key)
    assert count(Offer) == 1


@pytest.mark.parametrize("key", ["", "k" * 65])
def test_an_offer_needs_a_usable_key(task_gig, bob, make_offer, key):
    with pytest.raises(Invalid, match="one-time key"):
        make_offer(task_gig, bob, idempotency_key=key)
    assert count(Offer) == 0


# --- withdrawing --------------------------------------------------------------------------

def test_withdrawing_a_postpaid_offer_voids_its_hold(task_gig, bob, make_offer):
    offer = make_offer(task_gig, bob, fee_kind="postpaid")
    assert wallet(bob).available == 8_00
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    o = fresh(Offer, offer.id)
    assert o.state == OfferState.WITHDRAWN
    hold, void = fee_transfers(offer)
    assert (void.state, void.pending_id, void.amount_minor) == (
        TransferState.VOID_PENDING, hold.id, POSTPAID)
    assert o.fee_settle_transfer_id == void.id
    w = wallet(bob)
    assert (w.balance, w.held, w.available) == (10_00, 0, 10_00)
    assert run_checks(MONEY_CHECKS) == []


def test_withdrawing_a_prepaid_offer_keeps_the_fee(task_gig, bob, make_offer):
    offer = make_offer(task_gig, bob, fee_kind="prepaid")
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    o = fresh(Offer, offer.id)
    assert o.state == OfferState.WITHDRAWN and o.fee_settle_transfer_id is None
    assert len(fee_transfers(offer)) == 1
    assert (wallet(bob).balance, wallet(bob).available) == (9_00, 9_00)
    assert revenue().balance == PREPAID
    assert run_checks(MONEY_CHECKS) == []


def test_a_shortlisted_offer_can_be_withdrawn(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    services.shortlist_offer(offer, actor=poster)
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    assert fresh(Offer, offer.id).state == OfferState.WITHDRAWN
    assert wallet(bob).available == 10_00
    assert run_checks(MONEY_CHECKS) == []


def test_withdraw_refusals(task_gig, poster, bob, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    for actor in (poster, stranger):
        with pytest.raises(NotAllowed, match="Only the member who made this offer"):
            services.withdraw_offer(fresh(Offer, offer.id), actor=actor)
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="withdrawn; it can't be withdrawn"):
        services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    assert len(fee_transfers(offer)) == 2  # the hold and one void
    assert run_checks(MONEY_CHECKS) == []


def test_an_awarded_offer_cannot_be_withdrawn(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    services.award_offer(offer, actor=poster)
    with pytest.raises(Conflict, match="awarded; it can't be withdrawn"):
        services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    assert fresh(Offer, offer.id).state == OfferState.AWARDED
    assert wallet(bob).held == POSTPAID
    assert run_checks(MONEY_CHECKS) == []


def test_a_stale_copy_of_the_offer_does_not_fool_withdraw(task_gig, poster, bob,
                                                          make_offer):
    offer = make_offer(task_gig, bob)
    services.award_offer(fresh(Offer, offer.id), actor=poster)
    stale = fresh(Offer, offer.id)
    set_committed_value(stale, "state", OfferState.ACTIVE)  # as read before the award
    with pytest.raises(Conflict, match="awarded"):
        services.withdraw_offer(stale, actor=bob)
    assert fresh(Offer, offer.id).state == OfferState.AWARDED
    assert wallet(bob).held == POSTPAID
    assert run_checks(MONEY_CHECKS) == []


# --- the poster's choices -----------------------------------------------------------------

def test_shortlisting_and_back(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    services.shortlist_offer(fresh(Offer, offer.id), actor=poster)
    assert fresh(Offer, offer.id).state == OfferState.SHORTLISTED
    services.shortlist_offer(fresh(Offer, offer.id), actor=poster)  # already: no change
    assert fresh(Offer, offer.id).state == OfferState.SHORTLISTED
    services.shortlist_offer(fresh(Offer, offer.id), actor=poster, shortlisted=False)
    assert fresh(Offer, offer.id).state == OfferState.ACTIVE
    services.shortlist_offer(fresh(Offer, offer.id), actor=poster, shortlisted=False)
    assert fresh(Offer, offer.id).state == OfferState.ACTIVE
    assert wallet(bob).held == POSTPAID  # the fee doesn't move
    assert run_checks(MONEY_CHECKS) == []


def test_shortlist_refusals(task_gig, poster, bob, carol, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    for actor in (bob, stranger):
        with pytest.raises(NotAllowed, match="Only the member who posted the gig"):
            services.shortlist_offer(fresh(Offer, offer.id), actor=actor)
    services.award_offer(make_offer(task_gig, carol), actor=poster)
    with pytest.raises(Conflict, match="while the gig is open"):
        services.shortlist_offer(fresh(Offer, offer.id), actor=poster)
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="withdrawn; it can't be"):
        services.shortlist_offer(fresh(Offer, offer.id), actor=poster, shortlisted=False)
    assert fresh(Offer, offer.id).state == OfferState.WITHDRAWN
    assert run_checks(MONEY_CHECKS) == []


def test_declining_an_offer_releases_its_hold_and_tells_the_offerer(
        task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    services.shortlist_offer(offer, actor=poster)
    services.decline_offer(fresh(Offer, offer.id), actor=poster, reason="  Too dear.  ")
    o = fresh(Offer, offer.id)
    assert (o.state, o.decline_reason) == (OfferState.DECLINED, "Too dear.")
    hold, void = fee_transfers(offer)
    assert void.state == TransferState.VOID_PENDING and void.pending_id == hold.id
    assert void.actor_id == poster.id and o.fee_settle_transfer_id == void.id
    assert wallet(bob).available == 10_00
    assert notes(bob, "offer_declined") == [
        f"Your offer on “{task_gig.title}” was declined: Too dear."]
    assert run_checks(MONEY_CHECKS) == []


def test_declining_a_prepaid_offer_keeps_its_fee(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob, fee_kind="prepaid")
    services.decline_offer(offer, actor=poster)
    o = fresh(Offer, offer.id)
    assert (o.state, o.decline_reason) == (OfferState.DECLINED, None)
    assert len(fee_transfers(offer)) == 1 and wallet(bob).balance == 9_00
    assert notes(bob, "offer_declined") == [
        f"Your offer on “{task_gig.title}” was declined."]
    assert run_checks(MONEY_CHECKS) == []


def test_decline_refusals(task_gig, poster, bob, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    for actor in (bob, stranger):
        with pytest.raises(NotAllowed, match="Only the member who posted the gig"):
            services.decline_offer(fresh(Offer, offer.id), actor=actor)
    with pytest.raises(InvalidField, match="at most 300") as refused:
        services.decline_offer(fresh(Offer, offer.id), actor=poster, reason="x" * 301)
    assert refused.value.field == "reason"
    assert fresh(Offer, offer.id).state == OfferState.ACTIVE
    services.decline_offer(fresh(Offer, offer.id), actor=poster)
    with pytest.raises(Conflict, match="declined; it can't be declined"):
        services.decline_offer(fresh(Offer, offer.id), actor=poster)
    assert len(fee_transfers(offer)) == 2 and len(notes(bob, "offer_declined")) == 1
    assert run_checks(MONEY_CHECKS) == []


# --- the award ----------------------------------------------------------------------------

def test_awarding_an_offer_awards_the_gig_and_tells_the_offerer(
        task_gig, poster, bob, carol, make_offer):
    chosen = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    services.award_offer(fresh(Offer, chosen.id), actor=poster)
    assert fresh(Gig, task_gig.id).state == GigState.AWARDED
    assert fresh(Offer, chosen.id).state == OfferState.AWARDED
    assert fresh(Offer, other.id).state == OfferState.ACTIVE  # until the award is accepted
    assert notes(bob, "award") == [
        f"Poster chose your offer on “{task_gig.title}”: accept or turn it down"]
    assert notes(carol, "award") == []
    assert (wallet(bob).held, wallet(carol).held) == (POSTPAID, POSTPAID)  # no money moves
    assert count(Project) == 0
    assert run_checks(MONEY_CHECKS) == []


def test_award_refusals(task_gig, poster, bob, carol, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    for actor in (bob, stranger):
        with pytest.raises(NotAllowed, match="Only the member who posted the gig can award"):
            services.award_offer(fresh(Offer, offer.id), actor=actor)
    services.withdraw_offer(fresh(Offer, other.id), actor=carol)
    with pytest.raises(Conflict, match="withdrawn; it can't be awarded"):
        services.award_offer(fresh(Offer, other.id), actor=poster)
    services.award_offer(fresh(Offer, offer.id), actor=poster)
    with pytest.raises(Conflict, match="Only an open gig can be awarded"):
        services.award_offer(fresh(Offer, offer.id), actor=poster)
    assert fresh(Offer, offer.id).state == OfferState.AWARDED
    assert run_checks(MONEY_CHECKS) == []


def test_no_award_on_a_cancelled_gig(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    cancel_gig(task_gig, actor=poster)
    with pytest.raises(Conflict):
        services.award_offer(fresh(Offer, offer.id), actor=poster)
    assert fresh(Offer, offer.id).state == OfferState.DECLINED
    assert run_checks(MONEY_CHECKS) == []


def test_accepting_the_award_starts_the_project_and_settles_every_fee(
        task_gig, poster, bob, carol, make_member, fund, make_offer):
    dave, erin = make_member("dave"), make_member("erin")
    fund(dave, 10_00)
    fund(erin, 10_00)
    chosen = make_offer(task_gig, bob, fee_kind="postpaid", price_minor=420_00,
                        days_to_deliver=12)
    prepaid = make_offer(task_gig, carol, fee_kind="prepaid")
    postpaid = make_offer(task_gig, dave, fee_kind="postpaid")
    services.shortlist_offer(postpaid, actor=poster)
    gone = make_offer(task_gig, erin, fee_kind="postpaid")
    services.withdraw_offer(gone, actor=erin)
    services.award_offer(fresh(Offer, chosen.id), actor=poster)
    assert run_checks(MONEY_CHECKS) == []

    project = services.accept_award(fresh(Offer, chosen.id), actor=bob)

    gig = fresh(Gig, task_gig.id)
    assert (gig.state, gig.performer_id) == (GigState.IN_PROGRESS, bob.id)
    states = {o.member_id: (o.state, o.decline_reason) for o in db.session.scalars(
        select(Offer).where(Offer.gig_id == gig.id))}
    assert states == {bob.id: (OfferState.ACCEPTED, None),
                      carol.id: (OfferState.DECLINED, services.ANOTHER_CHOSEN),
                      dave.id: (OfferState.DECLINED, services.ANOTHER_CHOSEN),
                      erin.id: (OfferState.WITHDRAWN, None)}
    hold, charge = fee_transfers(chosen)
    assert (charge.state, charge.pending_id, charge.amount_minor) == (
        TransferState.POST_PENDING, hold.id, POSTPAID)
    assert fresh(Offer, chosen.id).fee_settle_transfer_id == charge.id
    dave_hold, dave_void = fee_transfers(postpaid)
    assert dave_void.state == TransferState.VOID_PENDING
    assert fresh(Offer, postpaid.id).fee_settle_transfer_id == dave_void.id
    assert len(fee_transfers(prepaid)) == 1  # a prepaid fee is never returned
    balances = {m.username: (wallet(m).balance, wallet(m).available)
                for m in (bob, carol, dave, erin)}
    assert balances == {"bob": (8_00, 8_00), "carol": (9_00, 9_00),
                        "dave": (10_00, 10_00), "erin": (10_00, 10_00)}
    assert revenue().balance == POSTPAID + PREPAID and revenue().credits_pending == 0

    p = fresh(Project, project.id)
    assert (p.gig_id, p.offer_id, p.poster_id, p.performer_id) == (
        gig.id, chosen.id, poster.id, bob.id)
    assert (p.kind, p.state, p.price_minor, p.currency, p.days_to_deliver) == (
        "task", ProjectState.ACTIVE, 420_00, gig.currency, 12)
    assert p.due_on == utcnow().date() + timedelta(days=12)
    assert notes(poster, "award_accepted") == [
        f"Bob accepted “{gig.title}”: the project has started"]
    for member in (carol, dave):
        assert notes(member, "offer_declined") == [
            f"Your offer on “{gig.title}” was closed: {services.ANOTHER_CHOSEN}"
            + (" Your postpaid fee was released." if member.id == dave.id else "")]
    assert notes(erin, "offer_declined") == []
    assert run_checks(MONEY_CHECKS) == []


def test_accepting_a_referral_award_starts_the_project_without_money(
        referral_gig, poster, bob, carol, make_offer):
    chosen = make_offer(referral_gig, bob, price_minor=300_00, days_to_deliver=5)
    other = make_offer(referral_gig, carol)
    services.award_offer(chosen, actor=poster)
    project = services.accept_award(fresh(Offer, chosen.id), actor=bob)
    assert (fresh(Project, project.id).kind, project.price_minor) == ("referral", 300_00)
    assert fresh(Offer, other.id).state == OfferState.DECLINED
    assert count(Transfer, Transfer.cause_type == "offer") == 0
    assert run_checks(MONEY_CHECKS) == []


def test_accept_award_refusals(task_gig, poster, bob, carol, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    with pytest.raises(Conflict, match="isn't waiting for your answer"):
        services.accept_award(fresh(Offer, offer.id), actor=bob)
    services.award_offer(fresh(Offer, offer.id), actor=poster)
    for actor in (poster, stranger, carol):
        with pytest.raises(NotAllowed, match="Only the member who made this offer"):
            services.accept_award(fresh(Offer, offer.id), actor=actor)
    with pytest.raises(Conflict, match="isn't waiting"):
        services.accept_award(fresh(Offer, other.id), actor=carol)
    services.accept_award(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="isn't waiting"):
        services.accept_award(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="isn't waiting"):
        services.decline_award(fresh(Offer, offer.id), actor=bob)
    assert count(Project) == 1 and len(fee_transfers(offer)) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_turning_the_award_down_reopens_the_gig_for_another_award(
        task_gig, poster, bob, carol, make_offer):
    first = make_offer(task_gig, bob)
    second = make_offer(task_gig, carol, fee_kind="prepaid")
    services.award_offer(first, actor=poster)
    services.decline_award(fresh(Offer, first.id), actor=bob)
    assert fresh(Gig, task_gig.id).state == GigState.OPEN
    o = fresh(Offer, first.id)
    assert o.state == OfferState.AWARD_DECLINED
    hold, void = fee_transfers(first)
    assert void.state == TransferState.VOID_PENDING and o.fee_settle_transfer_id == void.id
    assert wallet(bob).available == 10_00
    assert notes(poster, "award_declined") == [
        f"Bob turned down “{task_gig.title}”; it is open for offers again"]
    assert fresh(Offer, second.id).state == OfferState.ACTIVE
    assert run_checks(MONEY_CHECKS) == []

    services.award_offer(fresh(Offer, second.id), actor=poster)
    project = services.accept_award(fresh(Offer, second.id), actor=carol)
    assert fresh(Gig, task_gig.id).performer_id == carol.id
    assert project.offer_id == second.id
    assert fresh(Offer, first.id).state == OfferState.AWARD_DECLINED  # final, untouched
    assert (wallet(bob).balance, wallet(carol).balance) == (10_00, 9_00)
    assert run_checks(MONEY_CHECKS) == []


def test_decline_award_refusals(task_gig, poster, bob, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    with pytest.raises(Conflict, match="isn't waiting"):
        services.decline_award(fresh(Offer, offer.id), actor=bob)
    services.award_offer(fresh(Offer, offer.id), actor=poster)
    for actor in (poster, stranger):
        with pytest.raises(NotAllowed, match="Only the member who made this offer"):
            services.decline_award(fresh(Offer, offer.id), actor=actor)
    services.decline_award(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="isn't waiting"):
        services.decline_award(fresh(Offer, offer.id), actor=bob)
    assert len(fee_transfers(offer)) == 2
    assert run_checks(MONEY_CHECKS) == []


# --- gigs closing -------------------------------------------------------------------------

def test_cancelling_a_gig_declines_its_open_offers_and_releases_postpaid_holds(
        task_gig, poster, bob, carol, make_member, fund, make_offer):
    dave = make_member("dave")
    fund(dave, 10_00)
    postpaid = make_offer(task_gig, bob, fee_kind="postpaid")
    services.shortlist_offer(postpaid, actor=poster)
    prepaid = make_offer(task_gig, carol, fee_kind="prepaid")
    gone = make_offer(task_gig, dave, fee_kind="postpaid")
    services.withdraw_offer(gone, actor=dave)
    proposal = negotiation.propose_terms(fresh(Offer, postpaid.id), actor=poster,
                                      price_minor=1_00, days_to_deliver=1)

    cancel_gig(fresh(Gig, task_gig.id), actor=poster)

    assert fresh(Gig, task_gig.id).state == GigState.CANCELLED
    reason = "The gig was cancelled."
    for offer in (postpaid, prepaid):
        o = fresh(Offer, offer.id)
        assert (o.state, o.decline_reason) == (OfferState.DECLINED, reason)
    assert fresh(Offer, gone.id).state == OfferState.WITHDRAWN
    hold, void = fee_transfers(postpaid)
    assert void.state == TransferState.VOID_PENDING and void.actor_id == poster.id
    assert fresh(Offer, postpaid.id).fee_settle_transfer_id == void.id
    assert len(fee_transfers(prepaid)) == 1 and len(fee_transfers(gone)) == 2
    assert fresh(OfferProposal, proposal.id).state == ProposalState.LAPSED
    assert [(wallet(m).balance, wallet(m).available) for m in (bob, carol, dave)] == [
        (10_00, 10_00), (9_00, 9_00), (10_00, 10_00)]
    assert notes(bob, "offer_declined") == [
        f"Your offer on “{task_gig.title}” was closed: {reason} "
        "Your postpaid fee was released."]
    assert notes(carol, "offer_declined") == [
        f"Your offer on “{task_gig.title}” was closed: {reason}"]
    assert notes(dave, "offer_declined") == []
    assert run_checks(MONEY_CHECKS) == []


def test_an_admin_cancelling_a_gig_releases_the_holds_too(task_gig, bob, make_member,
                                                         make_offer):
    offer = make_offer(task_gig, bob)
    admin = make_member("boss", admin=True)
    cancel_gig(fresh(Gig, task_gig.id), actor=admin, reason="Spam.")
    assert fresh(Offer, offer.id).state == OfferState.DECLINED
    assert fee_transfers(offer)[-1].actor_id == admin.id
    assert wallet(bob).available == 10_00
    assert run_checks(MONEY_CHECKS) == []


def test_expiring_gigs_declines_their_open_offers_and_releases_postpaid_holds(
        make_gig, poster, bob, carol, make_offer):
    soon = make_gig(poster=poster, kind="task", deadline=utcnow().date() + timedelta(days=3))
    other_soon = make_gig(poster=poster, kind="task",
                          deadline=utcnow().date() + timedelta(days=3))
    later = make_gig(poster=poster, kind="task")  # 30 days
    expiring = [make_offer(soon, bob, fee_kind="postpaid"),
                make_offer(soon, carol, fee_kind="prepaid"),
                make_offer(other_soon, carol, fee_kind="postpaid")]
    staying = make_offer(later, bob, fee_kind="postpaid")

    assert expire_gigs(now=utcnow() + timedelta(days=5)) == 2

    reason = "The gig expired without an award."
    assert [fresh(Gig, g.id).state for g in (soon, other_soon, later)] == [
        GigState.EXPIRED, GigState.EXPIRED, GigState.OPEN]
    for offer in expiring:
        o = fresh(Offer, offer.id)
        assert (o.state, o.decline_reason) == (OfferState.DECLINED, reason)
    assert fresh(Offer, staying.id).state == OfferState.ACTIVE
    assert fee_transfers(expiring[0])[-1].actor_id is None  # the job has no actor
    assert (wallet(bob).available, wallet(bob).held) == (8_00, POSTPAID)  # `staying`
    assert (wallet(carol).balance, wallet(carol).available) == (9_00, 9_00)
    assert len(notes(carol, "offer_declined")) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_close_offers_on_gigs_leaves_awarded_and_final_offers_alone(
        task_gig, poster, bob, carol, make_offer):
    awarded = make_offer(task_gig, bob)
    active = make_offer(task_gig, carol)
    services.award_offer(awarded, actor=poster)
    with atomic():
        closed = services.close_offers_on_gigs([task_gig.id], reason="Testing.",
                                                 closed=OfferClosedReason.GIG_CANCELLED)
    assert closed == 1
    assert fresh(Offer, awarded.id).state == OfferState.AWARDED
    assert fresh(Offer, active.id).state == OfferState.DECLINED
    assert services.close_offers_on_gigs([task_gig.id], reason="Again.",
                                          closed=OfferClosedReason.GIG_CANCELLED) == 0
    assert services.close_offers_on_gigs([], reason="Nothing.",
                                          closed=OfferClosedReason.GIG_CANCELLED) == 0
    assert run_checks(MONEY_CHECKS) == []


# --- the fee table ------------------------------------------------------------------------

def test_fee_for_each_kind(app):
    assert [services.fee_for(k) for k in ("free", "prepaid", "postpaid")] == [
        0, app.config["PREPAID_CLICK_FEE_MINOR"], app.config["POSTPAID_CLICK_FEE_MINOR"]]
    config = (app.config["PREPAID_CLICK_FEE_MINOR"], app.config["POSTPAID_CLICK_FEE_MINOR"])
    assert config == (PREPAID, POSTPAID)  # the constants these tests assume


# --- taking an award back -----------------------------------------------------------------

def test_the_poster_takes_back_an_unanswered_award_and_the_gig_reopens(
        poster, bob, carol, task_gig, make_offer):
    offer = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    services.award_offer(offer, actor=poster)
    with pytest.raises(NotAllowed, match="Only the member who posted"):
        services.take_back_award(fresh(Offer, offer.id), actor=bob)
    services.take_back_award(fresh(Offer, offer.id), actor=poster)
    assert fresh(Offer, offer.id).state == OfferState.ACTIVE
    assert fresh(Gig, task_gig.id).state == GigState.OPEN
    assert wallet(bob).held == POSTPAID  # the offer is live again: its hold stays
    assert any("took back the award" in t for t in notes(bob, "award_taken_back"))
    assert run_checks(MONEY_CHECKS) == []
    with pytest.raises(Conflict, match="isn't waiting"):
        services.take_back_award(fresh(Offer, offer.id), actor=poster)
    services.award_offer(fresh(Offer, other.id), actor=poster)  # another can be chosen
    services.accept_award(fresh(Offer, other.id), actor=carol)
    assert fresh(Offer, offer.id).state == OfferState.DECLINED
    assert wallet(bob).held == 0 and wallet(bob).balance == 10_00
    assert run_checks(MONEY_CHECKS) == []


def test_an_accepted_award_cannot_be_taken_back(poster, bob, task_gig, make_offer):
    offer = make_offer(task_gig, bob)
    services.award_offer(offer, actor=poster)
    services.accept_award(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict):
        services.take_back_award(fresh(Offer, offer.id), actor=poster)
    assert fresh(Gig, task_gig.id).state == GigState.IN_PROGRESS
    assert run_checks(MONEY_CHECKS) == []


def test_a_refused_offer_inside_a_callers_transaction_leaves_nothing_behind(
        poster, make_member, task_gig, make_offer):
    broke = make_member("broke")
    with atomic():
        with pytest.raises(FeeNotCovered):  # noqa: SIM117 (the caller goes on after it)
            make_offer(task_gig, broke, fee_kind="prepaid", idempotency_key="kept-key")
        # the caller carries on and commits: the refused offer must not come with it
        notify(broke, "new_message", title="Still here")
    assert notes(broke, "new_message") == ["Still here"]
    assert count(Offer) == 0
    assert count(IdempotencyKey, IdempotencyKey.key == "kept-key") == 0


# --- review follow-ups --------------------------------------------------------------------

def test_an_award_unanswered_past_the_deadline_lapses_and_the_gig_expires(
        poster, bob, carol, make_gig, make_offer):
    gig = make_gig(poster=poster, kind="task", deadline=utcnow().date() + timedelta(days=3))
    chosen, other = make_offer(gig, bob), make_offer(gig, carol, fee_kind="postpaid")
    services.award_offer(chosen, actor=poster)
    assert expire_gigs(now=utcnow() + timedelta(days=2)) == 0  # not yet past the deadline
    assert fresh(Gig, gig.id).state == GigState.AWARDED
    assert expire_gigs(now=utcnow() + timedelta(days=5)) == 1
    assert fresh(Gig, gig.id).state == GigState.EXPIRED
    assert {fresh(Offer, o.id).state for o in (chosen, other)} == {OfferState.DECLINED}
    assert wallet(bob).held == 0 and wallet(carol).held == 0
    assert wallet(bob).balance == wallet(carol).balance == 10_00
    assert any("lapsed" in t for t in notes(bob, "award_taken_back"))
    assert run_checks(MONEY_CHECKS) == []


def test_a_member_the_poster_declined_cannot_offer_again_on_that_gig(
        poster, bob, carol, referral_gig, make_offer):
    declined = make_offer(referral_gig, bob)
    services.decline_offer(declined, actor=poster)
    with pytest.raises(Conflict, match="declined your offer"):
        make_offer(referral_gig, bob)
    withdrawn = make_offer(referral_gig, carol)
    services.withdraw_offer(withdrawn, actor=carol)
    assert make_offer(referral_gig, carol).state == OfferState.ACTIVE  # withdrawn: may again


def test_a_click_fee_must_be_configured_positive(app, monkeypatch):
    monkeypatch.setitem(app.config, "PREPAID_CLICK_FEE_MINOR", 0)
    with pytest.raises(RuntimeError, match="PREPAID_CLICK_FEE_MINOR must be a positive"):
        services.fee_for(FeeKind.PREPAID)
    assert services.fee_for(FeeKind.FREE) == 0


def test_days_above_the_database_limit_are_refused_even_if_configured(
        app, monkeypatch, bob, referral_gig, make_offer):
    monkeypatch.setitem(app.config, "OFFER_DAYS_MAX", 10_000)
    with pytest.raises(InvalidField, match="from 1 to 3650"):
        make_offer(referral_gig, bob, days_to_deliver=4000)
    assert count(Offer) == 0


@pytest.fixture
def after_the_plan(monkeypatch):
    """``after_the_plan(do)``: run ``do()`` (its own committed transaction) between the
    reads placing an offer makes before its write transaction and that transaction."""

    def install(do):
        plan_offer = services._plan_offer

        def planned_then(*args, **kwargs):
            plan = plan_offer(*args, **kwargs)
            do()
            return plan

        monkeypatch.setattr(services, "_plan_offer", planned_then)

    return install


def test_a_case_opened_after_the_plan_still_stops_the_offer(
        referral_gig, bob, make_offer, open_case_about, after_the_plan):
    after_the_plan(lambda: open_case_about(bob))
    with pytest.raises((NotAllowed, Conflict), match="is open"):
        make_offer(referral_gig, bob)
    assert count(Offer) == 0


def test_a_portfolio_item_removed_after_the_plan_is_refused_not_a_crash(
        referral_gig, bob, make_offer, after_the_plan):
    item_id = add_portfolio_item(actor=bob, title="Shop", url="https://x.example",
                                 description="").id
    after_the_plan(lambda: remove_portfolio_item(db.session.get(PortfolioItem, item_id),
                                                 actor=bob))
    with pytest.raises(InvalidField, match="your own portfolio"):
        make_offer(referral_gig, bob, portfolio_item_ids=[item_id])
    assert count(Offer) == 0
