"""Offers ranked by the offerer's rating, then time: the list, its keyset pages, the
places (for the poster and for each offerer), and places that move when a review of
an offerer is published."""

from __future__ import annotations

import pytest

from offload.accounts.models import User
from offload.core.db import db
from offload.offers.queries import offers_tab, ranked_offers_page
from offload.offers.ranking import places_of
from offload.reviews.models import MemberRating
from offload.reviews.services import submit_review
from tests.support.factories import all_skills


def rate(member: User, *stars: int) -> None:
    """Published reviews of ``member`` (the sums ranking reads)."""
    db.session.add(MemberRating(member_id=member.id, reviews=len(stars), stars_sum=sum(stars)))
    db.session.commit()


@pytest.fixture
def offerers(make_member):
    return [make_member(name) for name in ("ann", "ben", "cat", "dan")]


@pytest.fixture
def gig_with_offers(make_gig, make_offer, offerers):
    """A referral gig with offers from ann, ben, cat and dan, in that order."""
    gig = make_gig()
    offers = [make_offer(gig, member) for member in offerers]
    db.session.commit()
    return gig, offers


def names(offers) -> list[str]:
    """Offers or ranked offers (offers.queries.RankedOffer) as their offerers' names."""
    return [db.session.get(User, getattr(o, "offer", o).member_id).username for o in offers]


def test_without_reviews_the_earlier_offer_comes_first(gig_with_offers):
    gig, offers = gig_with_offers
    assert names(ranked_offers_page(gig.id).items) == ["ann", "ben", "cat", "dan"]
    assert places_of([o.id for o in offers]) == {o.id: n for n, o in enumerate(offers, 1)}


def test_a_higher_rating_comes_first_then_time(gig_with_offers, offerers):
    gig, offers = gig_with_offers
    ann, ben, cat, dan = offerers
    rate(ben, 5)        # (20 + 5) / 6 = 4.17
    rate(cat, 2, 3)     # (20 + 5) / 7 = 3.57
    rate(dan, 4, 4)     # (20 + 8) / 7 = 4.0: the prior's own value, ties with ann on time
    assert names(ranked_offers_page(gig.id).items) == ["ben", "ann", "dan", "cat"]
    by_member = {o.member_id: o.id for o in offers}
    places = places_of(list(by_member.values()))
    assert [places[by_member[m.id]] for m in (ben, ann, dan, cat)] == [1, 2, 3, 4]
    tab = offers_tab(db.session.get(type(gig), gig.id), db.session.get(User, gig.poster_id))
    assert names(tab.top) == ["ben", "ann", "dan", "cat"]


def test_the_ranked_list_pages_by_rating_then_time(app, gig_with_offers, offerers,
                                                   count_queries, monkeypatch):
    gig, _ = gig_with_offers
    ann, ben, cat, dan = offerers
    rate(cat, 5, 5)
    rate(ann, 1)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    first = ranked_offers_page(gig.id)
    assert names(first.items) == ["cat", "ben"] and first.next_cursor
    with count_queries() as statements:
        second = ranked_offers_page(gig.id, first.next_cursor)
    assert names(second.items) == ["dan", "ann"] and second.next_cursor is None
    assert len(statements) <= 4
    assert names(ranked_offers_page(gig.id, "not-a-cursor").items) == ["cat", "ben"]


def test_an_offerer_moves_up_when_a_review_of_them_is_published(
        client, login, make_gig, make_offer, completed, referrer, performer, make_member):
    """The performer of a finished project offers on a new gig after someone else; once
    both reviews of that project are in, their place on the new gig goes from 2 to 1."""
    other = make_member("early")
    project = completed()
    new_gig = make_gig(poster=make_member("newposter"))
    make_offer(new_gig, other)
    mine = make_offer(new_gig, performer)
    db.session.commit()
    assert places_of([mine.id]) == {mine.id: 2}
    login(performer)
    assert "place 2 of 2" in client.get(f"/gigs/{new_gig.id}").get_data(as_text=True)

    submit_review(project, actor=referrer, stars=5, body="Excellent.",
                  skill_stars=all_skills(project, 5))
    assert places_of([mine.id]) == {mine.id: 2}  # hidden until both are in
    submit_review(db.session.get(type(project), project.id), actor=performer, stars=5,
                  body="Clear brief.")
    assert places_of([mine.id]) == {mine.id: 1}
    assert "place 1 of 2" in client.get(f"/gigs/{new_gig.id}").get_data(as_text=True)


def test_a_long_record_ranks_without_overflow(gig_with_offers, offerers):
    """10,000 five-star reviews: 50,000 stars in millionths needs 64 bits."""
    gig, _ = gig_with_offers
    ann, ben, cat, dan = offerers
    db.session.add(MemberRating(member_id=dan.id, reviews=10_000, stars_sum=50_000))
    db.session.add(MemberRating(member_id=cat.id, reviews=10_000, stars_sum=49_999))
    db.session.commit()
    assert names(ranked_offers_page(gig.id).items) == ["dan", "cat", "ann", "ben"]
