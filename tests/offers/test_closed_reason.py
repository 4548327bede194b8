"""Why an offer closed, as the pages say it: an offer the system closed (its member
suspended, its gig cancelled or expired, another offer chosen) says so on the poster's
offer page and list, the offer page and My offers, instead of reading as if a party
had withdrawn or declined it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from offload.cases.services import open_case, resolve_case
from offload.core.db import db, utcnow
from offload.gigs.services import cancel_gig, expire_gigs
from offload.offers.models import Offer, OfferClosedReason, OfferState
from offload.offers.services import accept_award, award_offer, withdraw_offer


def _suspend(admin, member):
    case = open_case(actor=admin, subject=member, kind="other", summary="Fraud")
    resolve_case(case, actor=admin, resolution="suspended", reason="Took payments off-site")


def _pill(html: str, offer_id: int) -> str:
    """The state pill of one offer in a list."""
    item = re.search(rf'id="offer-{offer_id}".*?</li>', html, re.S).group(0)
    return re.search(r'class="pill offer-state-[a-z_]+">([^<]*)<', item).group(1)


def _fresh(offer: Offer) -> Offer:
    db.session.rollback()
    return db.session.get(Offer, offer.id)


@pytest.fixture
def people(make_member, fund):
    admin = make_member("root", admin=True)
    poster, bob, carol = (make_member(n, inviter=admin) for n in ("poster", "bob", "carol"))
    for m in (bob, carol):
        fund(m, 20_00)
    return admin, poster, bob, carol


def test_a_suspended_members_offer_reads_closed_not_withdrawn_to_the_poster(
        people, make_gig, make_offer, client, login):
    admin, poster, bob, _ = people
    gig = make_gig(poster, kind="task")
    offer = make_offer(gig, bob)
    _suspend(admin, bob)
    offer = _fresh(offer)
    assert offer.state == OfferState.WITHDRAWN
    assert offer.closed_reason == OfferClosedReason.MEMBER_SUSPENDED

    login(poster)
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "Closed: the member was suspended" in page
    assert ">Withdrawn<" not in page


def test_an_award_a_suspended_member_never_answered_reads_closed_not_turned_down(
        people, make_gig, make_offer, client, login):
    admin, poster, bob, _ = people
    gig = make_gig(poster)
    offer = make_offer(gig, bob)
    award_offer(offer, actor=poster)
    _suspend(admin, bob)
    assert _fresh(offer).state == OfferState.AWARD_DECLINED

    login(poster)
    page = client.get(f"/offers/{offer.id}").get_data(as_text=True)
    assert "Closed: the member was suspended" in page
    assert "Award turned down" not in page


def test_offers_on_a_cancelled_gig_say_so_on_my_offers_and_the_offer_page(
        people, make_gig, make_offer, client, login):
    _, poster, bob, carol = people
    gig = make_gig(poster, kind="task")
    closed, mine = make_offer(gig, bob), make_offer(gig, carol)
    withdraw_offer(mine, actor=carol)  # carol's own doing: no system reason
    cancel_gig(gig, actor=poster)
    assert _fresh(closed).closed_reason == OfferClosedReason.GIG_CANCELLED
    assert _fresh(mine).closed_reason is None

    login(bob)
    assert _pill(client.get("/my/offers").get_data(as_text=True), closed.id) == \
        "Closed: the gig was cancelled"
    assert "Closed: the gig was cancelled" in client.get(f"/offers/{closed.id}").get_data(
        as_text=True)
    login(carol)
    assert _pill(client.get("/my/offers").get_data(as_text=True), mine.id) == "Withdrawn"


def test_offers_on_an_expired_gig_and_beside_the_chosen_one_say_why(
        people, make_gig, make_offer, client, login):
    _, poster, bob, carol = people
    lapsing = make_gig(poster, kind="task")
    expired = make_offer(lapsing, bob)
    assert expire_gigs(now=utcnow() + timedelta(days=40)) == 1
    chosen_gig = make_gig(poster)
    other, chosen = make_offer(chosen_gig, bob), make_offer(chosen_gig, carol)
    award_offer(chosen, actor=poster)
    accept_award(chosen, actor=carol)

    login(bob)
    mine = client.get("/my/offers").get_data(as_text=True)
    assert _pill(mine, expired.id) == "Closed: the gig expired"
    assert _pill(mine, other.id) == "Closed: another offer was chosen"
    login(carol)
    assert _pill(client.get("/my/offers").get_data(as_text=True), chosen.id) == "Accepted"
