import re
from http.cookies import SimpleCookie

from offload.accounts.models import User
from offload.accounts.services import resolve_password_resets
from offload.core.db import db
from tests.support.factories import PASSWORD


def test_login_page_and_failed_login_keeps_input(client, make_member):
    make_member("alice")
    assert client.get("/login").status_code == 200
    response = client.post("/login", data={"login": "alice", "password": "wrong password"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That username or password is not right." in html
    assert 'value="alice"' in html


def test_login_then_dashboard_then_logout(client, make_member, login):
    make_member("alice")
    assert client.get("/dashboard").status_code == 302
    login(db.session.scalar(db.select(User).where(User.username == "alice")))
    assert client.get("/dashboard").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302
    assert client.get("/dashboard").status_code == 302


def test_login_redirects_only_to_local_next(client, make_member):
    make_member("alice")
    data = {"login": "alice", "password": PASSWORD}
    r = client.post("/login?next=https://evil.example/x", data=data)
    assert r.headers["Location"] == "/dashboard"
    client.post("/logout")
    r = client.post("/login?next=//evil.example/x", data=data)
    assert r.headers["Location"] == "/dashboard"
    client.post("/logout")
    r = client.post("/login?next=/settings", data=data)
    assert r.headers["Location"] == "/settings"


def _remember_cookie(response) -> str:
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        if "remember_token" in cookie and cookie["remember_token"].value:
            return cookie["remember_token"].value
    raise AssertionError("no remember cookie set")


def test_logout_refuses_a_replayed_remember_cookie(app, client, make_member, login):
    user = make_member("alice")
    stolen = _remember_cookie(login(user, remember=True))
    client.post("/logout")
    other = app.test_client()
    other.set_cookie("remember_token", stolen)
    assert other.get("/dashboard").status_code == 302  # refused: back to log-in


def test_remember_cookie_alone_logs_in_before_logout(app, client, make_member, login):
    user = make_member("alice")
    cookie = _remember_cookie(login(user, remember=True))
    other = app.test_client()
    other.set_cookie("remember_token", cookie)
    assert other.get("/dashboard").status_code == 200


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, make_member,
                                                                login):
    user = make_member("alice")
    login(user)
    elsewhere = app.test_client()
    elsewhere.post("/login", data={"login": "alice", "password": PASSWORD})
    assert elsewhere.get("/dashboard").status_code == 200
    r = client.post("/settings/password", data={"current_password": PASSWORD,
                                                 "new_password": "another fine passphrase"})
    assert r.status_code == 302
    assert client.get("/dashboard").status_code == 200
    assert elsewhere.get("/dashboard").status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(client, make_member,
                                                                     login):
    user = make_member("alice")
    login(user)
    before = user.password_hash
    r = client.post("/settings/password", data={"current_password": "wrong one!!",
                                                 "new_password": "another fine passphrase"})
    assert r.status_code == 422
    assert "current password is not correct" in r.get_data(as_text=True)
    assert db.session.get(User, user.id).password_hash == before


def test_confirmation_get_changes_nothing_post_confirms(client, make_member, login, outbox):
    from offload.accounts.services import resend_confirmation

    user = make_member("bob", confirmed=False)
    resend_confirmation(user)
    path = outbox.path_of_last_link("bob@example.com")
    r = client.get(path)
    assert r.status_code == 200 and "Confirm bob@example.com" in r.get_data(as_text=True)
    assert not db.session.get(User, user.id).is_confirmed
    assert client.post(path).status_code == 302
    assert db.session.get(User, user.id).is_confirmed
    used = client.get(path)
    assert used.status_code == 400 and "already confirmed" in used.get_data(as_text=True)


def test_reset_flow_through_pages(client, make_member, outbox):
    make_member("carol")
    r = client.post("/reset", data={"email": "carol@example.com"})
    assert r.status_code == 302
    resolve_password_resets()  # what the mail worker does
    path = outbox.path_of_last_link("carol@example.com")
    assert client.get(path).status_code == 200
    weak = client.post(path, data={"password": "short"})
    assert weak.status_code == 422 and "at least 10" in weak.get_data(as_text=True)
    assert client.post(path, data={"password": "the new passphrase"}).status_code == 302
    again = client.get(path)
    assert again.status_code == 400 and "already been used" in again.get_data(as_text=True)
    r = client.post("/login", data={"login": "carol", "password": "the new passphrase"})
    assert r.status_code == 302


def test_reset_answer_is_the_same_for_unknown_addresses(client):
    r = client.post("/reset", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account uses that address" in r.get_data(as_text=True)


def test_resets_from_many_addresses_reach_a_member_at_most_the_cap(app, client,
                                                                    make_member, outbox,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "RESET_MAILS_PER_ACCOUNT", 3)
    make_member("carol")
    answers = set()
    for n in range(8):
        r = client.post("/reset", data={"email": "carol@example.com"},
                        environ_base={"REMOTE_ADDR": f"203.0.113.{n + 1}"},
                        follow_redirects=True)
        answers.add((r.status_code, "If an account uses that address" in r.get_data(
            as_text=True)))
        resolve_password_resets()  # the worker keeps up between requests
    assert answers == {(200, True)}  # the fourth asker is told what the first was
    assert len(outbox.to("carol@example.com")) == 3


def test_a_reset_runs_the_same_statements_for_members_and_strangers(client, make_member,
                                                                     count_queries, outbox):
    make_member("carol")
    client.post("/reset", data={"email": "warm@example.com"})  # first-request set-up aside

    def statements(address: str) -> tuple[list[str], bytes, int]:
        with count_queries() as seen:
            response = client.post("/reset", data={"email": address})
        return seen, response.headers["Location"], response.status_code

    member, stranger = statements("carol@example.com"), statements("nobody@example.com")
    assert member == stranger and member[2] == 302
    assert [s.split()[0] for s in member[0]].count("INSERT") == 1
    assert outbox.all() == []  # neither request looked further: the worker does


def test_change_email_page_flow(client, make_member, login, outbox):
    user = make_member("dora")
    login(user)
    r = client.post("/settings/email", data={"new_email": "dora@new.example",
                                              "password": PASSWORD})
    assert r.status_code == 302
    client.post(outbox.path_of_last_link("dora@new.example"))
    assert db.session.get(User, user.id).email == "dora@new.example"


def test_change_email_answers_the_same_whether_the_address_is_taken(
        client, make_member, login, outbox):
    make_member("gil", email="gil@example.com")
    login(make_member("dora"))
    answers = []
    for address in ("gil@example.com", "nobody@example.com"):
        r = client.post("/settings/email", data={"new_email": address, "password": PASSWORD})
        assert r.status_code == 302
        page = client.get(r.location).get_data(as_text=True)
        # the page with the address blanked, the CSRF tokens (signed with the time) and
        # the forms' one-time keys (random)
        answers.append(re.sub(r'name="[\w-]*(csrf_token|once_key)"( type="hidden")? '
                              r'value="[^"]*"', "",
                              page.replace(address, "ADDRESS")))
    assert answers[0] == answers[1]
    assert [m.template for m in outbox.to("gil@example.com")] == ["email_in_use"]
    assert [m.template for m in outbox.to("nobody@example.com")] == ["confirm_email"]


def test_a_change_to_an_address_taken_meanwhile_is_refused_on_confirmation(
        client, make_member, login, outbox):
    dora = make_member("dora")
    login(dora)
    client.post("/settings/email", data={"new_email": "ivy@example.com", "password": PASSWORD})
    make_member("ivy", email="ivy@example.com")  # the pending change didn't stop this
    r = client.post(outbox.path_of_last_link("ivy@example.com"))
    assert r.status_code == 400 and "Another account uses that address now." in r.get_data(
        as_text=True)
    assert db.session.get(User, dora.id).email == "dora@example.com"
    assert client.get("/settings").status_code == 200  # still logged in, nothing broken


def test_unconfirmed_member_sees_the_banner(client, make_member, login):
    login(make_member("eve", confirmed=False))
    assert "Please confirm your e-mail address" in client.get("/dashboard").get_data(as_text=True)


def test_settings_change_what_the_member_mainly_does(client, make_member, login):
    alice = make_member("alice")
    login(alice)
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="both"', page)
    response = client.post("/settings/work-role", data={"work_role": "take_on"})
    assert response.status_code == 302 and response.location == "/settings"
    assert db.session.get(User, alice.id).work_role == "take_on"
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="take_on"', page)


def test_settings_refuse_an_unknown_work_role_and_change_nothing(client, make_member, login):
    alice = make_member("alice", work_role="pass_on")
    login(alice)
    response = client.post("/settings/work-role", data={"work_role": "boss"})
    assert response.status_code == 422
    assert "Choose what you mainly do" in response.get_data(as_text=True)
    assert db.session.get(User, alice.id).work_role == "pass_on"


def test_a_session_id_that_is_no_id_loads_nobody(make_member):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows: a 500
    for whoever could get such a cookie signed (a leaked secret key, a future format)."""
    from offload.accounts.devices import start_member_session
    from offload.accounts.views import load_user

    member = make_member("ida")
    secret = start_member_session(member, user_agent="", address="")
    assert load_user(f"{member.id}:{member.session_token}:{secret}").id == member.id
    for raw_id in ("²", "99999999999999999999", "-1", "", f" {member.id}"):
        assert load_user(f"{raw_id}:{member.session_token}:{secret}") is None
