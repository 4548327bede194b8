"""The offer pages through the test client: forms keep what was typed and say what is
wrong, each side sees its buttons, others get 404, lists paginate, query counts stay
fixed whatever the number of offers, proposals and messages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from offload.conversations.models import OfferMessage
from offload.core.db import db, utcnow
from offload.ledger.models import AccountKind
from offload.ledger.services import system_account
from offload.offers import negotiation, services
from offload.offers.models import Offer, OfferProposal, OfferState, ProposalState
from offload.profiles.services import add_portfolio_item
from tests.support.factories import fresh


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


def page_of(response) -> str:
    return response.get_data(as_text=True)


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return page_of(response)


def offer_form(client, gig_id: int, **overrides) -> dict:
    """The new-offer form's fields as the browser would send them, with a fresh key."""
    page = get_page(client, f"/gigs/{gig_id}/offers/new")
    key = re.search(r'name="offer-idempotency_key" type="hidden" value="([^"]+)"', page)
    data = {"offer-idempotency_key": key.group(1), "offer-price": "450",
            "offer-days_to_deliver": "12", "offer-cover_letter": "I built three of these."}
    data.update(overrides)
    return data


def offer_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Offer))


def test_the_form_states_the_fees_and_the_wallet_balance(client, login, bob, poster,
                                                         make_gig, fund):
    gig = make_gig(poster=poster, kind="task")
    fund(bob, 7_50)
    login(bob)
    page = get_page(client, f"/gigs/{gig.id}/offers/new")
    assert "Prepaid click: $1.00, charged now" in page
    assert "Postpaid click: $2.00, held now" in page
    assert "$7.50</strong> available" in page


def test_referral_offers_are_free_and_show_the_commission(client, login, bob, poster, make_gig):
    gig = make_gig(poster=poster)
    login(bob)
    page = get_page(client, f"/gigs/{gig.id}/offers/new")
    assert "Offers on referral gigs are free" in page and "Response fee" not in page
    response = client.post(f"/gigs/{gig.id}/offers/new", data=offer_form(client, gig.id))
    assert response.status_code == 302
    offer = db.session.scalar(select(Offer))
    assert response.headers["Location"] == f"/offers/{offer.id}"
    page = get_page(client, f"/offers/{offer.id}")
    assert "free (referral)" in page and "place 1 of 1" in page


def test_a_bad_offer_keeps_what_was_typed_and_says_what_is_wrong(client, login, bob, poster,
                                                                 make_gig, fund):
    gig = make_gig(poster=poster, kind="task")
    fund(bob, 10_00)
    login(bob)
    data = offer_form(client, gig.id, **{"offer-price": "12.555",
                                         "offer-cover_letter": "Keep this letter"})
    response = client.post(f"/gigs/{gig.id}/offers/new", data=data)
    page = page_of(response)
    assert response.status_code == 422
    assert "Use at most two decimals" in page and "Keep this letter" in page
    assert "Choose a prepaid or a postpaid click." in page  # no fee chosen
    assert offer_count() == 0


def test_an_offer_the_wallet_cannot_cover_is_refused_with_a_link_to_add_funds(
        client, login, bob, poster, make_gig, fund):
    gig = make_gig(poster=poster, kind="task")
    fund(bob, 50)
    login(bob)
    data = offer_form(client, gig.id, **{"offer-fee_kind": "prepaid"})
    response = client.post(f"/gigs/{gig.id}/offers/new", data=data)
    page = page_of(response)
    assert response.status_code == 422
    assert "Your available balance is $0.50" in page
    assert "$1.00 prepaid fee (charged when you send" in page
    assert 'href="/wallet#add-funds"' in page
    assert "I built three of these." in page
    assert offer_count() == 0


def test_a_double_submit_sends_one_offer_and_charges_once(client, login, bob, poster,
                                                          make_gig, fund):
    gig = make_gig(poster=poster, kind="task")
    fund(bob, 10_00)
    login(bob)
    data = offer_form(client, gig.id, **{"offer-fee_kind": "prepaid"})
    first = client.post(f"/gigs/{gig.id}/offers/new", data=data)
    second = client.post(f"/gigs/{gig.id}/offers/new", data=data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert offer_count() == 1
    services.withdraw_offer(db.session.scalar(select(Offer)), actor=bob)  # the form again
    assert "$9.00</strong> available" in get_page(client, f"/gigs/{gig.id}/offers/new")


def test_the_poster_shortlists_negotiates_and_awards_and_the_offerer_accepts(
        client, login, bob, poster, make_gig, make_member):
    gig = make_gig(poster=poster)
    add_portfolio_item(actor=bob, title="Bakery shop", url="https://bakery.example",
                       description="")
    login(bob)
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Acme Ltd" not in page and "Make an offer" in page
    item = re.search(r'name="offer-portfolio_items" type="checkbox" value="(\d+)"',
                     get_page(client, f"/gigs/{gig.id}/offers/new")).group(1)
    client.post(f"/gigs/{gig.id}/offers/new",
                data=offer_form(client, gig.id, **{"offer-portfolio_items": item}))
    offer = db.session.scalar(select(Offer))
    assert "place 1 of 1" in get_page(client, f"/gigs/{gig.id}")

    login(poster)
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Bob Builder" in page and "Bakery shop" in page
    client.post(f"/offers/{offer.id}/shortlist?on=1")
    assert fresh(offer).state == OfferState.SHORTLISTED
    response = client.post(f"/offers/{offer.id}/proposals", data={
        "propose-price": "400", "propose-days_to_deliver": "12", "propose-note": "Tighter?"})
    assert response.status_code == 302
    proposal = db.session.scalar(select(OfferProposal))

    login(bob)
    page = get_page(client, f"/offers/{offer.id}")
    assert "Accept $400.00 in 12 days" in page and "Tighter?" in page
    client.post(f"/offers/proposals/{proposal.id}/accept")
    assert fresh(offer).price_minor == 400_00

    login(poster)
    assert "Award the gig" in get_page(client, f"/offers/{offer.id}")
    client.post(f"/offers/{offer.id}/award")
    assert fresh(offer).state == OfferState.AWARDED

    login(bob)
    page = get_page(client, f"/offers/{offer.id}")
    assert "Accept the award" in page
    response = client.post(f"/offers/{offer.id}/accept-award")
    assert response.status_code == 302
    assert "the project has started" in get_page(client, f"/offers/{offer.id}")
    assert "Acme Ltd" in get_page(client, f"/gigs/{gig.id}")  # the performer sees the client


def test_a_bad_proposal_keeps_what_was_typed(client, login, bob, poster, make_gig, make_offer):
    offer = make_offer(make_gig(poster=poster), bob)
    login(poster)
    response = client.post(f"/offers/{offer.id}/proposals", data={
        "propose-price": "abc", "propose-days_to_deliver": "3", "propose-note": "My note"})
    page = page_of(response)
    assert response.status_code == 422
    assert "Enter the amount as a number" in page and "My note" in page
    response = client.post(f"/offers/{offer.id}/proposals", data={
        "propose-price": "400", "propose-days_to_deliver": "10"})  # the current terms
    assert response.status_code == 422 and "terms agreed already" in page_of(response)
    assert db.session.scalar(select(func.count()).select_from(OfferProposal)) == 0


def test_a_member_who_is_neither_side_gets_404_everywhere(client, login, bob, poster,
                                                         make_gig, make_offer, make_member):
    offer = make_offer(make_gig(poster=poster), bob)
    proposal = negotiation.propose_terms(offer, actor=poster, price_minor=300_00,
                                      days_to_deliver=9)
    login(make_member("carol"))
    assert client.get(f"/offers/{offer.id}").status_code == 404
    for action in ("withdraw", "shortlist", "decline", "award", "accept-award",
                   "decline-award", "proposals", "messages"):
        assert client.post(f"/offers/{offer.id}/{action}").status_code == 404, action
    for action in ("accept", "decline", "counter"):
        assert client.post(f"/offers/proposals/{proposal.id}/{action}").status_code == 404
    assert client.get(f"/gigs/{offer.gig_id}/offers").status_code == 404
    assert fresh(offer).state == OfferState.ACTIVE


def test_the_offerer_cannot_use_the_posters_buttons(client, login, bob, poster, make_gig,
                                                    make_offer):
    offer = make_offer(make_gig(poster=poster), bob)
    login(bob)
    page = get_page(client, f"/offers/{offer.id}")
    assert "Award the gig" not in page and "Withdraw the offer" in page
    client.post(f"/offers/{offer.id}/award")
    assert fresh(offer).state == OfferState.ACTIVE
    page = get_page(client, f"/offers/{offer.id}")
    assert "Only the member who posted the gig can award it." in page


def test_my_offers_by_state_with_places(app, client, login, bob, poster, make_gig, make_offer,
                                        make_member, monkeypatch):
    first, second = make_gig(poster=poster, title="First gig"), make_gig(poster=poster,
                                                                           title="Second gig")
    make_offer(first, make_member())
    make_offer(first, bob)
    withdrawn = make_offer(second, bob)
    services.withdraw_offer(withdrawn, actor=bob)
    login(bob)
    page = get_page(client, "/my/offers")
    assert "First gig" in page and "place 2" in page and "Second gig" in page
    page = get_page(client, "/my/offers?state=withdrawn")
    assert "Second gig" in page and "First gig" not in page
    assert client.get("/my/offers?state=bogus").status_code == 422
    monkeypatch.setitem(app.config, "PAGE_SIZE", 1)
    page = get_page(client, "/my/offers")
    older = re.search(r'href="([^"]*)">Older', page).group(1).replace("&amp;", "&")
    assert "Second gig" in page and "First gig" in get_page(client, older)


def test_the_posters_offer_list_pages_in_ranking_order(app, client, login, poster, make_gig,
                                                       make_offer, make_member, monkeypatch):
    gig = make_gig(poster=poster)
    members = [make_member(display_name=f"Offerer {n}") for n in range(5)]
    for m in members:
        make_offer(gig, m)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login(poster)
    seen, url = [], f"/gigs/{gig.id}/offers"
    while url:
        page = get_page(client, url)
        seen += re.findall(r"Offerer \d", page)
        nxt = re.search(r'href="([^"]*)">Next', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == [f"Offerer {n}" for n in range(5)]


# --- a fixed number of queries ------------------------------------------------------------

def _queries(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _add_offers(gig, members) -> None:
    now = utcnow()
    db.session.add_all(Offer(gig_id=gig.id, member_id=m.id, state=OfferState.ACTIVE,
                             price_minor=300_00, days_to_deliver=7, cover_letter="Hi",
                             fee_kind="free", fee_minor=0, created_at=now)
                       for m in members)
    db.session.commit()


@pytest.mark.parametrize("viewer", ["poster", "offerer"])
def test_the_gig_page_runs_the_same_queries_at_10_and_at_200_offers(
        client, login, poster, bob, make_gig, make_offer, make_member, count_queries, viewer):
    gig = make_gig(poster=poster)
    make_offer(gig, bob)
    _add_offers(gig, [make_member() for _ in range(9)])
    login(poster if viewer == "poster" else bob)
    before = _queries(client, count_queries, f"/gigs/{gig.id}")
    _add_offers(gig, [make_member() for _ in range(190)])
    assert _queries(client, count_queries, f"/gigs/{gig.id}") == before


def test_the_offer_page_runs_the_same_queries_whatever_its_history(
        client, login, poster, bob, make_gig, make_offer, count_queries):
    offer = make_offer(make_gig(poster=poster), bob)

    def add_history(n: int) -> None:
        now = utcnow()
        db.session.add_all(OfferMessage(offer_id=offer.id, sender_id=(bob, poster)[i % 2].id,
                                        body=f"Message {i}") for i in range(n))
        db.session.add_all(OfferProposal(offer_id=offer.id, proposer_id=poster.id,
                                         price_minor=100_00 + i, days_to_deliver=5,
                                         state=ProposalState.DECLINED, responded_at=now)
                           for i in range(n))
        db.session.commit()

    add_history(5)
    login(bob)
    before = _queries(client, count_queries, f"/offers/{offer.id}")
    add_history(200)
    assert _queries(client, count_queries, f"/offers/{offer.id}") == before
    assert client.get(f"/offers/{offer.id}").status_code == 200


# Placing an offer, statement by statement. The request: the member (the session), the
# gig, their live offer (the form redirects to it). Read before the write transaction:
# an open case holding them, their earlier offers on the gig, both accounts, the poster
# with their channel for new offers. The transaction: the gig's state locked and
# re-read, the idempotency key claimed, the offer, [PostgreSQL: both accounts locked],
# the guarded debit, the credit, the transfer, the offer's fee transfer, the key's
# outcome, the notification, the letter (the worker renders it), the poster's webhook
# endpoints (one lookup on their index), the poster's unread counter [PostgreSQL: the
# worker woken]. SQLite adds its two BEGINs.
PLACING_AN_OFFER = {"sqlite": 21, "postgresql": 21}


@pytest.mark.parametrize("fee_kind", ["prepaid", "postpaid"])
def test_placing_an_offer_runs_the_statements_the_ledger_and_the_offer_need(
        client, login, bob, poster, make_gig, fund, count_queries, fee_kind):
    gig_id = make_gig(poster=poster, kind="task").id
    fund(bob, 10_00)
    system_account(AccountKind.PLATFORM_REVENUE)  # as on a site that has charged a fee
    db.session.commit()
    login(bob)
    data = offer_form(client, gig_id, **{"offer-fee_kind": fee_kind})
    with count_queries() as statements:
        response = client.post(f"/gigs/{gig_id}/offers/new", data=data)
    assert response.status_code == 302
    assert len(statements) == PLACING_AN_OFFER[db.engine.dialect.name], "\n".join(statements)
    offer = db.session.scalar(select(Offer))
    assert response.headers["Location"] == f"/offers/{offer.id}"
    assert (offer.fee_kind, offer.fee_transfer_id is not None) == (fee_kind, True)


def test_my_offers_runs_the_same_queries_at_any_size(client, login, bob, make_gig, make_offer,
                                                     make_member, count_queries):
    poster = make_member()
    for _ in range(3):
        make_offer(make_gig(poster=poster), bob)
    login(bob)
    before = _queries(client, count_queries, "/my/offers")
    for _ in range(25):
        make_offer(make_gig(poster=poster), bob)
    assert _queries(client, count_queries, "/my/offers") == before


def test_my_gigs_shows_how_many_live_offers_each_gig_has(client, login, poster, bob, make_gig,
                                                         make_offer, make_member):
    busy, quiet = make_gig(poster=poster, title="Busy gig"), make_gig(poster=poster)
    carol = make_member()
    make_offer(busy, bob)
    services.withdraw_offer(make_offer(busy, carol), actor=carol)
    login(poster)
    page = get_page(client, "/my/gigs")
    assert page.count("1 live offer<") == 1 and page.count("0 live offers") == 1
    for gig, count in ((busy, "1 live offer<"), (quiet, "0 live offers")):
        item = re.search(rf"{re.escape(gig.title)}.*?</li>", page, re.S).group(0)
        assert count in item, gig.title


def test_the_poster_can_take_an_unanswered_award_back(client, login, poster, bob, make_gig,
                                                      make_offer):
    offer = make_offer(make_gig(poster=poster), bob)
    services.award_offer(offer, actor=poster)
    login(bob)
    assert "Take the award back" not in get_page(client, f"/offers/{offer.id}")
    login(poster)
    assert "Take the award back" in get_page(client, f"/offers/{offer.id}")
    client.post(f"/offers/{offer.id}/take-back-award")
    assert fresh(offer).state == OfferState.ACTIVE
    assert "Award the gig" in get_page(client, f"/offers/{offer.id}")


def test_the_dashboard_lists_awards_waiting_for_an_answer(client, login, poster, bob, make_gig,
                                                          make_offer):
    offer = make_offer(make_gig(poster=poster, title="Chosen gig"), bob)
    login(bob)
    assert "Awards waiting for your answer" not in get_page(client, "/dashboard")
    services.award_offer(offer, actor=poster)
    page = get_page(client, "/dashboard")
    assert "Awards waiting for your answer" in page and f'href="/offers/{offer.id}"' in page


def test_after_acceptance_the_poster_sees_who_took_the_gig(client, login, poster, bob,
                                                          make_gig, make_offer):
    gig = make_gig(poster=poster)
    offer = make_offer(gig, bob)
    services.award_offer(offer, actor=poster)
    services.accept_award(fresh(offer), actor=bob)
    login(poster)
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Awarded to <strong>Bob Builder</strong>" in page
    assert f'href="/offers/{offer.id}">Open the offer' in page and "No offers yet" not in page


