"""Invariant 10 for offers: every offer's fee state matches its transfers.

Each corruption of an offer row is made with raw SQL, detected, then put back, so the
suite's own after-test ledger check passes. Transfers can't be changed or deleted, so
a stray transfer is either given the offer row it should have had, or posted inside a
transaction that is rolled back once the check has seen it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select, text

from offload.core.db import atomic, db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, Transfer, TransferKind
from offload.ledger.services import (
    Cause,
    Leg,
    post_transfer,
    reserve,
    system_account,
    wallet_account,
)
from offload.offers import services
from offload.offers.checks import (
    OFFER_CHECKS,
    check_click_transfers_have_offers,
    check_offer_fees_match_transfers,
)
from offload.offers.models import FeeKind, Offer, OfferState


def sql(statement: str, **params) -> None:
    with atomic():
        db.session.execute(text(statement), params)


class _Undo(Exception):
    pass


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run the block in one transaction and roll it back at the end (its assertions
    still fail the test): for rows the database won't let us remove afterwards."""
    with pytest.raises(_Undo), atomic():
        yield
        raise _Undo


def details(failures) -> str:
    return " | ".join(f.detail for f in failures)


@pytest.fixture
def world(make_member, make_gig, make_offer, fund):
    """Offers in every fee state: free; prepaid; postpaid held, accepted (posted),
    declined with the gig's award and withdrawn (both voided)."""
    poster, bob, carol = make_member("poster"), make_member("bob"), make_member("carol")
    fund(bob, 10_00)
    fund(carol, 10_00)
    open_gig = make_gig(poster=poster, kind="task")
    held = make_offer(open_gig, bob, fee_kind="postpaid")
    prepaid = make_offer(open_gig, carol, fee_kind="prepaid")
    awarded_gig = make_gig(poster=poster, kind="task")
    accepted = make_offer(awarded_gig, bob, fee_kind="postpaid")
    declined = make_offer(awarded_gig, carol, fee_kind="postpaid")
    services.award_offer(accepted, actor=poster)
    services.accept_award(db.session.get(Offer, accepted.id), actor=bob)
    withdrawn = make_offer(make_gig(poster=poster, kind="task"), carol, fee_kind="postpaid")
    services.withdraw_offer(withdrawn, actor=carol)
    free = make_offer(make_gig(poster=poster), bob)
    db.session.rollback()
    offers = {name: db.session.get(Offer, o.id) for name, o in (
        ("held", held), ("prepaid", prepaid), ("accepted", accepted),
        ("declined", declined), ("withdrawn", withdrawn), ("free", free))}
    assert [offers[n].state for n in ("accepted", "declined", "withdrawn")] == [
        OfferState.ACCEPTED, OfferState.DECLINED, OfferState.WITHDRAWN]
    return {**offers, "poster": poster, "bob": bob, "carol": carol,
            "bob_wallet": wallet_account(bob.id).id, "carol_wallet": wallet_account(carol.id).id,
            "revenue": system_account(AccountKind.PLATFORM_REVENUE).id}


def test_the_offer_checks_are_part_of_the_money_checks():
    assert set(OFFER_CHECKS) <= set(MONEY_CHECKS)


def test_every_offer_state_matches_its_transfers(world):
    assert check_offer_fees_match_transfers() == []
    assert check_click_transfers_have_offers() == []
    assert run_checks(MONEY_CHECKS) == []


def test_an_offer_withdrawn_without_voiding_its_hold_is_caught(world):
    offer = world["held"]
    sql("UPDATE offers SET state = 'withdrawn' WHERE id = :id", id=offer.id)
    failures = check_offer_fees_match_transfers()
    assert len(failures) == 1
    failure = failures[0]
    assert (failure.invariant, failure.name) == (10, "offer fee matches its transfers")
    assert failure.detail.startswith(f"offer {offer.id} (postpaid, withdrawn)")
    assert "its hold is open, should be void_pending" in failure.detail
    assert failure.account_ids == (world["bob_wallet"], world["revenue"])
    assert f"invariant 10 (offer fee matches its transfers): offer {offer.id}" in str(failure)
    sql("UPDATE offers SET state = 'active' WHERE id = :id", id=offer.id)
    assert check_offer_fees_match_transfers() == []


def test_an_offer_accepted_without_charging_its_hold_is_caught(world):
    offer = world["held"]
    sql("UPDATE offers SET state = 'accepted' WHERE id = :id", id=offer.id)
    assert "its hold is open, should be post_pending" in details(
        check_offer_fees_match_transfers())
    sql("UPDATE offers SET state = 'active' WHERE id = :id", id=offer.id)
    assert check_offer_fees_match_transfers() == []


def test_a_closed_offer_made_live_again_is_caught(world):
    for name, was, settled in (("declined", "declined", "void_pending"),
                               ("accepted", "accepted", "post_pending")):
        offer = world[name]
        sql("UPDATE offers SET state = 'active' WHERE id = :id", id=offer.id)
        found = details(check_offer_fees_match_transfers())
        assert f"offer {offer.id} (postpaid, active)" in found
        assert f"its hold is {settled}, should be open" in found
        sql("UPDATE offers SET state = :was WHERE id = :id", was=was, id=offer.id)
    assert check_offer_fees_match_transfers() == []


def test_a_prepaid_fee_altered_on_the_offer_is_caught(world):
    offer = world["prepaid"]
    fee_id = offer.fee_transfer_id
    sql("UPDATE offers SET fee_minor = 150 WHERE id = :id", id=offer.id)
    failures = check_offer_fees_match_transfers()
    assert [f.invariant for f in failures] == [10]
    assert f"offer {offer.id} (prepaid, active)" in failures[0].detail
    assert (f"its fee transfer {fee_id} is a posted prepaid_click of 100, "
            "not a posted prepaid_click of 150") in failures[0].detail
    assert failures[0].account_ids == (world["carol_wallet"], world["revenue"])
    sql("UPDATE offers SET fee_minor = 100 WHERE id = :id", id=offer.id)
    assert run_checks(MONEY_CHECKS) == []


def test_a_postpaid_fee_altered_on_the_offer_is_caught(world):
    offer = world["accepted"]  # charged in full: the charge no longer matches either
    sql("UPDATE offers SET fee_minor = 300 WHERE id = :id", id=offer.id)
    found = details(check_offer_fees_match_transfers())
    assert "is a pending postpaid_click of 200, not a pending postpaid_click of 300" in found
    assert "only 200 of 300 was charged" in found
    sql("UPDATE offers SET fee_minor = 200 WHERE id = :id", id=offer.id)
    assert check_offer_fees_match_transfers() == []


def test_an_offer_whose_fee_kind_is_changed_is_caught(world):
    offer = world["prepaid"]
    sql("UPDATE offers SET fee_kind = 'postpaid' WHERE id = :id", id=offer.id)
    assert "not a pending postpaid_click of 100" in details(
        check_offer_fees_match_transfers())
    sql("UPDATE offers SET fee_kind = 'prepaid' WHERE id = :id", id=offer.id)
    assert check_offer_fees_match_transfers() == []


def test_an_offer_that_lost_track_of_its_transfers_is_caught(world):
    held, declined = world["held"], world["declined"]
    fee_id, settle_id = held.fee_transfer_id, declined.fee_settle_transfer_id
    sql("UPDATE offers SET fee_transfer_id = NULL WHERE id = :id", id=held.id)
    sql("UPDATE offers SET fee_settle_transfer_id = NULL WHERE id = :id", id=declined.id)
    found = details(check_offer_fees_match_transfers())
    assert f"names fee transfer None, the ledger has {fee_id}" in found
    assert f"names settlement None, the ledger has {settle_id}" in found
    sql("UPDATE offers SET fee_transfer_id = :t WHERE id = :id", t=fee_id, id=held.id)
    sql("UPDATE offers SET fee_settle_transfer_id = :t WHERE id = :id", t=settle_id,
        id=declined.id)
    assert check_offer_fees_match_transfers() == []


def test_a_free_offer_that_names_a_fee_transfer_is_caught(world):
    free, fee_id = world["free"], world["prepaid"].fee_transfer_id
    sql("UPDATE offers SET fee_transfer_id = :t WHERE id = :id", t=fee_id, id=free.id)
    found = details(check_offer_fees_match_transfers())
    assert f"offer {free.id} (free, active) is free but has transfers {fee_id}" in found
    sql("UPDATE offers SET fee_transfer_id = NULL WHERE id = :id", id=free.id)
    assert check_offer_fees_match_transfers() == []


def test_a_click_transfer_with_another_cause_is_caught(world):
    wallet, revenue = world["bob_wallet"], world["revenue"]
    with rolled_back():
        stray = post_transfer(Leg(wallet, revenue, 1_00, TransferKind.PREPAID_CLICK),
                              cause=Cause("sample", 1), actor_id=None)
        nameless = reserve(Leg(wallet, revenue, 50, TransferKind.POSTPAID_CLICK),
                           cause=Cause("offer"), actor_id=None)
        failures = check_click_transfers_have_offers()
        assert [(f.invariant, f.name) for f in failures] == [
            (10, "click transfer has its offer")] * 2
        assert failures[0].detail == (f"prepaid_click transfer {stray.id} (cause sample:1) "
                                      "names no offer as its cause")
        assert f"postpaid_click transfer {nameless.id} (cause offer:None)" in failures[1].detail
        assert failures[0].account_ids == (wallet, revenue)
        # the nameless one is an offer transfer without its offer too; the stray isn't
        assert details(check_offer_fees_match_transfers()) == (
            f"transfers {nameless.id} name offer None, which doesn't exist")
    assert db.session.scalar(select(Transfer.id).where(Transfer.cause_type == "sample")) \
        is None
    assert run_checks(MONEY_CHECKS) == []


def test_a_transfer_on_an_offer_that_is_not_a_click_is_caught(world):
    offer = world["prepaid"]
    with rolled_back():
        post_transfer(Leg(world["carol_wallet"], world["revenue"], 1_00,
                          TransferKind.TRANSFER), cause=Cause("offer", offer.id), actor_id=None)
        found = details(check_offer_fees_match_transfers())
        assert f"offer {offer.id} (prepaid, active) has transfers that are not clicks" in found
        assert "has 2 fee transfers, not one" in found
    assert run_checks(MONEY_CHECKS) == []


def test_a_click_transfer_naming_a_missing_offer_is_caught_until_the_offer_exists(world):
    carol, gig_id = world["carol"], world["free"].gig_id  # carol has no offer on it
    wallet, revenue = world["carol_wallet"], world["revenue"]
    missing = 999_999
    fee = post_transfer(Leg(wallet, revenue, 1_00, TransferKind.PREPAID_CLICK),
                        cause=Cause("offer", missing), actor_id=carol.id)
    db.session.commit()
    failures = check_offer_fees_match_transfers()
    assert [(f.invariant, f.name) for f in failures] == [(10, "offer transfer has its offer")]
    assert failures[0].detail == f"transfers {fee.id} name offer {missing}, which doesn't exist"
    assert failures[0].account_ids == (wallet, revenue)
    assert check_click_transfers_have_offers() == []  # it does name an offer
    with atomic():  # transfers can't be deleted: give it the row it should have had
        db.session.add(Offer(id=missing, gig_id=gig_id, member_id=carol.id,
                             state=OfferState.WITHDRAWN, price_minor=100_00,
                             days_to_deliver=3, cover_letter="Adopted.",
                             fee_kind=FeeKind.PREPAID, fee_minor=1_00, fee_transfer_id=fee.id))
    assert run_checks(MONEY_CHECKS) == []


def test_flask_ledger_check_reports_offer_failures_and_fails(app, world):
    offer = world["held"]
    sql("UPDATE offers SET state = 'declined' WHERE id = :id", id=offer.id)
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 1
    assert f"invariant 10 (offer fee matches its transfers): offer {offer.id}" in result.output
    assert f"[accounts {world['bob_wallet']}, {world['revenue']}]" in result.output
    sql("UPDATE offers SET state = 'active' WHERE id = :id", id=offer.id)
    assert app.test_cli_runner().invoke(args=["ledger", "check"]).exit_code == 0
