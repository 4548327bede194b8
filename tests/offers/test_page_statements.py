"""The gig page as its poster sees it (the ranked offers) and the full ranked list run a
fixed number of SQL statements, whatever the number of offers. What the layout reads
about the member is another part's and is left out: the statements a 404 page runs."""

from __future__ import annotations

import pytest

from offload.core.db import db, utcnow
from offload.offers.models import Offer, OfferPortfolioItem, OfferState
from offload.profiles.services import add_portfolio_item, set_member_skills
from offload.reviews.models import MemberRating

# the gig, its skills, questions, files; the ranked offers (with the live count), their
# portfolio items, the poster's unread messages; matching members (ranking, names)
GIG_PAGE_STATEMENTS = 9
# the gig; the ranked offers, their portfolio items, places, unread counts, live count
RANKED_LIST_STATEMENTS = 6


def statements_for(client, count_queries, url: str, status: int = 200) -> list[str]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == status
    return [s for s in statements if s.strip().upper() != "BEGIN"]


def add_offers(gig, make_member, n: int) -> None:
    now = utcnow()
    for i in range(n):
        member = make_member()
        set_member_skills(actor=member, skill_names=["Python"])
        if i % 3:
            db.session.add(MemberRating(member_id=member.id, reviews=2, stars_sum=7 + i % 3))
        item = add_portfolio_item(actor=member, title=f"Work {i}",
                                  url=f"https://example.com/{i}")
        offer = Offer(gig_id=gig.id, member_id=member.id, state=OfferState.ACTIVE,
                      price_minor=300_00 + i, days_to_deliver=7, cover_letter=f"Letter {i}",
                      fee_kind="free", fee_minor=0, created_at=now)
        db.session.add(offer)
        db.session.flush()
        db.session.add(OfferPortfolioItem(offer_id=offer.id, portfolio_item_id=item.id))
    db.session.commit()


@pytest.mark.parametrize("path, expected", [("/gigs/{gig}", GIG_PAGE_STATEMENTS),
                                            ("/gigs/{gig}/offers", RANKED_LIST_STATEMENTS)])
def test_the_posters_offer_pages_run_a_fixed_number_of_statements(
        client, login, make_member, make_gig, count_queries, path, expected):
    poster = make_member()
    gig = make_gig(poster, kind="task", skill_names=["Python"])
    login(poster)
    layout = set(statements_for(client, count_queries, "/offers/2147483000", 404))
    counts = []
    for total in (10, 60):
        add_offers(gig, make_member, total - (10 if counts else 0))
        own = [s for s in statements_for(client, count_queries, path.format(gig=gig.id))
               if s not in layout]
        counts.append(len(own))
    assert counts == [expected, expected], counts
