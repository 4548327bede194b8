"""The rows of the poster's ranked offers are cached HTML (``offers/_ranked_list.html``):
a change to an offer, its offerer's name or rating must show on the next request."""

from __future__ import annotations

import html
import re

from sqlalchemy import update

from offload.accounts.models import User
from offload.core.db import atomic, db
from offload.offers.models import Offer
from offload.offers.services import shortlist_offer
from offload.profiles.services import update_profile
from offload.reviews.models import MemberRating


def row_of(client, url: str, offer_id: int) -> str:
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(rf'<li class="offer-item" id="offer-{offer_id}">(.*?)</li>',
                      response.get_data(as_text=True), re.S)
    assert found, f"offer {offer_id} is not in the list"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_changes_to_an_offer_its_offerer_and_their_rating_show_at_once(
        client, login, make_member, make_gig, make_offer):
    poster, bob = make_member(), make_member(display_name="Bob Builder")
    gig = make_gig(poster)
    offer = make_offer(gig, bob, price_minor=400_00, cover_letter="First letter.")
    login(poster)
    urls = (f"/gigs/{gig.id}", f"/gigs/{gig.id}/offers")
    for url in urls:
        row = row_of(client, url, offer.id)
        assert "Bob Builder" in row and "$400.00" in row and "no reviews yet" in row
        assert "Active" in row

    shortlist_offer(db.session.get(Offer, offer.id), actor=poster)
    for url in urls:
        assert "Shortlisted" in row_of(client, url, offer.id)

    with atomic():  # new terms agreed (a proposal's acceptance writes them so)
        db.session.execute(update(Offer).where(Offer.id == offer.id)
                           .values(price_minor=450_00, cover_letter="Second letter."))
    for url in urls:
        row = row_of(client, url, offer.id)
        assert "$450.00" in row and "Second letter." in row and "First letter." not in row

    update_profile(actor=db.session.get(User, bob.id), display_name="Bob Renamed",
                   headline="", bio="", location="")
    for url in urls:
        assert "Bob Renamed" in row_of(client, url, offer.id)

    with atomic():  # a published review sums into the rating
        db.session.add(MemberRating(member_id=bob.id, reviews=2, stars_sum=10))
    for url in urls:
        assert "(2 reviews)" in row_of(client, url, offer.id)
