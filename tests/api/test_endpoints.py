"""Every endpoint of the API, with the authorization the pages have: /me, the board
(filters, search, sort, cursor pages with a Link header), one gig with its questions
(another member's draft is a 404, a cancelled gig answers as its page does), the
notifications; and the problems they answer with."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from offload.core.db import db
from offload.gigs.models import Gig
from offload.gigs.services import answer_question, ask_question, cancel_gig
from offload.notifications.services import notify
from tests.support.app import make_app


def _get(client, headers, url, status=200, **query):
    response = client.get(url, headers=headers, query_string=query or None)
    assert response.status_code == status, (url, response.get_json())
    return response


def test_me_is_the_member_the_token_speaks_for(client, make_member, bearer):
    ada = make_member("ada", display_name="Ada Lovelace")
    notify(ada, "invite_accepted", title="Someone joined", link="/dashboard")
    response = _get(client, bearer(ada, "read", "offers"), "/api/v1/me")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "id": ada.id, "username": "ada", "name": "Ada Lovelace", "email": "ada@example.com",
        "account_type": "individual", "organization_name": None, "work_role": "both",
        "is_admin": False, "is_confirmed": True, "unread_notifications": 1,
        "unread_messages": 0, "scopes": ["read", "offers"]}


def test_the_board_lists_open_gigs_as_the_board_page_does(client, make_member, make_gig,
                                                          bearer):
    poster, reader = make_member("poster"), make_member("reader")
    shown = make_gig(poster=poster, kind="task", title="Fix the flaky CI", skill_names=["Go"])
    make_gig(poster=poster, title="A draft", publish=False)
    cancel_gig(make_gig(poster=poster, title="Called off"), actor=poster)
    body = _get(client, bearer(reader), "/api/v1/gigs").get_json()
    assert body["next"] is None
    assert [g["title"] for g in body["items"]] == ["Fix the flaky CI"]
    item = body["items"][0]
    assert item == {
        "id": shown.id, "kind": "task", "state": "open", "title": "Fix the flaky CI",
        "budget_min_minor": 50_000, "budget_max_minor": 100_000, "currency": "USD",
        "deadline": shown.deadline.isoformat(), "published_at": item["published_at"],
        "poster": {"id": poster.id, "username": "poster", "name": "Poster"},
        "skills": [{"slug": "go", "name": "Go"}],
        "html_url": f"https://offload.example/gigs/{shown.id}"}


def test_the_board_filters_searches_and_sorts(client, make_member, make_gig, bearer):
    poster, headers = make_member("poster"), bearer(make_member("reader"))
    make_gig(poster=poster, kind="task", title="Physiotherapy booking app",
             budget_min_minor=100_00, budget_max_minor=200_00)
    make_gig(poster=poster, kind="referral", title="Shop in Flask",
             budget_min_minor=900_00, budget_max_minor=1_000_00)

    def titles(**query):
        return [g["title"] for g in _get(client, headers, "/api/v1/gigs",
                                         **query).get_json()["items"]]

    assert titles(q="physio") == ["Physiotherapy booking app"]
    assert titles(kind="referral") == ["Shop in Flask"]
    assert titles(budget_min="500") == ["Shop in Flask"]
    assert titles(sort="budget") == ["Shop in Flask", "Physiotherapy booking app"]
    assert titles(skills="rust") == []


def test_the_board_pages_with_a_cursor_and_a_link_header(client, make_member, make_gig,
                                                         bearer):
    poster, headers = make_member("poster"), bearer(make_member("reader"))
    made = [make_gig(poster=poster, kind="task", title=f"Gig {n}").id for n in range(5)]
    seen, url, pages = [], "/api/v1/gigs?limit=2&kind=task", 0
    while url:
        response = _get(client, headers, url)
        body = response.get_json()
        seen += [g["id"] for g in body["items"]]
        pages += 1
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
            parts = urlsplit(body["next"])
            assert parts.netloc == "offload.example"  # CANONICAL_URL, never the Host
            query = parse_qs(parts.query)
            assert query["kind"] == ["task"] and query["limit"] == ["2"]
            url = f"{parts.path}?{parts.query}"
        else:
            assert "Link" not in response.headers
            url = None
    assert pages == 3 and seen == made[::-1]


def test_a_bad_filter_is_a_422_problem_listing_the_fields(client, make_member, bearer):
    headers = bearer(make_member("reader"))
    response = _get(client, headers, "/api/v1/gigs", 422, sort="cheapest", limit="1000")
    body = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert body["type"] == "urn:offload:problem:validation-failed"
    assert body["status"] == 422 and body["title"] and body["detail"]
    assert {(e["in"], e["field"]) for e in body["errors"]} == {("query", "sort"),
                                                                 ("query", "limit")}
    # what only the board's own parser knows (an amount) is listed the same way
    body = _get(client, headers, "/api/v1/gigs", 422, budget_min="lots").get_json()
    assert [(e["in"], e["field"]) for e in body["errors"]] == [("query", "budget_min")]


def test_one_gig_with_its_questions(client, make_member, make_gig, bearer):
    poster, asker = make_member("poster"), make_member("asker")
    gig = make_gig(poster=poster, kind="referral", title="Port a shop")
    question = ask_question(gig, actor=asker, body="Is there a staging server?")
    answer_question(question, actor=poster, answer="Yes, a small one.")
    ask_question(gig, actor=asker, body="Which database?")
    body = _get(client, bearer(asker), f"/api/v1/gigs/{gig.id}").get_json()
    assert body["title"] == "Port a shop" and body["state"] == "open"
    assert body["description"].startswith("A **small** piece")
    assert [(q["body"], q["answer"]) for q in body["questions"]] == [
        ("Is there a staging server?", "Yes, a small one."), ("Which database?", None)]
    assert body["questions"][0]["asker"]["username"] == "asker"
    assert body["client_details"] is None  # the referrer's client: not for askers
    mine = _get(client, bearer(poster), f"/api/v1/gigs/{gig.id}").get_json()
    assert mine["client_details"]["client_name"] == "Acme Ltd"


def test_private_and_missing_gigs_answer_as_the_page_does(client, login, make_member,
                                                          make_gig, bearer):
    poster, other = make_member("poster"), make_member("other")
    draft = make_gig(poster=poster, title="Not yet", publish=False)
    cancelled = make_gig(poster=poster, title="Called off")
    cancel_gig(cancelled, actor=poster)
    headers = bearer(other)
    login(other)
    for gig_id in (draft.id, 999_999):
        assert client.get(f"/gigs/{gig_id}").status_code == 404
        response = _get(client, headers, f"/api/v1/gigs/{gig_id}", 404)
        assert response.get_json()["type"] == "urn:offload:problem:not-found"
    assert client.get(f"/gigs/{cancelled.id}").status_code == 200
    body = _get(client, headers, f"/api/v1/gigs/{cancelled.id}").get_json()
    assert body["state"] == "cancelled"
    assert _get(client, bearer(poster), f"/api/v1/gigs/{draft.id}").get_json()[
        "state"] == "draft"


def test_notifications_are_listed_and_marked_read(client, make_member, bearer):
    ada, bob = make_member("ada"), make_member("bob")
    for n in range(3):
        notify(ada, "invite_accepted", title=f"Note {n}", link="/dashboard")
    notify(bob, "invite_accepted", title="Bob's", link="/dashboard")
    headers = bearer(ada)
    first = _get(client, headers, "/api/v1/notifications", limit=2).get_json()
    assert [n["title"] for n in first["items"]] == ["Note 2", "Note 1"]
    assert first["items"][0]["html_url"] == "https://offload.example/dashboard"
    assert first["items"][0]["read_at"] is None
    rest = _get(client, headers, first["next"].split("offload.example")[1]).get_json()
    assert [n["title"] for n in rest["items"]] == ["Note 0"] and rest["next"] is None

    response = client.post("/api/v1/notifications/read", headers=headers)
    assert response.status_code == 200 and response.get_json() == {"marked": 3}
    assert _get(client, headers, "/api/v1/me").get_json()["unread_notifications"] == 0
    assert _get(client, bearer(bob), "/api/v1/me").get_json()["unread_notifications"] == 1


def test_routing_errors_are_problems_too(client, make_member, bearer):
    headers = bearer(make_member("ada"))
    response = client.get("/api/v1/nothing-here", headers=headers)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    response = client.delete("/api/v1/me", headers=headers)
    assert response.status_code == 405
    assert response.get_json()["type"] == "urn:offload:problem:method-not-allowed"
    assert "GET" in response.headers["Allow"]
    # the pages keep their HTML error pages
    assert client.get("/no-such-page").mimetype == "text/html"


def test_a_service_refusal_is_a_problem_typed_by_its_class(app):
    from offload.api.problems import from_offload_error
    from offload.core.errors import Conflict, InvalidField, NotAllowed
    from offload.ledger.services import InsufficientFunds

    with app.test_request_context():
        cases = [(NotAllowed("Only the poster."), 403, "not-allowed", None),
                 (Conflict("Taken."), 409, "conflict", None),
                 (InvalidField("price", "Too low."), 422, "invalid-field",
                  [{"in": "body", "field": "price", "message": "Too low."}]),
                 (InsufficientFunds("Add funds first."), 422, "insufficient-funds", None)]
        for error, status, slug, errors in cases:
            response = from_offload_error(error)
            body = response.get_json()
            assert response.status_code == status and body["status"] == status
            assert body["type"] == f"urn:offload:problem:{slug}"
            assert body["detail"] == str(error) and body["title"]
            assert body.get("errors") == errors


def test_an_unexpected_error_is_a_500_problem_without_details(app, make_member, bearer,
                                                              monkeypatch):
    from offload.api.endpoints import gigs

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(gigs, "gig_page", broken)
    client = app.test_client()
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/api/v1/gigs/1", headers=bearer(make_member("ada")))
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500 and response.mimetype == "application/problem+json"
    assert "secret" not in response.get_data(as_text=True)


@pytest.fixture
def limited_app(app, tmp_path):
    return make_app(tmp_path, API_RATE_LIMIT="2 per minute",
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


def test_requests_are_limited_per_token_with_ratelimit_headers(limited_app, make_member,
                                                               bearer):
    client = limited_app.test_client()
    ada = make_member("ada")
    first, second = bearer(ada), bearer(ada)
    answers = [client.get("/api/v1/me", headers=first) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Limit"] == "2"
    assert answers[0].headers["RateLimit-Remaining"] == "1"
    assert answers[1].headers["RateLimit-Remaining"] == "0"
    assert 0 < int(answers[0].headers["RateLimit-Reset"]) <= 60
    assert answers[0].headers["RateLimit-Policy"] == "2;w=60"
    refused = answers[2]
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["type"] == "urn:offload:problem:rate-limited"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # another token of the same member has its own count
    assert client.get("/api/v1/me", headers=second).status_code == 200


def test_numbers_past_the_database_are_a_404_or_a_first_page(client, make_member, bearer):
    headers = bearer(make_member("ada"))
    response = client.get(f"/api/v1/gigs/{2**63}", headers=headers)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    for cursor in (f"n{2**63}.1", f"n1.{2**63}", "b99999999999999999999.1", "garbage"):
        for path in ("/api/v1/gigs", "/api/v1/notifications"):
            assert client.get(path, headers=headers,
                              query_string={"cursor": cursor}).status_code == 200, cursor


def test_reads_cost_a_fixed_number_of_statements(client, make_member, make_gig, bearer,
                                                 count_queries):
    poster, headers = make_member("poster"), bearer(make_member("reader"))
    for n in range(3):
        make_gig(poster=poster, title=f"Gig {n}")
    client.get("/api/v1/gigs", headers=headers)  # the token's last use is written once
    with count_queries() as few:
        client.get("/api/v1/gigs", headers=headers)
    for n in range(10):
        make_gig(poster=poster, title=f"More {n}")
    with count_queries() as many:
        client.get("/api/v1/gigs", headers=headers)
    assert len(few) == len(many) <= 6
    assert db.session.query(Gig).count() == 13
