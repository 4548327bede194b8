"""Offers over the API: making one (a paid one through an Idempotency-Key: a retry
answers the same offer and charges once, another body with the key is a 422), the
poster's ranked offers, my offers with their places, one offer, and each action of the
offer page, authorized as the page is (another member's offer is a 404)."""

from __future__ import annotations

import pytest

from offload.core.db import db
from offload.offers.models import Offer, OfferState
from offload.offers.negotiation import propose_terms
from offload.offers.services import award_offer
from tests.support.api import call, problem_fields, problem_type
from tests.support.offers import wallet

PREPAID = 1_00  # PREPAID_CLICK_FEE_MINOR in the test configuration
POSTPAID = 2_00


def _offer_body(**changes) -> dict:
    body = {"price_minor": 450_00, "days_to_deliver": 7,
            "cover_letter": "I have fixed this kind of thing before.", "fee_kind": "prepaid"}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


@pytest.fixture
def as_(bearer):
    """``as_(member)``: the headers of a token with every scope this area uses (a paid
    offer's fee needs ``wallet``)."""
    return lambda member: bearer(member, "read", "offers", "wallet")


def _make(client, headers, gig, key="key-1", status=201, **changes):
    return call(client, "POST", f"/gigs/{gig.id}/offers", {**headers, "Idempotency-Key": key},
                status, json=_offer_body(**changes))


def test_a_prepaid_offer_is_made_once_whatever_the_retries(app, client, task_gig, bob, as_):
    assert app.config["PREPAID_CLICK_FEE_MINOR"] == PREPAID
    headers = as_(bob)
    first = _make(client, headers, task_gig)
    body = first.get_json()
    assert first.headers["Location"] == f"/api/v1/offers/{body['id']}"
    assert (body["state"], body["fee_kind"], body["fee_minor"]) == ("active", "prepaid", PREPAID)
    assert (body["price_minor"], body["days_to_deliver"]) == (450_00, 7)
    assert (body["place"], body["live_count"]) == (1, 1)
    assert body["gig"]["id"] == task_gig.id and body["member"]["username"] == "bob"
    assert wallet(bob).available == 10_00 - PREPAID
    # the retry: the same answer, nothing charged again
    again = _make(client, headers, task_gig)
    assert again.get_json() == body and again.headers["Location"] == first.headers["Location"]
    assert wallet(bob).available == 10_00 - PREPAID
    # the key with another body
    reused = _make(client, headers, task_gig, status=422, price_minor=400_00)
    assert problem_type(reused) == "key-reused"
    assert problem_fields(reused) == {("headers", "Idempotency-Key")}
    assert wallet(bob).available == 10_00 - PREPAID
    assert db.session.query(Offer).count() == 1


def test_an_offer_needs_a_key_and_the_offers_scope(client, task_gig, bob, bearer, as_):
    response = call(client, "POST", f"/gigs/{task_gig.id}/offers", as_(bob), 422,
                    json=_offer_body())
    assert problem_fields(response) == {("headers", "Idempotency-Key")}
    response = _make(client, bearer(bob, "read"), task_gig, status=403)
    assert problem_type(response) == "forbidden"
    assert wallet(bob).available == 10_00
    assert db.session.query(Offer).count() == 0


def test_a_paid_offer_needs_the_wallet_scope_a_free_one_does_not(client, task_gig,
                                                                 referral_gig, bob, bearer):
    offers_only = bearer(bob, "read", "offers")
    for fee_kind in ("prepaid", "postpaid"):
        response = _make(client, offers_only, task_gig, key=fee_kind, status=403,
                         fee_kind=fee_kind)
        assert "wallet" in response.get_json()["detail"]
    assert wallet(bob).available == 10_00 and wallet(bob).held == 0
    assert db.session.query(Offer).count() == 0
    _make(client, offers_only, referral_gig, fee_kind=None)  # free: no money moves


def test_offer_refusals_name_the_body_fields(client, make_gig, poster, task_gig,
                                             referral_gig, bob, make_member, fund, as_):
    headers = as_(bob)
    cases = [(task_gig, {"price_minor": 0}, "price_minor"),
             (task_gig, {"days_to_deliver": 0}, "days_to_deliver"),
             (task_gig, {"fee_kind": None}, "fee_kind"),
             (task_gig, {"cover_letter": " "}, "cover_letter"),
             (task_gig, {"portfolio_item_ids": [999_999]}, "portfolio_item_ids"),
             (referral_gig, {}, "fee_kind")]
    for n, (gig, change, field) in enumerate(cases):
        refused = _make(client, headers, gig, key=f"k{n}", status=422, **change)
        assert problem_fields(refused) == {("body", field)}, change
    assert problem_type(_make(client, as_(poster), task_gig, status=403)) == "not-allowed"
    draft = make_gig(poster=poster, kind="task", publish=False)
    assert problem_type(_make(client, headers, draft, status=404)) == "not-found"
    broke = make_member("broke")
    refused = _make(client, as_(broke), task_gig, status=422)
    assert problem_type(refused) == "fee-not-covered"
    _make(client, headers, task_gig, key="first")
    assert problem_type(_make(client, headers, task_gig, key="second", status=409)) == (
        "conflict")
    assert wallet(bob).available == 10_00 - PREPAID


def test_a_referral_offer_is_free(client, referral_gig, bob, as_):
    body = _make(client, as_(bob), referral_gig, fee_kind=None).get_json()
    assert (body["fee_kind"], body["fee_minor"]) == ("free", 0)
    assert wallet(bob).available == 10_00


def test_the_poster_reads_the_ranked_offers_with_places(client, make_offer, task_gig, poster,
                                                        bob, carol, stranger, make_member,
                                                        as_):
    first, second = make_offer(task_gig, bob), make_offer(task_gig, carol)
    url = f"/gigs/{task_gig.id}/offers"
    page = call(client, "GET", url, as_(poster), query_string={"limit": 1})
    body = page.get_json()
    assert [(o["id"], o["place"]) for o in body["items"]] == [(first.id, 1)]
    item = body["items"][0]
    assert item["member"]["username"] == "bob" and item["rating"] == {"value": None,
                                                                      "reviews": 0}
    assert item["cover_letter"] and item["portfolio_items"] == []
    assert page.headers["Link"] == f'<{body["next"]}>; rel="next"'
    rest = call(client, "GET", body["next"].split("offload.example/api/v1")[1], as_(poster))
    assert [(o["id"], o["place"]) for o in rest.get_json()["items"]] == [(second.id, 2)]
    admin = as_(make_member("root", admin=True))
    assert len(call(client, "GET", url, admin).get_json()["items"]) == 2
    for other in (bob, stranger):  # an offerer too: the list is the poster's
        assert problem_type(call(client, "GET", url, as_(other), 404)) == "not-found"


def test_my_offers_with_their_places_and_states(client, make_gig, make_offer, poster,
                                                task_gig, bob, carol, as_):
    make_offer(task_gig, carol)
    mine = make_offer(task_gig, bob)
    other_gig = make_gig(poster=poster)
    withdrawn = make_offer(other_gig, bob)
    call(client, "POST", f"/offers/{withdrawn.id}/withdraw", as_(bob))
    body = call(client, "GET", "/offers", as_(bob)).get_json()
    assert [(o["id"], o["state"], o["place"]) for o in body["items"]] == [
        (withdrawn.id, "withdrawn", None), (mine.id, "active", 2)]
    assert body["items"][1]["gig"] == {"id": task_gig.id, "title": task_gig.title,
                                       "kind": "task", "state": "open",
                                       "poster_id": poster.id}
    active = call(client, "GET", "/offers", as_(bob), query_string={"state": "active"})
    assert [o["id"] for o in active.get_json()["items"]] == [mine.id]
    assert call(client, "GET", "/offers", as_(poster)).get_json()["items"] == []
    refused = call(client, "GET", "/offers", as_(bob), 422, query_string={"state": "won"})
    assert problem_fields(refused) == {("query", "state")}


def test_one_offer_for_its_maker_and_the_poster_only(client, make_offer, task_gig, poster,
                                                     bob, stranger, as_):
    offer = make_offer(task_gig, bob)
    for member in (bob, poster):
        body = call(client, "GET", f"/offers/{offer.id}", as_(member)).get_json()
        assert body["id"] == offer.id and body["fee_kind"] == "postpaid"
        assert body["html_url"] == f"https://offload.example/offers/{offer.id}"
        assert body["project_id"] is None and body["project_url"] is None
    assert problem_type(call(client, "GET", f"/offers/{offer.id}", as_(stranger), 404)) == (
        "not-found")
    call(client, "GET", "/offers/999999", as_(bob), 404)


def test_withdrawing_releases_a_postpaid_hold(client, make_offer, task_gig, poster, bob,
                                              stranger, as_):
    offer = make_offer(task_gig, bob)
    assert wallet(bob).available == 10_00 - POSTPAID
    url = f"/offers/{offer.id}/withdraw"
    call(client, "POST", url, as_(stranger), 404)
    assert problem_type(call(client, "POST", url, as_(poster), 403)) == "not-allowed"
    body = call(client, "POST", url, as_(bob)).get_json()
    assert (body["state"], body["place"]) == ("withdrawn", None)
    assert wallet(bob).available == 10_00
    assert problem_type(call(client, "POST", url, as_(bob), 409)) == "conflict"


def test_the_poster_shortlists_and_declines(client, make_offer, task_gig, poster, bob, carol,
                                            as_):
    offer, other = make_offer(task_gig, bob), make_offer(task_gig, carol)
    url = f"/offers/{offer.id}/shortlist"
    assert problem_type(call(client, "POST", url, as_(bob), 403)) == "not-allowed"
    assert call(client, "POST", url, as_(poster)).get_json()["state"] == "shortlisted"
    assert call(client, "POST", url, as_(poster), json={"shortlisted": False}).get_json()[
        "state"] == "active"
    declined = call(client, "POST", f"/offers/{other.id}/decline", as_(poster),
                    json={"reason": "Too far away"}).get_json()
    assert (declined["state"], declined["decline_reason"]) == ("declined", "Too far away")
    assert wallet(carol).available == 10_00  # the hold released
    assert problem_type(call(client, "POST", f"/offers/{offer.id}/decline", as_(bob), 403)) == (
        "not-allowed")


def test_award_and_accept_start_the_project(client, make_offer, task_gig, poster, bob, carol,
                                            as_):
    offer, other = make_offer(task_gig, bob), make_offer(task_gig, carol)
    accept = f"/offers/{offer.id}/accept"
    assert problem_type(call(client, "POST", accept, as_(bob), 409)) == "conflict"
    assert problem_type(call(client, "POST", f"/offers/{offer.id}/award", as_(bob), 403)) == (
        "not-allowed")
    awarded = call(client, "POST", f"/offers/{offer.id}/award", as_(poster)).get_json()
    assert awarded["state"] == "awarded"
    assert problem_type(call(client, "POST", accept, as_(poster), 403)) == "not-allowed"
    response = call(client, "POST", accept, as_(bob), 201)
    body = response.get_json()
    assert body["state"] == "accepted" and body["project_id"]
    assert body["project_url"] == f"https://offload.example/api/v1/projects/{body['project_id']}"
    assert response.headers["Location"] == f"/api/v1/projects/{body['project_id']}"
    charged = wallet(bob)  # the postpaid fee charged
    assert (charged.balance, charged.held) == (10_00 - POSTPAID, 0)
    assert wallet(carol).available == 10_00  # the other offer closed, its hold released
    assert db.session.get(Offer, other.id).state == OfferState.DECLINED


def test_an_award_is_declined_or_taken_back(client, make_offer, task_gig, poster, bob, as_):
    offer = make_offer(task_gig, bob)
    award_offer(offer, actor=poster)
    back = call(client, "POST", f"/offers/{offer.id}/take-back-award", as_(poster)).get_json()
    assert back["state"] == "active"
    call(client, "POST", f"/offers/{offer.id}/award", as_(poster))
    assert problem_type(call(client, "POST", f"/offers/{offer.id}/decline-award",
                             as_(poster), 403)) == "not-allowed"
    body = call(client, "POST", f"/offers/{offer.id}/decline-award", as_(bob)).get_json()
    assert body["state"] == "award_declined"
    assert wallet(bob).available == 10_00
    assert call(client, "GET", f"/gigs/{task_gig.id}", as_(bob)).get_json()["state"] == "open"


def test_terms_are_proposed_and_answered(client, make_offer, task_gig, poster, bob, stranger,
                                         as_):
    offer = make_offer(task_gig, bob, price_minor=400_00, days_to_deliver=10)
    url = f"/offers/{offer.id}/terms"
    call(client, "POST", url, as_(stranger), 404, json={"price_minor": 1})
    refused = call(client, "POST", url, as_(bob), 422, json={"price_minor": 0,
                                                             "days_to_deliver": 10})
    assert problem_fields(refused) == {("body", "price_minor")}
    response = call(client, "POST", url, as_(bob), 201,
                    json={"price_minor": 380_00, "days_to_deliver": 8, "note": "Less"})
    assert response.headers["Location"] == f"/api/v1/offers/{offer.id}"
    (proposal,) = response.get_json()["proposals"]
    assert (proposal["price_minor"], proposal["state"], proposal["note"]) == (
        380_00, "pending", "Less")
    answer = f"/offers/{offer.id}/terms/{proposal['id']}"
    assert problem_type(call(client, "POST", f"{answer}/accept", as_(bob), 403)) == (
        "not-allowed")
    countered = call(client, "POST", f"{answer}/counter", as_(poster), 201,
                     json={"price_minor": 390_00, "days_to_deliver": 8}).get_json()
    assert [p["state"] for p in countered["proposals"]] == ["countered", "pending"]
    counter_id = countered["proposals"][1]["id"]
    body = call(client, "POST", f"/offers/{offer.id}/terms/{counter_id}/accept",
                as_(bob)).get_json()
    assert (body["price_minor"], body["days_to_deliver"]) == (390_00, 8)
    again = call(client, "POST", f"/offers/{offer.id}/terms/{counter_id}/decline", as_(bob),
                 409)
    assert problem_type(again) == "conflict"


def test_a_proposal_is_answered_under_its_own_offer_only(client, make_offer, task_gig, poster,
                                                         bob, carol, as_):
    offer, other = make_offer(task_gig, bob), make_offer(task_gig, carol)
    proposal = propose_terms(other, actor=poster, price_minor=300_00, days_to_deliver=5)
    call(client, "POST", f"/offers/{offer.id}/terms/{proposal.id}/decline", as_(poster), 404)
    body = call(client, "POST", f"/offers/{other.id}/terms/{proposal.id}/decline",
                as_(carol)).get_json()
    assert [p["state"] for p in body["proposals"]] == ["declined"]
    assert body["price_minor"] == 400_00


def test_every_write_needs_the_offers_scope(client, make_offer, task_gig, poster, bob, bearer):
    offer = make_offer(task_gig, bob)
    reader = bearer(bob, "read")
    for path in ("withdraw", "accept", "decline-award", "terms"):
        assert problem_type(call(client, "POST", f"/offers/{offer.id}/{path}", reader,
                                 403)) == "forbidden"
    assert db.session.get(Offer, offer.id).state == OfferState.ACTIVE


def test_the_document_lists_every_offer_and_gig_write(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    operations = {(path.removeprefix("/api/v1"), method) for path, item in paths.items()
                  for method in item if method != "parameters"}
    offer = "/offers/{offer_id}"
    proposal = offer + "/terms/{proposal_id}"
    assert {("/gigs", "post"), ("/gigs/{gig_id}", "patch"), ("/gigs/{gig_id}/cancel", "post"),
            ("/gigs/{gig_id}/questions", "post"),
            ("/gigs/{gig_id}/questions/{question_id}/answer", "post"),
            ("/gigs/{gig_id}/offers", "get"), ("/gigs/{gig_id}/offers", "post"),
            ("/offers", "get"), (offer, "get"), (offer + "/withdraw", "post"),
            (offer + "/shortlist", "post"), (offer + "/decline", "post"),
            (offer + "/award", "post"), (offer + "/take-back-award", "post"),
            (offer + "/accept", "post"), (offer + "/decline-award", "post"),
            (offer + "/terms", "post"), (proposal + "/accept", "post"),
            (proposal + "/decline", "post"), (proposal + "/counter", "post")} <= operations
    make = paths["/api/v1/gigs/{gig_id}/offers"]["post"]
    assert {"201", "404", "409", "422"} <= set(make["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" and p["required"]
               for p in make["parameters"])
    assert "Location" in make["responses"]["201"]["headers"]
    # the buttons' bodies are optional: all their fields are
    assert paths["/api/v1" + offer + "/shortlist"]["post"]["requestBody"]["required"] is False
    assert paths["/api/v1" + offer + "/terms"]["post"]["requestBody"]["required"] is True


def test_the_lists_cost_a_fixed_number_of_statements(client, make_gig, make_member, make_offer,
                                                     poster, bob, as_, count_queries):
    gigs = [make_gig(poster=poster) for _ in range(6)]  # referrals: free offers
    make_offer(gigs[0], bob)
    reader, owner = as_(bob), as_(poster)
    urls = [("/offers", reader), (f"/gigs/{gigs[0].id}/offers", owner)]
    for url, headers in urls:  # the tokens' last use is written once
        call(client, "GET", url, headers)
    with count_queries() as few:
        for url, headers in urls:
            call(client, "GET", url, headers)
    for n, gig in enumerate(gigs[1:]):
        make_offer(gig, bob)
        make_offer(gigs[0], make_member(f"offerer{n}"))
    with count_queries() as many:
        for url, headers in urls:
            call(client, "GET", url, headers)
    assert len(few) == len(many)
    assert len(call(client, "GET", "/offers", reader).get_json()["items"]) == 6
