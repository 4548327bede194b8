"""The poster's ranked offers (the gig page's offers tab and the full list) show each
offerer's rating, their number of published reviews and the start of the cover letter
as plain text, in a number of queries that doesn't grow with the offers."""

from __future__ import annotations

import html
import re

import pytest

from offload.core.db import db, utcnow
from offload.core.text import markdown_excerpt
from offload.offers.models import Offer, OfferPortfolioItem, OfferState
from offload.profiles.services import add_portfolio_item
from offload.reviews.models import MemberRating

LETTER = ("I have **shipped** three [Django shops](https://example.com/shops) for "
          "clients like yours.\n\n- Stripe checkout\n- Celery for the e-mails\n\n"
          "I would start with the catalogue, then the cart, then payments; each of them "
          "is reviewed with you before the next begins, so nothing surprises you at the end.")


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


def rate(member, *stars: int) -> None:
    db.session.add(MemberRating(member_id=member.id, reviews=len(stars), stars_sum=sum(stars)))
    db.session.commit()


def item_of(page: str, offer_id: int) -> str:
    """The text of one offer's item in the ranked list, tags stripped."""
    found = re.search(rf'<li class="offer-item" id="offer-{offer_id}">(.*?)</li>\s*(?:<li|</ol>)',
                      page, re.S)
    assert found, f"offer {offer_id} is not in the list"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def test_the_letter_start_is_plain_text_cut_at_a_word():
    start = markdown_excerpt(LETTER, 200)
    assert start.startswith("I have shipped three Django shops for clients like yours. "
                            "Stripe checkout Celery for the e-mails")
    assert "**" not in start and "](" not in start and "- " not in start
    assert start.endswith("…") and len(start) <= 201
    whole_words = start[:-1].split()
    assert all(word in LETTER.replace("**", "") for word in whole_words[-2:])
    assert markdown_excerpt("Short & sweet.", 200) == "Short & sweet."
    assert markdown_excerpt("", 200) == ""


@pytest.mark.parametrize("url", ["/gigs/{gig}", "/gigs/{gig}/offers"])
def test_the_poster_sees_rating_reviews_and_the_letter_start(
        client, login, poster, make_gig, make_offer, make_member, url):
    gig = make_gig(poster=poster)
    rated, new = make_member("rated", display_name="Rae Rated"), make_member("newbie")
    rate(rated, 5, 4, 5)  # (4.0 * 5 + 14) / 8 = 4.25
    first = make_offer(gig, rated, cover_letter=LETTER)
    second = make_offer(gig, new, cover_letter="Quick and *careful*.")
    login(poster)
    page = client.get(url.format(gig=gig.id)).get_data(as_text=True)

    one = item_of(page, first.id)
    assert "Rae Rated" in one and "4.2" in one and "(3 reviews)" in one
    assert markdown_excerpt(LETTER, 200) in one
    assert "**" not in one and "Stripe checkout" in one
    assert "the next begins, so nothing surprises you at the end" not in one  # cut
    two = item_of(page, second.id)
    assert "no reviews yet" in two and "Quick and careful." in two


def test_the_ranked_list_runs_the_same_queries_at_any_size(
        client, login, poster, make_gig, make_member, count_queries):
    gig = make_gig(poster=poster)

    def add(n: int) -> None:
        now = utcnow()
        for i in range(n):
            m = make_member()
            rate(m, 1 + i % 5, 5)
            item = add_portfolio_item(actor=m, title=f"Work of {m.username}",
                                      url=f"https://example.com/{m.username}")
            offer = Offer(gig_id=gig.id, member_id=m.id, state=OfferState.ACTIVE,
                          price_minor=300_00, days_to_deliver=7, cover_letter=LETTER,
                          fee_kind="free", fee_minor=0, created_at=now)
            db.session.add(offer)
            db.session.flush()
            db.session.add(OfferPortfolioItem(offer_id=offer.id, portfolio_item_id=item.id))
        db.session.commit()

    add(21)  # more than a page (20) and than the gig page's ten: both show "more"
    login(poster)
    counts = {}
    for size in ("small", "large"):
        for url in (f"/gigs/{gig.id}/offers", f"/gigs/{gig.id}"):
            with count_queries() as statements:
                response = client.get(url)
            assert response.status_code == 200
            counts[size, url] = len(statements)
        if size == "small":
            add(30)
    assert counts["small", f"/gigs/{gig.id}/offers"] == counts["large", f"/gigs/{gig.id}/offers"]
    assert counts["small", f"/gigs/{gig.id}"] == counts["large", f"/gigs/{gig.id}"]
    page = client.get(f"/gigs/{gig.id}/offers").get_data(as_text=True)
    assert page.count("reviews)") == 20 and page.count("Work of member") == 20
