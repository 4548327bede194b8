"""A whole task gig from offer to award, checking the money at each step."""

from offload.core.db import db
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.services import wallet_account
from offload.offers import services
from offload.offers.models import Offer, OfferClosedReason, OfferState


def available(member) -> int:
    db.session.rollback()
    return wallet_account(member.id).available


def test_task_gig_award_charges_the_chosen_postpaid_fee_and_releases_the_rest(
        make_member, make_gig, make_offer, fund):
    poster, bob, carol, dave = (make_member(n) for n in ("poster", "bob", "carol", "dave"))
    for m in (bob, carol, dave):
        fund(m, 10_00)
    gig = make_gig(poster=poster, kind="task")
    b = make_offer(gig, bob, fee_kind="postpaid")
    c = make_offer(gig, carol, fee_kind="prepaid")
    d = make_offer(gig, dave, fee_kind="postpaid")
    assert (available(bob), available(carol), available(dave)) == (8_00, 9_00, 8_00)
    assert run_checks(MONEY_CHECKS) == []
    services.award_offer(b, actor=poster)
    project = services.accept_award(db.session.get(Offer, b.id), actor=bob)
    assert project.price_minor == 400_00
    db.session.rollback()
    states = {o.id: (o.state, o.closed_reason) for o in db.session.scalars(db.select(Offer))}
    assert states == {b.id: (OfferState.ACCEPTED, None),
                      c.id: (OfferState.DECLINED, OfferClosedReason.ANOTHER_CHOSEN),
                      d.id: (OfferState.DECLINED, OfferClosedReason.ANOTHER_CHOSEN)}
    assert (available(bob), available(carol), available(dave)) == (8_00, 9_00, 10_00)
    assert wallet_account(bob.id).balance == 8_00
    assert run_checks(MONEY_CHECKS) == []
