"""Passkeys in the site: the two-factor page's list and "Add a passkey" behind a code
from the app or a backup code given lately (a passkey won't do), the log-in's "Use a
passkey", and removing one behind a fresh second factor (a passkey will do)."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select

from offload.accounts.models import Passkey
from offload.accounts.passkeys import relying_party
from offload.accounts.step_up import CODE_FRESH_KEY, FRESH_KEY
from offload.core.db import db
from tests.support.factories import PASSWORD
from tests.support.two_factor import code_for, turn_on_two_factor
from tests.support.webauthn import SoftAuthenticator


def _log_in_with_code(client, member, secret, clock):
    client.post("/logout")
    clock.tick()
    client.post("/login", data={"login": member.username, "password": PASSWORD})
    assert client.post("/login/code", data={"code": code_for(secret, clock.now)}
                       ).status_code == 302


def _add(client, authenticator, name="Laptop"):
    options = client.post("/settings/two-factor/passkeys/options")
    assert options.status_code == 200 and options.mimetype == "application/json"
    return client.post("/settings/two-factor/passkeys", data={
        "name": name, "credential": authenticator.register(options.get_data(as_text=True))})


def _no_code_lately(client) -> None:
    """As a session from a remember-me cookie, or one whose code is old: no second
    factor given in this session, by code or by passkey."""
    with client.session_transaction() as session:
        session.pop(FRESH_KEY, None)
        session.pop(CODE_FRESH_KEY, None)


def _count(member_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Passkey)
                             .where(Passkey.user_id == member_id))


def test_the_page_lists_adds_and_says_javascript_is_needed(client, login, make_member,
                                                           totp_clock, outbox):
    alice = make_member("alice")
    login(alice)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert 'id="passkeys"' not in page  # they come once two-factor log-in is on
    assert client.post("/settings/two-factor/passkeys/options").status_code == 409
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _log_in_with_code(client, alice, secret, totp_clock)
    page = client.get("/settings/two-factor").get_data(as_text=True)
    # the script hides the note once it shows the form
    assert "You have no passkeys." in page and "Passkeys need JavaScript" in page
    assert re.search(r'<form[^>]*action="/settings/two-factor/passkeys"[^>]*hidden', page)
    assert "/static/js/passkeys.js" in page
    authenticator = SoftAuthenticator(*relying_party())
    response = _add(client, authenticator, name="")  # unnamed: refused, nothing made
    assert response.status_code == 422 and "Name the passkey." in response.get_data(
        as_text=True)
    response = client.post("/settings/two-factor/passkeys", data={
        "name": "Work laptop", "credential": authenticator.register(
            json.loads(client.post("/settings/two-factor/passkeys/options").get_data()),
            origin="https://evil.example")})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "was not accepted" in page
    assert 'value="Work laptop"' in page  # what was typed is kept
    response = _add(client, authenticator, name="Work laptop")
    assert response.headers["Location"] == "/settings/two-factor#passkeys"
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "Work laptop" in page and "Remove Work laptop" in page
    assert outbox.to("alice@example.com")[-1].template == "passkey_added"
    # the ceremony's challenge was taken out of the session: its answer can't come twice
    response = client.post("/settings/two-factor/passkeys", data={
        "name": "Again", "credential": authenticator.register(
            {"challenge": "AAAA"})})
    assert response.status_code == 422 and _count(alice.id) == 1


def test_a_log_in_with_a_passkey_instead_of_the_code(client, make_member, totp_clock):
    alice = make_member("alice")
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _log_in_with_code(client, alice, secret, totp_clock)
    authenticator = SoftAuthenticator(*relying_party())
    _add(client, authenticator)
    client.post("/logout")
    assert client.post("/login/passkey/options").status_code == 400  # no password step
    client.post("/login", data={"login": "alice", "password": PASSWORD})
    page = client.get("/login/code").get_data(as_text=True)
    assert "Use a passkey" in page and "/static/js/passkeys.js" in page
    options = client.post("/login/passkey/options").get_data(as_text=True)
    assert json.loads(options)["allowCredentials"][0]["type"] == "public-key"
    wrong = authenticator.assert_(options, origin="https://evil.example")
    response = client.post("/login/code", data={"credential": wrong})
    assert response.status_code == 422 and "not accepted" in response.get_data(as_text=True)
    assert client.get("/settings").status_code == 302  # not logged in
    options = client.post("/login/passkey/options").get_data(as_text=True)
    response = client.post("/login/code", data={"credential": authenticator.assert_(options)})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"
    assert client.get("/settings").status_code == 200
    with client.session_transaction() as session:
        assert session[FRESH_KEY] > 0  # a passkey counts as a code entered


def test_a_member_without_passkeys_is_offered_none(client, make_member):
    alice = make_member("alice")
    turn_on_two_factor(alice)
    client.post("/login", data={"login": "alice", "password": PASSWORD})
    assert "Use a passkey" not in client.get("/login/code").get_data(as_text=True)


def test_removing_a_passkey_needs_a_fresh_second_factor(client, make_member, totp_clock,
                                                        outbox):
    alice = make_member("alice")
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _log_in_with_code(client, alice, secret, totp_clock)
    authenticator = SoftAuthenticator(*relying_party())
    _add(client, authenticator)
    passkey_id = db.session.scalar(select(Passkey.id).where(Passkey.user_id == alice.id))
    url = f"/settings/two-factor/passkeys/{passkey_id}/remove"
    with client.session_transaction() as session:
        session[FRESH_KEY] -= 16 * 60
    response = client.post(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Removing a passkey needs" in page
    assert "Use a passkey" in page and _count(alice.id) == 1
    options = client.post("/two-factor/passkey/options").get_data(as_text=True)
    response = client.post("/two-factor/confirm", data={
        "two_factor-credential": authenticator.assert_(options), "two_factor-next": url,
        "two_factor-replay": "1"})
    assert response.status_code == 307 and response.headers["Location"] == url
    response = client.post(url)
    assert response.headers["Location"] == "/settings/two-factor#passkeys"
    assert _count(alice.id) == 0
    assert outbox.to("alice@example.com")[-1].template == "passkey_removed"


def test_another_members_passkey_is_404(client, make_member, totp_clock):
    alice, bob = make_member("alice"), make_member("bob")
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _log_in_with_code(client, alice, secret, totp_clock)
    _add(client, SoftAuthenticator(*relying_party()))
    passkey_id = db.session.scalar(select(Passkey.id).where(Passkey.user_id == alice.id))
    client.post("/logout")
    client.post("/login", data={"login": bob.username, "password": PASSWORD})
    assert client.post(f"/settings/two-factor/passkeys/{passkey_id}/remove").status_code == 404
    assert _count(alice.id) == 1


def test_adding_a_passkey_needs_a_code_given_lately(client, make_member, totp_clock, outbox):
    alice = make_member("alice")
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    _log_in_with_code(client, alice, secret, totp_clock)
    authenticator = SoftAuthenticator(*relying_party())
    # the options drawn while the code was fresh, answered once it no longer is
    credential = authenticator.register(client.post(
        "/settings/two-factor/passkeys/options").get_data(as_text=True))
    _no_code_lately(client)
    options = client.post("/settings/two-factor/passkeys/options")
    assert options.status_code == 403 and "code from your app" in options.json["error"]
    response = client.post("/settings/two-factor/passkeys",
                           data={"name": "Thief's key", "credential": credential})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Adding a passkey needs a code" in page
    assert "Use a passkey" not in page  # a passkey doesn't vouch for a new one
    assert _count(alice.id) == 0 and not [m for m in outbox.to("alice@example.com")
                                          if m.template == "passkey_added"]
    # the page asks for the code before it offers to add one
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert 'data-passkey="create"' not in page and "Enter a code from your app" in page
    assert 'name="two_factor-next" type="hidden" value="/settings/two-factor#passkeys"' in page
    # the code, and what was posted goes through
    totp_clock.tick()
    response = client.post("/two-factor/confirm", data={
        "name": "Laptop", "credential": credential, "two_factor-replay": "1",
        "two_factor-next": "/settings/two-factor/passkeys",
        "two_factor-code": code_for(secret, totp_clock.now)})
    assert response.status_code == 307
    response = client.post("/settings/two-factor/passkeys",
                           data={"name": "Laptop", "credential": credential})
    assert response.headers["Location"] == "/settings/two-factor#passkeys"
    assert _count(alice.id) == 1
    assert 'data-passkey="create"' in client.get("/settings/two-factor").get_data(as_text=True)


def test_a_passkey_does_not_vouch_for_a_new_one(client, make_member, totp_clock):
    alice = make_member("alice")
    setup = turn_on_two_factor(alice, at=totp_clock.now)
    _log_in_with_code(client, alice, setup.secret, totp_clock)
    first = SoftAuthenticator(*relying_party())
    _add(client, first)
    client.post("/logout")
    client.post("/login", data={"login": "alice", "password": PASSWORD})
    options = client.post("/login/passkey/options").get_data(as_text=True)
    assert client.post("/login/code", data={"credential": first.assert_(options)}
                       ).status_code == 302
    # logged in with the passkey: fresh for a withdrawal, not for another passkey
    assert client.post("/settings/two-factor/passkeys/options").status_code == 403
    options = client.post("/two-factor/passkey/options").get_data(as_text=True)
    assert client.post("/two-factor/confirm", data={
        "two_factor-credential": first.assert_(options),
        "two_factor-next": "/settings/two-factor"}).status_code == 302
    assert client.post("/settings/two-factor/passkeys/options").status_code == 403
    # a backup code will do
    assert client.post("/two-factor/confirm", data={
        "two_factor-code": setup.backup_codes[0],
        "two_factor-next": "/settings/two-factor"}).status_code == 302
    response = _add(client, SoftAuthenticator(*relying_party()), name="Phone")
    assert response.status_code == 302 and _count(alice.id) == 2
