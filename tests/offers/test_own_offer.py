"""A member with a live offer on a gig sees that offer (terms, state, place, a link,
withdraw) where the offer form would be: on the gig page, and instead of the form at
/gigs/<id>/offers/new, which would only be refused."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.core.db import db
from offload.offers import services
from offload.offers.models import Offer, OfferState


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


def offers_of(member) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Offer)
                             .where(Offer.member_id == member.id))


def test_the_new_offer_page_leads_to_the_live_offer_instead_of_a_form(
        client, login, poster, bob, make_gig, make_offer):
    gig = make_gig(poster=poster)
    offer = make_offer(gig, bob)
    login(bob)
    response = client.get(f"/gigs/{gig.id}/offers/new")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/offers/{offer.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You already have an offer on this gig: here it is." in page

    # a second "Send the offer" (a double click, an old tab) lands there too, changing nothing
    response = client.post(f"/gigs/{gig.id}/offers/new", data={
        "offer-idempotency_key": "another", "offer-price": "300",
        "offer-days_to_deliver": "5", "offer-cover_letter": "Again"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/offers/{offer.id}")
    assert offers_of(bob) == 1


def test_once_withdrawn_the_form_is_back(client, login, poster, bob, make_gig, make_offer):
    gig = make_gig(poster=poster)
    services.withdraw_offer(make_offer(gig, bob), actor=bob)
    login(bob)
    response = client.get(f"/gigs/{gig.id}/offers/new")
    assert response.status_code == 200
    assert f'action="/gigs/{gig.id}/offers/new"' in response.get_data(as_text=True)


def test_the_gig_page_shows_the_live_offer_with_withdraw_and_no_make_offer(
        client, login, poster, bob, make_gig, make_offer, make_member):
    gig = make_gig(poster=poster)
    make_offer(gig, make_member())
    offer = make_offer(gig, bob, price_minor=450_00, days_to_deliver=12)
    login(bob)
    page = client.get(f"/gigs/{gig.id}").get_data(as_text=True)
    assert "Make an offer" not in page
    assert "$450.00</strong> in 12 days" in page and "place 2 of 2" in page
    assert f'href="/offers/{offer.id}">Open your offer' in page
    assert f'action="/offers/{offer.id}/withdraw"' in page

    response = client.post(f"/offers/{offer.id}/withdraw")
    assert response.status_code == 302
    assert db.session.get(Offer, offer.id).state == OfferState.WITHDRAWN
    page = client.get(f"/gigs/{gig.id}").get_data(as_text=True)
    assert "Make an offer" in page and "withdraw\"" not in page


def test_an_awarded_offer_shows_without_withdraw(client, login, poster, bob, make_gig,
                                                 make_offer):
    gig = make_gig(poster=poster)
    offer = make_offer(gig, bob)
    services.award_offer(offer, actor=poster)
    login(bob)
    page = client.get(f"/gigs/{gig.id}").get_data(as_text=True)
    assert "Open your offer" in page and "Awarded" in page
    assert "/withdraw" not in page and "Make an offer" not in page
    assert client.get(f"/gigs/{gig.id}/offers/new").status_code == 302
