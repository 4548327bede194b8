"""The poster's ranked offers are one cached fragment (keyed by every row's
``fragment_key``, in order) with the place, the unread count and "sent … ago" put in
per request: a change to an offer, its offerer's name or rating, the order, or the
poster's unread messages shows on the next request, never a stale list."""

from __future__ import annotations

import re

from offload.conversations.services import send_offer_message
from offload.core.db import db
from offload.offers.models import Offer
from offload.offers.services import shortlist_offer, withdraw_offer
from offload.profiles.services import update_profile
from offload.reviews.models import MemberRating


def offers_section(client, gig_id: int) -> str:
    response = client.get(f"/gigs/{gig_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return page[page.index('id="offers-heading"'):page.index('id="questions-heading"')]


def rows(section: str) -> list[tuple[str, str]]:
    """(place, offerer) of each row, in order."""
    return re.findall(r'<span class="place">#(\d+)</span>\s*<a href="/offers/\d+">([^<]+)</a>',
                      section)


def test_a_change_shows_on_the_next_request_never_a_stale_list(
        client, login, make_member, make_gig, make_offer):
    poster = make_member("poster")
    ann, ben = make_member("ann", display_name="Ann"), make_member("ben", display_name="Ben")
    gig = make_gig(poster)  # a referral: free offers
    first = make_offer(gig, ann, price_minor=300_00)
    second = make_offer(gig, ben, price_minor=400_00)
    login(poster)
    section = offers_section(client, gig.id)
    assert rows(section) == [("1", "Ann"), ("2", "Ben")]
    assert 'offer-count">2<' in section and "Sent just now" in section
    assert offers_section(client, gig.id) == section  # the cached list, the same HTML

    shortlist_offer(db.session.get(Offer, second.id), actor=poster)
    assert "offer-state-shortlisted" in offers_section(client, gig.id)

    update_profile(actor=ann, display_name="Ann Renamed", headline="", bio="", location="")
    assert rows(offers_section(client, gig.id))[0] == ("1", "Ann Renamed")

    # a rating moves Ben first: the order, so the places, change
    db.session.add(MemberRating(member_id=ben.id, reviews=20, stars_sum=100))
    db.session.commit()
    section = offers_section(client, gig.id)
    assert rows(section) == [("1", "Ben"), ("2", "Ann Renamed")]
    assert "(20 reviews)" in section

    send_offer_message(db.session.get(Offer, first.id), actor=ann, body="A question")
    section = offers_section(client, gig.id)
    assert section.count("1 unread") == 1
    assert section.index("1 unread") > section.index("Ann Renamed")

    withdraw_offer(db.session.get(Offer, first.id), actor=ann)
    section = offers_section(client, gig.id)
    assert rows(section) == [("1", "Ben")] and 'offer-count">1<' in section
