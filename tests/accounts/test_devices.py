"""Signed-in devices: the sessions page, logging out one device or every other one, the
new-device mail, and the loader refusing an ended session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from offload.accounts.devices import describe_device, start_member_session
from offload.accounts.models import MemberSession
from offload.core.db import db, utcnow
from tests.support.factories import PASSWORD

FIREFOX_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 "
                   "Firefox/128.0")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/126.0.0.0 Mobile Safari/537.36")
EDGE_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0")


@pytest.mark.parametrize(("agent", "expected"), [
    (FIREFOX_WINDOWS, ("Firefox", "Windows")),
    (SAFARI_IPHONE, ("Safari", "iOS")),
    (CHROME_ANDROID, ("Chrome", "Android")),
    (EDGE_MAC, ("Edge", "macOS")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/126.0.0.0 Safari/537.36", ("Chrome", "Linux")),
    ("", ("Unknown browser", "unknown system")),
    ("curl/8.5.0", ("Unknown browser", "unknown system")),
])
def test_the_browser_and_system_are_read_from_the_user_agent(agent, expected):
    assert describe_device(agent) == expected


@pytest.fixture
def device(app):
    """``device(user, agent, address)``: a new test client (a browser) logged in as
    ``user`` through the form, sending that User-Agent from that address."""

    def log_in(user, agent: str = FIREFOX_WINDOWS, address: str = "198.51.100.7",
               remember: bool = False):
        browser = app.test_client()
        browser.environ_base.update(HTTP_USER_AGENT=agent, REMOTE_ADDR=address)
        response = browser.post("/login", data={"login": user.username, "password": PASSWORD,
                                                "remember": "y" if remember else ""})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return browser

    return log_in


def _logged_in(browser) -> bool:
    return browser.get("/settings").status_code == 200


def _rows(member_id: int) -> list[MemberSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(MemberSession).where(
        MemberSession.user_id == member_id).order_by(MemberSession.id)))


def test_the_page_lists_each_signed_in_device(make_member, device):
    alice = make_member("alice")
    laptop = device(alice, FIREFOX_WINDOWS, "198.51.100.7")
    device(alice, SAFARI_IPHONE, "203.0.113.20")
    page = laptop.get("/settings/sessions").get_data(as_text=True)
    assert "Firefox on Windows" in page and "198.51.100.7" in page
    assert "Safari on iOS" in page and "203.0.113.20" in page
    # the current device first, marked, and without a button to log itself out
    assert page.index("Firefox on Windows") < page.index("This device") < page.index(
        "Safari on iOS")
    assert page.count(">Log out this one</button>") == 1
    assert "Log out everywhere else" in page
    assert 'href="/settings/sessions"' in laptop.get("/settings").get_data(as_text=True)


def test_logging_out_another_device_ends_it(make_member, device):
    alice = make_member("alice")
    laptop = device(alice, FIREFOX_WINDOWS)
    phone = device(alice, SAFARI_IPHONE)
    phone_row = _rows(alice.id)[1]
    response = laptop.post(f"/settings/sessions/{phone_row.id}/end")
    assert response.status_code == 302 and response.location.endswith("/settings/sessions")
    assert _rows(alice.id)[1].ended_at is not None
    assert not _logged_in(phone)  # its next request is logged out
    assert _logged_in(laptop)
    assert "Safari on iOS" not in laptop.get("/settings/sessions").get_data(as_text=True)


def test_an_ended_device_stays_out_with_its_remember_cookie(app, make_member, device):
    alice = make_member("alice")
    laptop = device(alice, FIREFOX_WINDOWS)
    phone = device(alice, SAFARI_IPHONE, remember=True)
    cookie = phone.get_cookie(app.config["REMEMBER_COOKIE_NAME"])
    assert cookie is not None and cookie.value.count(":") >= 2  # id:token:device secret
    phone.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert _logged_in(phone)  # the remember cookie logs the device back in while it lives
    laptop.post(f"/settings/sessions/{_rows(alice.id)[1].id}/end")
    phone.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert not _logged_in(phone)


def test_log_out_everywhere_else_keeps_this_device(make_member, device):
    alice = make_member("alice")
    laptop = device(alice, FIREFOX_WINDOWS)
    others = [device(alice, SAFARI_IPHONE), device(alice, CHROME_ANDROID)]
    response = laptop.post("/settings/sessions/end-others", follow_redirects=True)
    assert "Logged out everywhere else (2 devices)." in response.get_data(as_text=True)
    assert _logged_in(laptop)
    assert not any(_logged_in(browser) for browser in others)
    assert [row.ended_at is None for row in _rows(alice.id)] == [True, False, False]


def test_the_current_device_is_not_ended_by_its_button(make_member, device):
    alice = make_member("alice")
    laptop = device(alice)
    own = _rows(alice.id)[0]
    response = laptop.post(f"/settings/sessions/{own.id}/end", follow_redirects=True)
    assert "log out instead" in response.get_data(as_text=True)
    assert _rows(alice.id)[0].ended_at is None and _logged_in(laptop)


def test_members_cannot_end_each_others_sessions(make_member, device):
    alice, bob = make_member("alice"), make_member("bob")
    alices = device(alice)
    bobs = device(bob, CHROME_ANDROID)
    alice_row = _rows(alice.id)[0]
    assert bobs.post(f"/settings/sessions/{alice_row.id}/end").status_code == 404
    assert _rows(alice.id)[0].ended_at is None and _logged_in(alices)
    bobs.post("/settings/sessions/end-others")
    assert _logged_in(alices)
    assert "Firefox on Windows" not in bobs.get("/settings/sessions").get_data(as_text=True)
    # an ended session's id answers 404 too
    alice2 = device(alice, SAFARI_IPHONE)
    alices.post(f"/settings/sessions/{_rows(alice.id)[1].id}/end")
    assert alices.post(f"/settings/sessions/{_rows(alice.id)[1].id}/end").status_code == 404
    assert not _logged_in(alice2)


def test_a_new_device_is_mailed_about_once(make_member, device, outbox):
    alice = make_member("alice")
    device(alice, FIREFOX_WINDOWS)  # the first log-in: nothing to compare it with
    device(alice, FIREFOX_WINDOWS, "192.0.2.50")  # the same browser elsewhere: known
    assert [m for m in outbox.to(alice.email) if m.template == "new_sign_in"] == []
    device(alice, SAFARI_IPHONE, "203.0.113.20")
    device(alice, SAFARI_IPHONE, "203.0.113.21")
    mails = [m for m in outbox.to(alice.email) if m.template == "new_sign_in"]
    assert len(mails) == 1
    mail = mails[0]
    assert mail.subject == "New sign-in to your Offload account"
    assert "Safari on iOS" in mail.text_body and "203.0.113.20" in mail.text_body
    assert f"Time: {utcnow():%-d %b %Y}" in mail.text_body and " UTC" in mail.text_body
    assert any(link.endswith("/settings/sessions") for link in outbox.links(mail))


def test_last_seen_is_written_at_most_every_few_minutes(app, make_member, device,
                                                         count_queries):
    alice = make_member("alice")
    laptop = device(alice)
    laptop.get("/settings")
    seen = _rows(alice.id)[0].last_seen_at
    with count_queries() as statements:
        laptop.get("/settings")
    assert not any(s.lstrip().upper().startswith("UPDATE MEMBER_SESSIONS") for s in statements)
    assert _rows(alice.id)[0].last_seen_at == seen
    old = utcnow() - timedelta(seconds=app.config["SESSION_SEEN_EVERY_SECONDS"] + 5)
    db.session.execute(update(MemberSession).values(last_seen_at=old))
    db.session.commit()
    laptop.get("/settings")
    assert _rows(alice.id)[0].last_seen_at > old + timedelta(seconds=4)


def test_a_password_change_keeps_this_device_and_ends_the_others(make_member, device):
    alice = make_member("alice")
    laptop = device(alice)
    phone = device(alice, SAFARI_IPHONE)
    response = laptop.post("/settings/password", data={
        "current_password": PASSWORD, "new_password": "a brand new passphrase",
        "confirm": "a brand new passphrase"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert _logged_in(laptop) and not _logged_in(phone)
    assert [row.ended_at is None for row in _rows(alice.id)] == [True, False]


def test_logging_out_ends_this_device_row(make_member, device):
    alice = make_member("alice")
    laptop = device(alice)
    laptop.post("/logout")
    assert _rows(alice.id)[0].ended_at is not None


def test_a_session_without_a_device_secret_is_not_let_in(make_member, client):
    alice = make_member("alice")
    start_member_session(alice, user_agent="", address="")
    with client.session_transaction() as session:
        session["_user_id"] = f"{alice.id}:{alice.session_token}"
    assert client.get("/settings").status_code == 302
