"""Personal access tokens: made in Settings and shown once, stored hashed, revoked
by the member, by a password change or reset and by a suspension; expired, wrong-scope
and missing tokens refused as problems; a session cookie never authenticates."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from offload.accounts.models import PersonalToken, User
from offload.accounts.queries import personal_tokens_of
from offload.accounts.services import (
    change_password,
    create_personal_token,
    read_reset_token,
    reset_password,
    revoke_personal_token,
)
from offload.cases.services import open_case, resolve_case
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField
from offload.core.tokens import sign
from tests.support.app import make_app
from tests.support.factories import PASSWORD

SECRET = re.compile(r"offload_pat_[A-Za-z0-9_-]{43}")


def _row(token_id: int) -> PersonalToken:
    db.session.expire_all()
    return db.session.get(PersonalToken, token_id)


def test_settings_makes_a_token_shows_it_once_and_keeps_only_its_hash(client, login,
                                                                      make_member):
    member = make_member("ada")
    login(member)
    response = client.post("/settings/tokens", data={
        "name": "Deploy script", "scopes": ["read", "offers"], "days": "90",
        "once_key": "first-try"})
    assert response.status_code == 200  # the page itself: no redirect, no flash
    page = response.get_data(as_text=True)
    secret = SECRET.search(page).group(0)
    assert "won't be shown again" in page
    assert "session" not in response.headers.get("Set-Cookie", "") or \
        secret not in response.headers.get("Set-Cookie", "")

    token = db.session.scalar(select(PersonalToken))
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.scopes == "read offers" and token.name == "Deploy script"
    assert token.hint == secret[-4:]
    assert timedelta(days=89) < token.expires_at - utcnow() <= timedelta(days=90)
    stored = db.session.execute(select(PersonalToken.__table__)).one()
    assert all(secret not in str(value) for value in stored)

    again = client.get("/settings").get_data(as_text=True)
    assert secret not in again and "Deploy script" in again and "read, offers" in again
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}
                      ).get_json()["username"] == "ada"


def test_reloading_the_page_of_a_new_token_makes_no_second_one(client, login, make_member):
    login(make_member("ada"))
    form = client.get("/settings").get_data(as_text=True)
    key = re.search(r'name="once_key" type="hidden" value="([^"]+)"', form).group(1)
    sent = {"name": "Deploy script", "scopes": ["read"], "days": "30", "once_key": key}
    first = client.post("/settings/tokens", data=sent)
    secret = SECRET.search(first.get_data(as_text=True)).group(0)

    again = client.post("/settings/tokens", data=sent)  # the browser's reload re-POSTs
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    assert "That token was already created" in page
    assert SECRET.search(page) is None and secret not in page
    assert db.session.scalar(select(func.count()).select_from(PersonalToken)) == 1
    # the page shown again has a new key: a deliberate second token is made
    renewed = re.search(r'name="once_key" type="hidden" value="([^"]+)"', page).group(1)
    assert renewed != key
    assert client.post("/settings/tokens", data={**sent, "once_key": renewed}
                       ).status_code == 200
    assert db.session.scalar(select(func.count()).select_from(PersonalToken)) == 2


def test_a_token_form_without_its_one_time_key_makes_nothing(client, login, make_member):
    login(make_member("ada"))
    response = client.post("/settings/tokens", data={"name": "x", "scopes": ["read"],
                                                     "days": "30"})
    assert response.status_code == 422
    assert "one-time key" in response.get_data(as_text=True)
    assert db.session.scalar(select(PersonalToken)) is None


def test_the_settings_form_refuses_a_token_without_name_or_scope(client, login, make_member):
    login(make_member("ada"))
    response = client.post("/settings/tokens", data={"name": "", "days": "30"})
    assert response.status_code == 422
    assert db.session.scalar(select(PersonalToken)) is None
    assert "Choose at least one scope." in response.get_data(as_text=True)
    response = client.post("/settings/tokens", data={"name": "x", "scopes": ["root"],
                                                     "days": "30"})
    assert response.status_code == 422


def test_the_service_checks_scopes_expiry_and_the_number_of_tokens(app, make_member,
                                                                   monkeypatch):
    member = make_member("ada")
    with pytest.raises(InvalidField, match="at least one"):
        create_personal_token(actor=member, name="x", scopes=[], days=30)
    with pytest.raises(InvalidField, match="scopes listed"):
        create_personal_token(actor=member, name="x", scopes=["admin"], days=30)
    with pytest.raises(InvalidField, match="expiries"):
        create_personal_token(actor=member, name="x", scopes=["read"], days=3650)
    monkeypatch.setitem(app.config, "PERSONAL_TOKENS_MAX", 2)
    for n in range(2):
        create_personal_token(actor=member, name=f"t{n}", scopes=["read"], days=7)
    with pytest.raises(Conflict, match="revoke one"):
        create_personal_token(actor=member, name="t3", scopes=["read"], days=7)


def test_revoking_in_settings_stops_the_token_and_others_cannot(client, login, make_member,
                                                                bearer):
    ada, bob = make_member("ada"), make_member("bob")
    headers = bearer(ada)
    token_id = personal_tokens_of(ada.id)[0].id
    login(bob)
    assert client.post(f"/settings/tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    login(ada)
    response = client.post(f"/settings/tokens/{token_id}/revoke")
    assert response.status_code == 302 and response.location.endswith("/settings#api-tokens")
    assert _row(token_id).revoked_at is not None
    assert personal_tokens_of(ada.id) == []
    client.get("/logout")
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    with pytest.raises(Conflict):
        revoke_personal_token(token_id, actor=ada)


def test_a_password_change_revokes_every_token(make_member, bearer, client):
    ada = make_member("ada")
    headers = [bearer(ada), bearer(ada, "wallet")]
    change_password(ada, current_password=PASSWORD, new_password="a new long passphrase")
    for h in headers:
        assert client.get("/api/v1/me", headers=h).status_code == 401


def test_a_password_reset_revokes_every_token(make_member, bearer, client):
    from offload.accounts.services import RESET_PURPOSE, _reset_fingerprint

    ada = make_member("ada")
    headers = bearer(ada)
    link = sign(RESET_PURPOSE, {"uid": ada.id, "fp": _reset_fingerprint(ada)})
    assert read_reset_token(link).id == ada.id
    reset_password(link, "a brand new passphrase")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_suspension_revokes_every_token(make_member, bearer, client):
    admin = make_member("root", admin=True)
    ada = make_member("ada", inviter=admin)
    headers = bearer(ada)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    case = open_case(actor=admin, subject=ada, kind="other", summary="Took a deposit")
    resolve_case(case, actor=admin, resolution="suspended", reason="Took a deposit.")
    assert db.session.scalar(select(PersonalToken.revoked_at)) is not None
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_an_expired_token_is_refused(make_member, bearer, client):
    headers = bearer(make_member("ada"), days=7)
    db.session.execute(update(PersonalToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


@pytest.mark.parametrize("value", [None, "", "Bearer", "Bearer ", "Basic abc",
                                   "Bearer offload_pat_not-a-token", "Bearer x" * 100,
                                   "Token offload_pat_x"])
def test_a_missing_or_unknown_token_is_a_401_problem(client, value):
    headers = {"Authorization": value} if value is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {
        "type": "urn:offload:problem:unauthorized", "status": 401,
        "title": "A valid personal access token is required",
        "detail": "A valid personal access token is required"}


def test_a_token_without_the_scope_is_a_403_problem(make_member, bearer, client):
    headers = bearer(make_member("ada"), "wallet")
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 403
    assert response.get_json() == {
        "type": "urn:offload:problem:forbidden", "status": 403,
        "title": "The token may not do this", "detail": "This token lacks the “read” scope."}


def test_a_logged_in_browser_session_does_not_authenticate_the_api(app, tmp_path,
                                                                   make_member):
    """The API is exempt from CSRF because a cookie never authenticates it: a page
    elsewhere that makes the member's browser call it gets a 401, with CSRF on."""
    csrf_app = make_app(tmp_path, WTF_CSRF_ENABLED=True,
                        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    make_member("ada")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"login": "ada", "password": PASSWORD,
                                       "csrf_token": csrf_token}).status_code == 302
    assert client.get("/settings").status_code == 200  # the session works
    for method, path in (("POST", "/api/v1/notifications/read"), ("GET", "/api/v1/me")):
        response = client.open(path, method=method)
        assert response.status_code == 401, path
        assert response.mimetype == "application/problem+json"


def test_last_use_is_written_at_most_once_a_minute(make_member, bearer, client,
                                                   count_queries):
    headers = bearer(make_member("ada"))
    token_id = db.session.scalar(select(PersonalToken.id))
    assert _row(token_id).last_used_at is None
    client.get("/api/v1/me", headers=headers)
    first = _row(token_id).last_used_at
    assert first is not None
    with count_queries() as statements:
        client.get("/api/v1/me", headers=headers)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert _row(token_id).last_used_at == first
    db.session.execute(update(PersonalToken).values(
        last_used_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    client.get("/api/v1/me", headers=headers)
    assert _row(token_id).last_used_at > first


def test_a_suspended_member_with_a_live_token_row_is_still_refused(make_member, bearer,
                                                                   client):
    """Belt and braces: whatever the token row says, a suspended member is nobody."""
    ada = make_member("ada")
    headers = bearer(ada)
    db.session.execute(update(User).where(User.id == ada.id).values(suspended_at=utcnow()))
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
