"""The notification pages through the test client, logged in through the real form."""

from __future__ import annotations

import re

import pytest

from offload.core.db import db
from offload.notifications.models import Notification
from offload.notifications.queries import preferences_for, unread_count
from offload.notifications.services import notify


def older_link(html: str) -> str:
    return re.search(r'href="(/notifications\?before=[^"]+)"', html).group(1)


@pytest.mark.parametrize("method, path", [
    ("get", "/notifications"),
    ("post", "/notifications/1/read"),
    ("post", "/notifications/read-all"),
    ("get", "/notifications/preferences"),
    ("post", "/notifications/preferences"),
])
def test_anonymous_visitors_are_sent_to_log_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_list_is_newest_first_with_unread_marked_and_pages(app, client, make_member, login):
    ada, bob = make_member(), make_member()
    size = app.config["PAGE_SIZE"]
    for n in range(size + 3):
        notify(ada, "new_message", title=f"Note {n:02d}")
    notify(bob, "new_message", title="Not for Ada")
    login(ada)

    html = client.get("/notifications").get_data(as_text=True)
    titles = re.findall(r"Note \d\d", html)
    assert titles == [f"Note {n:02d}" for n in range(size + 2, 2, -1)]
    assert "Not for Ada" not in html
    assert html.count('class="unread"') == size
    assert f'{size + 3}<span class="visually-hidden"> unread</span>' in html  # the nav badge

    html = client.get(older_link(html)).get_data(as_text=True)
    assert re.findall(r"Note \d\d", html) == ["Note 02", "Note 01", "Note 00"]
    assert "Older" not in html and "Newest" in html


def test_empty_list_says_so(client, make_member, login):
    login(make_member())
    html = client.get("/notifications").get_data(as_text=True)
    assert "Nothing yet" in html and 'class="badge"' not in html


def test_reading_a_notification_marks_it_and_follows_its_link(client, make_member, login):
    ada = make_member()
    linked = notify(ada, "invite_accepted", title="Bob joined", link="/members/bob")
    plain = notify(ada, "new_message", title="Hello")
    login(ada)

    response = client.post(f"/notifications/{linked.id}/read")
    assert response.status_code == 302 and response.headers["Location"] == "/members/bob"
    response = client.post(f"/notifications/{plain.id}/read")
    assert response.headers["Location"] == "/notifications"
    assert unread_count(ada.id) == 0
    assert 'class="badge"' not in client.get("/notifications").get_data(as_text=True)


def test_someone_elses_notification_is_not_found(client, make_member, login):
    ada, bob = make_member(), make_member()
    notification = notify(ada, "new_message", title="Private")
    login(bob)
    assert client.post(f"/notifications/{notification.id}/read").status_code == 404
    assert client.post("/notifications/999999/read").status_code == 404
    assert db.session.get(Notification, notification.id).read_at is None


def test_read_all(client, make_member, login):
    ada, bob = make_member(), make_member()
    for _ in range(3):
        notify(ada, "new_message", title="Hi")
    notify(bob, "new_message", title="Hi")
    login(ada)
    assert "Mark all as read" in client.get("/notifications").get_data(as_text=True)
    response = client.post("/notifications/read-all", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "All notifications marked as read." in html and 'class="unread"' not in html
    assert "Mark all as read" not in html
    assert (unread_count(ada.id), unread_count(bob.id)) == (0, 1)


def checked(html: str, kind: str) -> str:
    tag = next(t for t in re.findall(rf'<input[^>]*name="{kind}"[^>]*>', html) if "checked" in t)
    return re.search(r'value="([^"]+)"', tag).group(1)


def test_preferences_show_defaults_then_save(client, make_member, login):
    ada = make_member()
    login(ada)
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Someone you invited joined" in html
    assert checked(html, "invite_accepted") == "email" and checked(html, "new_message") == "in_app"
    # every radio is named by its row and column
    assert 'aria-labelledby="invite_accepted-label channel-off"' in html

    choices = {**preferences_for(ada.id), "invite_accepted": "off", "new_message": "email"}
    response = client.post("/notifications/preferences", data=choices)
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your notification preferences are saved." in html
    assert checked(html, "invite_accepted") == "off" and checked(html, "new_message") == "email"
    assert preferences_for(ada.id)["invite_accepted"] == "off"


def test_preferences_refuse_values_that_are_not_offered(client, make_member, login):
    ada = make_member()
    login(ada)
    choices = {**preferences_for(ada.id), "award": "sms"}
    response = client.post("/notifications/preferences", data=choices)
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert preferences_for(ada.id)["award"] == "email"


def test_posts_need_the_csrf_token(app, client, make_member, login, monkeypatch):
    ada = make_member()
    notify(ada, "new_message", title="Hi")
    login(ada)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert client.post("/notifications/read-all").status_code == 400
    assert unread_count(ada.id) == 1

    html = client.get("/notifications/preferences").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    choices = {**preferences_for(ada.id), "award": "off", "csrf_token": token}
    assert client.post("/notifications/preferences", data=choices).status_code == 302
    assert preferences_for(ada.id)["award"] == "off"


def test_preferences_offer_no_off_for_notices_a_member_is_held_to_account_by(
        client, make_member, login):
    ada = make_member()
    login(ada)
    html = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'aria-labelledby="case_opened-label channel-in_app"' in html
    assert 'aria-labelledby="case_opened-label channel-off"' not in html
    assert "can't be turned off" in html
    choices = {**preferences_for(ada.id), "case_opened": "off", "award": "off"}
    response = client.post("/notifications/preferences", data=choices)
    assert response.status_code == 422
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert preferences_for(ada.id)["award"] == "email"  # nothing saved
