import re

import pytest
from sqlalchemy import func, select

from offload.accounts.models import MemberSession, User
from offload.accounts.services import end_all_sessions
from offload.core.db import db
from offload.invites.models import Invite, InviteState
from offload.invites.services import revoke_invite, send_invite
from tests.support.factories import PASSWORD

SIGNUP = {"username": "newbie", "display_name": "New Bie", "email": "new@example.com",
          "password": PASSWORD, "account_type": "individual", "organization_name": ""}


def test_send_invite_from_the_page(client, make_member, login, outbox):
    login(make_member("alice"))
    page = client.get("/invites")
    assert page.status_code == 200 and "3</strong> invites left" in page.get_data(as_text=True)
    r = client.post("/invites", data={"email": "friend@example.com",
                                      "vouch_note": "We shipped two projects together"})
    assert r.status_code == 302
    assert outbox.to("friend@example.com")
    listing = client.get("/invites").get_data(as_text=True)
    assert "friend@example.com" in listing and "pending" in listing


def test_bad_invite_input_keeps_what_was_typed(client, make_member, login):
    login(make_member("alice"))
    r = client.post("/invites", data={"email": "not-an-address", "vouch_note": "short"})
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'value="not-an-address"' in html and "aria-invalid" in html
    assert db.session.scalar(select(Invite)) is None


def test_unconfirmed_member_is_told_to_confirm(client, make_member, login):
    login(make_member("u", confirmed=False))
    assert "Confirm your e-mail" in client.get("/invites").get_data(as_text=True)
    r = client.post("/invites", data={"email": "f@example.com", "vouch_note": "Great dev"})
    assert r.status_code == 302
    assert db.session.scalar(select(Invite)) is None


def test_get_of_the_link_changes_nothing_and_post_signs_up(client, make_member, outbox):
    alice = make_member("alice")
    send_invite(actor=alice, email="new@example.com", vouch_note="Trusted colleague")
    path = outbox.path_of_last_link("new@example.com")
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Trusted colleague" in html
    assert 'value="new@example.com"' in html
    assert db.session.scalar(select(Invite)).state == InviteState.PENDING
    r = client.post(path, data=SIGNUP)
    assert r.status_code == 302 and r.headers["Location"] == "/dashboard"
    user = db.session.scalar(select(User).where(User.username == "newbie"))
    assert user.invited_by_id == alice.id
    assert outbox.to("new@example.com")[-1].subject.startswith("Confirm your e-mail")
    used = client.get(path)
    assert used.status_code == 410 and "already been used" in used.get_data(as_text=True)


def test_signup_logs_the_new_member_in_with_a_fresh_session(client, make_member, outbox):
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted one")
    path = outbox.path_of_last_link("new@example.com")
    with client.session_transaction() as sess:
        sess["planted"] = "by someone else"  # what a fixation attack would leave behind
    r = client.post(path, data=SIGNUP, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Hello, New Bie" in html
    assert "Welcome to Offload, New Bie" in html and "new@example.com" in html
    user = db.session.scalar(select(User).where(User.username == "newbie"))
    with client.session_transaction() as sess:
        assert "planted" not in sess
        # the token, then the secret of this browser's signed-in device
        assert sess["_user_id"].startswith(f"{user.id}:{user.session_token}:")
    assert db.session.scalar(select(func.count()).select_from(MemberSession).where(
        MemberSession.user_id == user.id, MemberSession.ended_at.is_(None))) == 1
    assert user.last_login_at is not None
    # the member's session token is in the session: ending their sessions ends this one
    end_all_sessions(user)
    assert client.get("/dashboard").status_code == 302


def test_signup_records_what_the_member_mainly_does(client, make_member, outbox):
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted one")
    page = client.get(outbox.path_of_last_link("new@example.com")).get_data(as_text=True)
    assert "I mainly take on work" in page and "I mainly pass on work" in page
    assert re.search(r'<input checked[^>]*value="both"', page)  # who doesn't say does both
    r = client.post(outbox.path_of_last_link("new@example.com"),
                    data={**SIGNUP, "work_role": "take_on"})
    assert r.status_code == 302
    assert db.session.scalar(select(User.work_role).where(User.username == "newbie")) \
        == "take_on"


def test_signup_with_an_unknown_work_role_changes_nothing(client, make_member, outbox):
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted one")
    path = outbox.path_of_last_link("new@example.com")
    r = client.post(path, data={**SIGNUP, "work_role": "boss"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "Choose what you mainly do" in html
    assert 'value="newbie"' in html
    assert db.session.scalar(select(User).where(User.username == "newbie")) is None
    assert db.session.scalar(select(Invite)).state == InviteState.PENDING


def test_signup_errors_keep_input_and_use_nothing(client, make_member, outbox):
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted one")
    path = outbox.path_of_last_link("new@example.com")
    r = client.post(path, data={**SIGNUP, "password": "password123",
                                "account_type": "organization"})
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    assert "most common" in html and "organization&#39;s name" in html
    assert 'value="newbie"' in html
    assert db.session.scalar(select(Invite)).state == InviteState.PENDING


def test_taken_username_is_reported_on_the_form(client, make_member, outbox):
    make_member("newbie", email="someone@example.com")
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted one")
    r = client.post(outbox.path_of_last_link("new@example.com"), data=SIGNUP)
    assert r.status_code == 422 and "username is taken" in r.get_data(as_text=True)


def test_revoked_link_gets_a_clear_page(client, make_member, outbox):
    alice = make_member("alice")
    invite = send_invite(actor=alice, email="new@example.com", vouch_note="Trusted one")
    path = outbox.path_of_last_link("new@example.com")
    revoke_invite(invite, actor=alice)
    r = client.get(path)
    assert r.status_code == 410 and "withdrawn" in r.get_data(as_text=True)
    assert client.post(path, data=SIGNUP).status_code == 410
    assert client.get("/join/garbage").status_code == 410


def test_revoke_from_the_page_and_others_get_404(client, make_member, login):
    alice = make_member("alice")
    invite = send_invite(actor=alice, email="new@example.com", vouch_note="Trusted one")
    login(make_member("mallory"))
    assert client.post(f"/invites/{invite.id}/revoke").status_code == 404
    client.post("/logout")
    login(alice)
    assert client.post(f"/invites/{invite.id}/revoke").status_code == 302
    assert db.session.get(Invite, invite.id).state == InviteState.REVOKED


@pytest.mark.parametrize(("sent", "kept"), [
    ("Asia/Tokyo", "Asia/Tokyo"),  # what the browser's script filled in
    ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ("Mars/Olympus", "UTC"),  # nobody sees the hidden field to correct it: UTC
    ("", "UTC"),
    (None, "UTC"),  # no JavaScript: the field keeps its "UTC"
])
def test_sign_up_keeps_the_browsers_time_zone_when_it_is_one(client, make_member, outbox,
                                                             sent, kept):
    send_invite(actor=make_member("alice"), email="new@example.com", vouch_note="Trusted")
    path = outbox.path_of_last_link("new@example.com")
    form = client.get(path).get_data(as_text=True)
    assert re.search(r'<input data-browser-time-zone[^>]*name="time_zone"[^>]*value="UTC"', form)
    assert "time-zone.js" in form
    r = client.post(path, data=SIGNUP if sent is None else {**SIGNUP, "time_zone": sent})
    assert r.status_code == 302
    assert db.session.scalar(select(User).where(User.username == "newbie")).time_zone == kept
