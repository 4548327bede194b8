"""Members over the API: the directory with its filters, a profile."""

from __future__ import annotations

from offload.profiles.services import save_profile
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
    first = call(client, "GET", "/members?limit=1", headers).get_json()
    assert len(first["items"]) == 1 and "cursor=" in first["next"]
    for bad in ("rating=4.3", "rating=9", "availability=asleep"):
        body = refused(client, "GET", f"/members?{bad}", headers, 422, "validation-failed")
        assert body["errors"][0]["field"] == bad.split("=")[0]


def test_unknown_members_are_a_404(client, make_member, bearer):
    headers = bearer(make_member("ada"))
    refused(client, "GET", "/members/nobody", headers, 404, "not-found")
