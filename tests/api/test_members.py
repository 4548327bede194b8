"""Members and reviews over the API: the directory with its filters, a profile with its
ratings, a member's published reviews, and reviewing a completed project as its page's
form does (double-blind: hidden until both are in)."""

from __future__ import annotations

from offload.core.db import db
from offload.profiles.services import save_profile
from offload.reviews.models import Review
from offload.reviews.services import reply_to_review
from tests.support.api import call, refused


def test_the_directory_lists_members_as_its_page_does(client, make_member, bearer):
    ada = make_member("ada", display_name="Ada Lovelace")
    save_profile(actor=ada, display_name="Ada Lovelace", headline="Analytical engines",
                 bio="", location="London", skill_names=["Python"])
    make_member("bob")
    make_member("newbie", confirmed=False)
    headers = bearer(ada)
    body = call(client, "GET", "/members", headers).get_json()
    assert sorted(m["username"] for m in body["items"]) == ["ada", "bob"]
    (found,) = call(client, "GET", "/members?skill=python", headers).get_json()["items"]
    assert found["name"] == "Ada Lovelace" and found["headline"] == "Analytical engines"
    assert found["skills"] == [{"slug": "python", "name": "Python"}]
    assert found["rating"] == {"value": None, "reviews": 0} and found["available"] is True
    assert found["html_url"] == "https://offload.example/members/ada"
    assert call(client, "GET", "/members?type=organization", headers).get_json()["items"] == []
    assert [m["username"] for m in call(client, "GET", "/members?q=lovelace",
                                        headers).get_json()["items"]] == ["ada"]
    first = call(client, "GET", "/members?limit=1", headers).get_json()
    assert len(first["items"]) == 1 and "cursor=" in first["next"]
    for bad in ("rating=4.3", "rating=9", "availability=asleep"):
        body = refused(client, "GET", f"/members?{bad}", headers, 422, "validation-failed")
        assert body["errors"][0]["field"] == bad.split("=")[0]


def test_a_review_per_side_then_both_are_published(client, make_member, completed,
                                                   referrer, performer, bearer):
    project = completed()
    url = f"/projects/{project.id}/reviews"
    mine = call(client, "POST", url, bearer(performer, "projects"), 201,
                json={"stars": 5, "body": "A clear brief."})
    assert mine.get_json()["published_at"] is None
    assert mine.get_json()["author"]["username"] == "performer"
    assert mine.headers["Location"] == "https://offload.example/api/v1/members/referrer/reviews"
    # hidden until the other side's is in
    assert call(client, "GET", "/members/referrer/reviews",
                bearer(performer)).get_json()["items"] == []
    theirs = call(client, "POST", url, bearer(referrer, "projects"), 201, json={
        "stars": 4, "body": "Good work.",
        "skill_stars": [{"skill": "python", "stars": 5}, {"skill": "sql", "stars": 3}]})
    assert theirs.get_json()["published_at"] is not None
    reply_to_review(db.session.get(Review, theirs.get_json()["id"]), actor=performer,
                    body="Thank you!")
    (review,) = call(client, "GET", "/members/performer/reviews",
                     bearer(make_member("reader"))).get_json()["items"]
    assert review["stars"] == 4 and review["author"]["name"] == "Rita Referrer"
    assert review["reply"]["body"] == "Thank you!"
    profile = call(client, "GET", "/members/performer", bearer(referrer)).get_json()
    assert profile["rating"]["reviews"] == 1
    assert [(r["skill"]["slug"], r["rating"]["reviews"]) for r in profile["skill_ratings"]] \
        == [("python", 1), ("sql", 1)]
    assert profile["invited_by"] is None and profile["education"] == []


def test_reviews_are_refused_as_the_page_refuses(client, make_member, completed,
                                                 start_project, referrer, performer,
                                                 bearer):
    project = completed()
    url = f"/projects/{project.id}/reviews"
    refused(client, "POST", url, bearer(make_member("outsider"), "projects"), 404,
            "not-found", json={})
    refused(client, "POST", url, bearer(performer, "read"), 403, "forbidden",
            json={"stars": 5, "body": "Hi"})
    body = refused(client, "POST", url, bearer(referrer, "projects"), 422, "invalid-field",
                   json={"stars": 4, "body": "Good.",
                         "skill_stars": [{"skill": "cobol", "stars": 5}]})
    assert body["errors"][0]["field"] == "skills"
    refused(client, "POST", url, bearer(performer, "projects"), 422, "validation-failed",
            json={"stars": 6, "body": "Too many"})
    call(client, "POST", url, bearer(performer, "projects"), 201,
         json={"stars": 5, "body": "Fine."})
    refused(client, "POST", url, bearer(performer, "projects"), 409, "conflict",
            json={"stars": 5, "body": "Again."})
    running = start_project()
    refused(client, "POST", f"/projects/{running.id}/reviews", bearer(performer, "projects"),
            409, "conflict", json={"stars": 5, "body": "Too early."})


def test_unknown_members_are_a_404(client, make_member, bearer):
    headers = bearer(make_member("ada"))
    refused(client, "GET", "/members/nobody", headers, 404, "not-found")
    refused(client, "GET", "/members/nobody/reviews", headers, 404, "not-found")
