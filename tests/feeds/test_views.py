"""The feeds over HTTP: valid Atom, what the pages show the member, 404 for any token
that isn't live, no cookie, conditional GET; and the Settings buttons."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from offload.accounts.models import User
from offload.alerts.services import save_alert
from offload.core.db import atomic, db, utcnow
from offload.feeds.models import FeedToken
from offload.feeds.services import revoke_feed_link
from offload.gigs.services import cancel_gig
from offload.notifications.services import notify
from tests.support.app import make_app
from tests.support.feeds import feed_token_of, parsed_atom

GIG_LINK = re.compile(r'class="gig-title" href="/gigs/(\d+)"')


def _gig_ids(feed) -> list[int]:
    return [int(entry.link.rsplit("/", 1)[1]) for entry in feed.entries]


def test_the_board_feed_is_the_board_newest_first(client, login, make_member, make_gig):
    ada, bob = make_member("ada"), make_member("bob")
    shown = [make_gig(bob, title=f"Python job {n}", kind="task") for n in range(3)]
    make_gig(ada, title="Python job of Ada's", kind="task")
    make_gig(bob, title="Python draft", kind="task", publish=False)
    cancel_gig(make_gig(bob, title="Python cancelled", kind="task"), actor=bob)
    make_gig(bob, title="Python referral")  # another kind
    make_gig(bob, title="Rust job", kind="task", skill_names=["Rust"])  # other words
    token = feed_token_of(ada)
    login(ada)

    board = client.get("/gigs?q=python&kind=task&sort=newest").get_data(as_text=True)
    feed = parsed_atom(client.get(f"/feeds/{token}/gigs.atom?q=python&kind=task"))
    assert _gig_ids(feed) == [int(i) for i in GIG_LINK.findall(board)]
    assert len(feed.entries) == 4 and shown[-1].id == _gig_ids(feed)[1]
    titles = {entry.title for entry in feed.entries}
    assert not titles & {"Python draft", "Python cancelled", "Python referral", "Rust job"}
    entry = feed.entries[1]
    assert entry.link == f"https://offload.example/gigs/{shown[-1].id}"
    assert entry.author == "Bob" and entry.id == f"tag:offload.example,2026:gigs/{shown[-1].id}"
    assert entry.summary.startswith("Task · ") and "Python" in entry.summary
    assert feed.feed.title == "Gigs: python · tasks"
    assert feed.feed.updated_parsed == feed.entries[0].updated_parsed


def test_the_board_links_the_feed_of_its_search(client, login, make_member):
    ada = make_member("ada")
    login(ada)
    page = client.get("/gigs?q=python").get_data(as_text=True)
    assert "Atom feed of this search" not in page and "Make a feed link" in page
    token = feed_token_of(ada)
    page = client.get("/gigs?q=python&sort=budget").get_data(as_text=True)
    url = f"https://offload.example/feeds/{token}/gigs.atom?q=python"
    assert f'<link rel="alternate" type="application/atom+xml" title="Atom feed of this ' \
           f'search" href="{url}">' in page
    assert f'<a href="{url}" type="application/atom+xml">Atom feed of this search</a>' in page


def test_a_gig_title_is_escaped(client, make_member, make_gig):
    ada = make_member("ada")
    title = "<script>alert(1)</script> Fish & Chips “site”"
    make_gig(make_member("bob"), title=title)
    response = client.get(f"/feeds/{feed_token_of(ada)}/gigs.atom")
    body = response.get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Fish &amp; Chips" in body
    assert parsed_atom(response).entries[0].title == title


def test_an_alert_feed_has_what_the_alert_matches(client, login, make_member, make_gig):
    ada, bob = make_member("ada"), make_member("bob")
    alert = save_alert(actor=ada, query_args={"q": "django"}, frequency="daily",
                       name="Django & co")
    other = save_alert(actor=bob, query_args={"q": "django"}, frequency="daily")
    match = make_gig(bob, title="Django shop")
    make_gig(ada, title="Django of my own")  # an alert leaves out the member's own gigs
    make_gig(bob, title="Flask shop")
    token = feed_token_of(ada)

    feed = parsed_atom(client.get(f"/feeds/{token}/alerts/{alert.id}.atom"))
    assert _gig_ids(feed) == [match.id] and feed.feed.title == "Alert: Django & co"
    assert client.get(f"/feeds/{token}/alerts/{other.id}.atom").status_code == 404
    assert client.get(f"/feeds/{token}/alerts/999999.atom").status_code == 404

    login(ada)
    page = client.get("/alerts").get_data(as_text=True)
    assert f'href="https://offload.example/feeds/{token}/alerts/{alert.id}.atom"' in page


def test_the_notifications_feed_is_the_notifications_page(client, login, make_member):
    ada, bob = make_member("ada"), make_member("bob")
    with atomic():
        for n in range(3):
            notify(ada, "new_message", title=f"Note {n}")
        notify(ada, "invite_accepted", title="Bob joined", link="/members/bob")
        notify(bob, "new_message", title="Not for Ada")
    token = feed_token_of(ada)
    login(ada)

    page = client.get("/notifications").get_data(as_text=True)
    feed = parsed_atom(client.get(f"/feeds/{token}/notifications.atom"))
    titles = [entry.title for entry in feed.entries]
    assert titles == ["Bob joined", "Note 2", "Note 1", "Note 0"]
    assert re.findall(r"Bob joined|Note \d|Not for Ada", page) == titles
    assert feed.entries[0].link == "https://offload.example/members/bob"
    assert feed.entries[1].link == "https://offload.example/notifications"
    assert f'href="https://offload.example/feeds/{token}/notifications.atom"' in page


def test_an_empty_feed_is_valid_and_dated_by_its_link(client, make_member):
    ada = make_member("ada")
    token = feed_token_of(ada)
    feed = parsed_atom(client.get(f"/feeds/{token}/notifications.atom"))
    made = db.session.scalar(select(FeedToken.created_at))
    assert feed.entries == [] and feed.feed.updated_parsed[:6] == made.timetuple()[:6]


def _all_feeds(token: str) -> list[str]:
    return [f"/feeds/{token}/gigs.atom", f"/feeds/{token}/notifications.atom"]


@pytest.mark.parametrize("kind", [{}, {"confirmed": False}, {"admin": True}])
def test_a_live_token_opens_its_members_feeds(client, make_member, kind):
    """The matrix's feed cells use a sample token (404 for all): this is the live one."""
    member = make_member(**kind)
    alert = save_alert(actor=make_member(), query_args={"q": "x"}, frequency="daily")
    token = feed_token_of(member)
    assert [client.get(url).status_code for url in _all_feeds(token)] == [200, 200]
    # an admin's token is no key to another member's alert either
    assert client.get(f"/feeds/{token}/alerts/{alert.id}.atom").status_code == 404


def test_a_revoked_or_replaced_or_unknown_token_is_a_404(client, make_member):
    ada = make_member("ada")
    old = feed_token_of(ada)
    new = feed_token_of(ada)
    for url in _all_feeds(old) + _all_feeds("offload_feed_nope") + _all_feeds("x"):
        assert client.get(url).status_code == 404, url
    assert all(client.get(url).status_code == 200 for url in _all_feeds(new))
    revoke_feed_link(actor=ada)
    assert [client.get(url).status_code for url in _all_feeds(new)] == [404, 404]


def test_a_suspended_members_feeds_are_404(client, make_member):
    ada = make_member("ada")
    token = feed_token_of(ada)
    with atomic():
        db.session.execute(update(User).where(User.id == ada.id).values(suspended_at=utcnow()))
    assert [client.get(url).status_code for url in _all_feeds(token)] == [404, 404]


def test_the_token_opens_feeds_only(client, make_member):
    token = feed_token_of(make_member("ada"))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401
    response = client.get("/gigs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 302 and response.location.startswith("/login")


def test_a_feed_sets_no_cookie_and_answers_a_conditional_get(client, make_member, make_gig):
    token = feed_token_of(make_member("ada"))
    make_gig(make_member("bob"))
    url = f"/feeds/{token}/gigs.atom"
    first = client.get(url)
    assert "Set-Cookie" not in first.headers
    assert first.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert first.headers["X-Content-Type-Options"] == "nosniff"
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    make_gig(make_member("cy"))  # a new entry: a new body
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200


def test_a_feed_opened_in_a_logged_in_browser_sets_no_cookie(client, login, make_member):
    ada = make_member("ada")
    token = feed_token_of(ada)
    login(ada)
    for url in [*_all_feeds(token), f"/feeds/{token}/alerts/999.atom"]:
        assert "Set-Cookie" not in client.get(url).headers, url


def test_feeds_are_rate_limited_per_address(app, tmp_path, make_member):
    limited = make_app(tmp_path, FEED_LIMIT="2 per minute",
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    token = feed_token_of(make_member("ada"))
    client = limited.test_client()
    codes = [client.get(f"/feeds/{token}/notifications.atom").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


# --- the Settings page's buttons --------------------------------------------------------

def _settings_key(client) -> str:
    page = client.get("/settings").get_data(as_text=True)
    return re.search(r'name="feed-once_key" type="hidden" value="([^"]+)"', page).group(1)


def test_settings_makes_a_link_once_per_form(client, login, make_member):
    ada = make_member("ada")
    login(ada)
    assert "You have no feed link." in client.get("/settings").get_data(as_text=True)
    key = _settings_key(client)
    response = client.post("/feeds/link", data={"feed-once_key": key})
    assert response.status_code == 302 and response.location == "/settings#feeds"
    page = client.get("/settings").get_data(as_text=True)
    token = re.search(r"/feeds/(offload_feed_[\w-]+)/notifications\.atom", page).group(1)
    assert "Made your feed link." in page

    # the same form again (a double click, the back button): nothing more is made
    client.post("/feeds/link", data={"feed-once_key": key, "feed-confirm": "y"})
    page = client.get("/settings").get_data(as_text=True)
    assert "That feed link was already made" in page
    assert f"/feeds/{token}/notifications.atom" in page
    assert client.get(f"/feeds/{token}/notifications.atom").status_code == 200


def test_settings_asks_before_replacing_or_revoking(client, login, make_member):
    ada = make_member("ada")
    token = feed_token_of(ada)
    login(ada)
    client.post("/feeds/link", data={"feed-once_key": _settings_key(client)})
    client.post("/feeds/link/revoke", data={})
    page = client.get("/settings").get_data(as_text=True)
    assert page.count("Tick the box to confirm.") == 2  # both refused
    assert f"/feeds/{token}/gigs.atom" in page  # neither happened

    client.post("/feeds/link", data={"feed-once_key": _settings_key(client),
                                     "feed-confirm": "y"})
    page = client.get("/settings").get_data(as_text=True)
    assert "Made a new feed link: the old links no longer work." in page
    assert client.get(f"/feeds/{token}/gigs.atom").status_code == 404
    new = re.search(r"/feeds/(offload_feed_[\w-]+)/gigs\.atom", page).group(1)
    assert client.post("/feeds/link/revoke", data={"feed-revoke-confirm": "y"}
                       ).status_code == 302
    assert client.get(f"/feeds/{new}/gigs.atom").status_code == 404
    assert "Revoked your feed link" in client.get("/settings").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/feeds/link", "/feeds/link/revoke"])
def test_the_buttons_need_a_log_in(client, path):
    response = client.post(path)
    assert response.status_code == 302 and response.location.startswith("/login")


def test_settings_shows_no_link_made_under_another_secret_key(app, client, login,
                                                                 make_member):
    ada = make_member("ada")
    feed_token_of(ada)
    login(ada)
    app.config["SECRET_KEY"] = "another-secret"
    try:
        login(ada)
        page = client.get("/settings").get_data(as_text=True)
        assert "You have no feed link." in page and "offload_feed_" not in page
    finally:
        app.config["SECRET_KEY"] = "test-secret"
    assert timedelta(0) <= utcnow() - db.session.scalar(select(FeedToken.created_at))
