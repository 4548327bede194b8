"""Two-factor log-in in the site: the settings pages, the log-in's code step, the admin
area's requirement and fresh code, and the step-up before a large withdrawal."""

import re

import pytest
from sqlalchemy import select

from offload.accounts import two_factor
from offload.accounts.models import PersonalToken
from offload.accounts.queries import two_factor_status
from offload.accounts.step_up import FRESH_KEY
from offload.contact.models import ContactMessage, ContactState
from offload.contact.services import send_contact_message
from offload.core.db import db
from offload.core.extensions import limiter
from offload.wallet.models import Withdrawal
from tests.support.app import make_app
from tests.support.factories import PASSWORD
from tests.support.two_factor import code_for, turn_on_two_factor


def _password_step(client, member, next_path: str = ""):
    return client.post(f"/login{next_path}", data={"login": member.username,
                                                   "password": PASSWORD})


def _log_in_with_code(client, member, code: str):
    assert _password_step(client, member).headers["Location"] == "/login/code"
    response = client.post("/login/code", data={"code": code})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def _code_then_again(client, data: dict):
    """Enter the code on the "re-enter your code" page, then follow its 307 as a browser
    does, posting the same body again (the test client loses the body on a 307)."""
    response = client.post("/two-factor/confirm", data=data)
    assert response.status_code == 307, response.get_data(as_text=True)[:2000]
    return client.post(response.headers["Location"], data=data, follow_redirects=True)


def _wrong(code: str) -> str:
    return str((int(code) + 1) % 1_000_000).zfill(6)


def test_setting_up_shows_the_secret_then_the_backup_codes_once(client, login, make_member,
                                                                outbox):
    alice = make_member("alice")
    login(alice)
    page = client.get("/settings").get_data(as_text=True)
    assert 'href="/settings/two-factor"' in page
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "Set up two-factor authentication" in page and "<svg" not in page
    response = client.post("/settings/two-factor/begin")
    assert response.headers["Location"] == "/settings/two-factor"
    page = client.get("/settings/two-factor").get_data(as_text=True)
    secret = re.search(r'id="two-factor-secret">([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "Scan this with your app" in page
    response = client.post("/settings/two-factor/enable", data={"code": _wrong(code_for(secret))})
    assert response.status_code == 422 and "That code is not right" in response.get_data(
        as_text=True)
    response = client.post("/settings/two-factor/enable", data={"code": code_for(secret)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "shown only this once" in page
    codes = re.findall(r'<code class="secret">([a-z0-9]{5}-[a-z0-9]{5})</code>', page)
    assert len(codes) == 10
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "You have 10 unused backup codes" in page and codes[0] not in page
    assert outbox.to("alice@example.com")[-1].template == "two_factor_enabled"


def test_the_password_alone_does_not_log_in(client, make_member, totp_clock):
    alice = make_member("alice")
    secret = turn_on_two_factor(alice, at=totp_clock.now).secret
    totp_clock.tick()
    response = _password_step(client, alice, "?next=/wallet")
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    assert client.get("/settings").headers["Location"].startswith("/login")  # not yet
    page = client.get("/login/code").get_data(as_text=True)
    assert "Enter the 6-digit code from your app." in page and "Use a backup code" in page

    wrong = _wrong(code_for(secret, totp_clock.now))
    response = client.post("/login/code", data={"code": wrong})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "That code is not right" in page
    assert f'value="{wrong}"' not in page  # nothing typed is kept
    response = client.post("/login/code", data={"code": code_for(secret, totp_clock.now)})
    assert response.status_code == 302 and response.headers["Location"] == "/wallet"
    assert client.get("/settings").status_code == 200
    with client.session_transaction() as session:
        assert "pending_login" not in session and session[FRESH_KEY] > 0


def test_a_backup_code_logs_in_once(client, make_member):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    _password_step(client, alice)
    assert "Enter one of the backup codes" in client.get("/login/code?backup=1").get_data(
        as_text=True)
    assert client.post("/login/code?backup=1", data={"code": codes[0]}).status_code == 302
    client.post("/logout")
    _password_step(client, alice)
    response = client.post("/login/code?backup=1", data={"code": codes[0]})
    assert response.status_code == 422
    assert "each one works once" in response.get_data(as_text=True)
    assert client.get("/settings").status_code == 302


def test_the_code_step_needs_a_password_step(client):
    assert client.get("/login/code").headers["Location"] == "/login"
    assert client.post("/login/code", data={"code": "123456"}).headers["Location"] == "/login"


def test_wrong_codes_are_counted_per_pending_log_in(app, make_member, tmp_path):
    limited = make_app(tmp_path, TWO_FACTOR_ATTEMPTS=2,
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice)
    client = limited.test_client()
    _password_step(client, alice)
    codes = [client.post("/login/code", data={"code": "abcde-fghjk"}).status_code
             for _ in range(3)]
    assert codes == [422, 422, 429]
    # a new password step is a new pending log-in, with its own attempts
    _password_step(client, alice)
    assert client.post("/login/code", data={"code": set_up.backup_codes[0]}).status_code == 302


def test_regenerating_and_turning_off_from_the_page(client, login, make_member, outbox):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    _log_in_with_code(client, alice, codes[0])
    response = client.post("/settings/two-factor/backup-codes",
                           data={"code": PASSWORD})  # the password alone is not enough
    assert response.status_code == 422 and "is not right" in response.get_data(
        as_text=True)
    response = client.post("/settings/two-factor/backup-codes",
                           data={"code": codes[2]})
    new = re.findall(r'<code class="secret">([a-z0-9-]{11})</code>', response.get_data(
        as_text=True))
    assert len(new) == 10 and not set(new) & set(codes)
    response = client.post("/settings/two-factor/disable",
                           data={"password": PASSWORD, "code": codes[1]})
    assert response.status_code == 422  # an old code: replaced
    response = client.post("/settings/two-factor/disable",
                           data={"password": PASSWORD, "code": new[0]})
    assert response.headers["Location"] == "/settings/two-factor"
    assert not two_factor_status(alice.id).is_on
    assert [m.template for m in outbox.to("alice@example.com")] == [
        "two_factor_enabled", "backup_codes_regenerated", "two_factor_disabled"]


@pytest.fixture
def admins_need_it(app, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED_FOR_ADMINS", True)


@pytest.mark.usefixtures("admins_need_it")
def test_an_admin_without_two_factor_is_sent_to_set_it_up(client, login, make_member):
    root = make_member("root", admin=True)
    login(root)
    for url in ("/admin", "/admin/withdrawals"):
        assert client.get(url).headers["Location"] == "/settings/two-factor"
    page = client.get("/settings/two-factor").get_data(as_text=True)
    assert "Admins must use two-factor authentication." in page
    # a member is not: the admin area still answers them 404
    login(make_member("alice"))
    assert client.get("/admin").status_code == 404


@pytest.mark.usefixtures("admins_need_it")
def test_an_admin_decision_needs_a_fresh_code(client, make_member, totp_clock):
    root = make_member("root", admin=True)
    secret = turn_on_two_factor(root, at=totp_clock.now).secret
    totp_clock.tick()
    _log_in_with_code(client, root, code_for(secret, totp_clock.now))
    assert client.get("/admin").status_code == 200
    assert "Admins must keep" in client.get("/settings/two-factor").get_data(as_text=True)
    message = send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                   subject="Joining", body="How do I get an invite?")
    with client.session_transaction() as session:
        session[FRESH_KEY] -= 16 * 60  # the code was entered 16 minutes ago
    url = f"/admin/contact/{message.id}/answer"
    response = client.post(url, data={"reply": "Ask a member you know."})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Re-enter your code" in page
    assert 'name="reply" value="Ask a member you know."' in page
    assert db.session.get(ContactMessage, message.id).state == ContactState.OPEN
    replay = {"reply": "Ask a member you know.", "two_factor-next": url,
              "two_factor-replay": "1"}
    totp_clock.tick()
    response = client.post("/two-factor/confirm", data={
        **replay, "two_factor-code": _wrong(code_for(secret, totp_clock.now))})
    assert response.status_code == 422 and 'value="Ask a member you know."' in \
        response.get_data(as_text=True)
    response = client.post("/two-factor/confirm", data={
        **replay, "two_factor-code": code_for(secret, totp_clock.now)})
    assert response.status_code == 307 and response.headers["Location"] == url
    _code_then_again(client, {**replay,
                              "two_factor-code": code_for(secret, totp_clock.now, steps=1)})
    assert db.session.get(ContactMessage, message.id).state == ContactState.ANSWERED


@pytest.mark.usefixtures("admins_need_it")
def test_a_password_is_not_written_back_into_the_code_page(client, make_member, withdraw,
                                                           fund):
    root = make_member("root", admin=True)
    codes = turn_on_two_factor(root).backup_codes
    _log_in_with_code(client, root, codes[0])
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 20_00)
    with client.session_transaction() as session:
        del session[FRESH_KEY]
    response = client.post(f"/admin/withdrawals/{w.id}/reject", data={
        f"reject-{w.id}-reason": "Wrong IBAN", f"reject-{w.id}-password": PASSWORD})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and 'value="Wrong IBAN"' in page
    assert PASSWORD not in page and "type it again" in page
    # after the code the decision's page asks for the password, the reason kept
    response = _code_then_again(client, {
        f"reject-{w.id}-reason": "Wrong IBAN", "two_factor-replay": "1",
        "two_factor-next": f"/admin/withdrawals/{w.id}/reject", "two_factor-code": codes[1]})
    page = response.get_data(as_text=True)
    assert "Enter your password to confirm." in page and "Wrong IBAN" in page
    assert db.session.get(Withdrawal, w.id).state == "requested"


def test_a_large_withdrawal_needs_a_fresh_code(app, client, make_member, fund, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_STEP_UP_MINOR", 30_00)
    alice = make_member("alice")
    fund(alice, 100_00)
    codes = turn_on_two_factor(alice).backup_codes
    _log_in_with_code(client, alice, codes[0])
    with client.session_transaction() as session:
        del session[FRESH_KEY]
    form = {"withdrawal-amount": "20", "withdrawal-payout_details": "IBAN DE89",
            "withdrawal-idempotency_key": "k-small"}
    assert client.post("/wallet/withdrawals", data=form).status_code == 302  # under the limit
    form = {**form, "withdrawal-amount": "40", "withdrawal-idempotency_key": "k-large"}
    response = client.post("/wallet/withdrawals", data=form)
    assert response.status_code == 403 and "Moving this much money out" in response.get_data(
        as_text=True)
    amounts = lambda: sorted(db.session.scalars(select(Withdrawal.amount_minor)))  # noqa: E731
    assert amounts() == [20_00]
    response = _code_then_again(client, {
        **form, "two_factor-replay": "1", "two_factor-next": "/wallet/withdrawals",
        "two_factor-code": codes[1]})
    assert "Your withdrawal of $40.00 is requested" in response.get_data(as_text=True)
    assert amounts() == [20_00, 40_00]


def test_the_code_page_without_two_factor_sends_to_the_set_up(client, login, make_member):
    login(make_member("alice"))
    assert client.get("/two-factor/confirm?next=/wallet").headers["Location"] == \
        "/settings/two-factor"


def test_the_code_page_returns_to_a_page_on_the_site_only(client, make_member):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    _log_in_with_code(client, alice, codes[0])
    page = client.get("/two-factor/confirm?next=/wallet").get_data(as_text=True)
    assert 'value="/wallet"' in page
    response = client.post("/two-factor/confirm", data={
        "two_factor-next": "https://evil.example/", "two_factor-code": codes[1]})
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_production_refuses_admins_without_two_factor(monkeypatch, tmp_path):
    from offload import create_app

    monkeypatch.setenv("OFFLOAD_SECRET_KEY", "a real secret from the environment")
    with pytest.raises(RuntimeError, match="TWO_FACTOR_REQUIRED_FOR_ADMINS"):
        create_app({"PRODUCTION": True, "RATELIMIT_SINGLE_PROCESS": True,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                    "TWO_FACTOR_REQUIRED_FOR_ADMINS": False})


@pytest.mark.usefixtures("admins_need_it")
def test_admin_powers_count_only_after_the_code_in_this_session(client, make_member,
                                                                withdraw, fund):
    root = make_member("root", admin=True)
    codes = turn_on_two_factor(root).backup_codes
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 20_00)
    _log_in_with_code(client, root, codes[0])
    assert client.get(f"/wallet/withdrawals/{w.id}").status_code == 200
    with client.session_transaction() as session:
        del session[FRESH_KEY]  # a session that never passed the code (a remember cookie)
    assert client.get(f"/wallet/withdrawals/{w.id}").status_code == 404
    assert client.get("/admin").headers["Location"] == "/two-factor/confirm?next=/admin"
    response = client.post("/two-factor/confirm", data={"two_factor-next": "/admin",
                                                         "two_factor-code": codes[1]})
    assert response.headers["Location"] == "/admin"
    assert client.get(f"/wallet/withdrawals/{w.id}").status_code == 200


def test_a_token_that_may_move_money_needs_a_fresh_code(client, make_member):
    alice = make_member("alice")
    codes = turn_on_two_factor(alice).backup_codes
    _log_in_with_code(client, alice, codes[0])
    with client.session_transaction() as session:
        del session[FRESH_KEY]
    tokens = lambda: db.session.scalars(  # noqa: E731
        select(PersonalToken.name).order_by(PersonalToken.id)).all()
    form = {"name": "reader", "scopes": ["read"], "days": "30",
            "once_key": "once-1"}
    assert client.post("/settings/tokens", data=form).status_code == 200
    form = {**form, "name": "payer", "scopes": ["read", "wallet"],
            "once_key": "once-2"}
    response = client.post("/settings/tokens", data=form)
    assert response.status_code == 403 and "may move money" in response.get_data(
        as_text=True)
    assert tokens() == ["reader"]
    response = _code_then_again(client, {
        **form, "two_factor-replay": "1", "two_factor-next": "/settings/tokens",
        "two_factor-code": codes[1]})
    assert tokens() == ["reader", "payer"]


def test_wrong_codes_are_limited_per_account_and_mail_the_member(app, make_member, tmp_path,
                                                                 outbox):
    limited = make_app(tmp_path, TWO_FACTOR_WRONG_CODES_PER_ACCOUNT="4 per hour",
                       TWO_FACTOR_WRONG_CODES_MAIL_AFTER=3,
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    limiter.reset()  # member ids start again from 1 in every test
    alice = make_member("alice")
    set_up = turn_on_two_factor(alice)
    statuses = []
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # a new log-in from each
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        _password_step(client, alice)
        statuses += [client.post("/login/code", data={"code": "abcde-fghjk"}).status_code
                     for _ in range(2)]
    assert statuses == [422, 422, 422, 422, 429, 429]
    # the right code too: the account is locked out of the code step for the window
    assert client.post("/login/code", data={"code": set_up.backup_codes[0]}
                       ).status_code == 429
    assert [m.template for m in outbox.to("alice@example.com")] == [
        "two_factor_enabled", "two_factor_codes_refused"]
    limiter.reset()


def test_turning_it_on_ends_every_other_session(app, client, login, make_member, totp_clock):
    alice = make_member("alice")
    elsewhere = app.test_client()
    for each in (client, elsewhere):
        each.post("/login", data={"login": "alice", "password": PASSWORD})
        assert each.get("/settings").status_code == 200
    client.post("/settings/two-factor/begin")
    secret = two_factor.pending_set_up(alice).secret
    response = client.post("/settings/two-factor/enable",
                           data={"code": code_for(secret, totp_clock.now)})
    assert response.status_code == 200 and "backup" in response.get_data(as_text=True)
    assert client.get("/settings").status_code == 200  # this one goes on
    assert elsewhere.get("/settings").headers["Location"].startswith("/login")
