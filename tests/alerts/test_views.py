"""Alert pages: the board's link, saving a search (and its errors), the alerts page with
its forms and buttons, the stop link from the e-mail (also the RFC 8058 one-click POST
with CSRF protection on), and a fixed number of queries for the alerts page."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from offload.alerts.models import NAME_MAX, Alert
from offload.alerts.services import save_alert, send_instant_alerts, stop_alert, stop_token
from offload.core.db import db, utcnow
from tests.support.app import make_app
from tests.support.factories import PASSWORD, fresh

ALERT_LINK = "Get new gigs for this search by e-mail"


def save(member, frequency="instant", name="", **args) -> Alert:
    return save_alert(actor=member, query_args=args, frequency=frequency, name=name)


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def alert_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Alert))


def card(page: str, alert: Alert) -> str:
    """The alerts page's card for one alert (up to the next card)."""
    marker = f'<li class="card" id="alert-{alert.id}">'
    assert marker in page, f"no card for alert {alert.id}"
    start = page.index(marker)
    end = page.find('<li class="card"', start + len(marker))
    return page[start:end if end != -1 else len(page)]


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    if not match:
        return None
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html.unescape(value.group(1)) if value else ""


def checked_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*checked[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"'
                      rf'|<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"[^>]*checked',
                      page)
    return (match.group(1) or match.group(2)) if match else None


def new_alert_form(query: str, name: str = "", frequency: str = "instant") -> dict:
    return {"query": query, "name": name, "frequency": frequency}


# --- the board's link -----------------------------------------------------------------

def test_the_board_offers_an_alert_only_for_a_filtered_search(client, login, make_member):
    login(make_member())
    for unfiltered in ("/gigs", "/gigs?sort=budget", "/gigs?q=+&kind="):
        assert ALERT_LINK not in text_of(client.get(unfiltered)), unfiltered
    # a filter the board couldn't use: no alert for a search it doesn't run
    response = client.get("/gigs?q=python&kind=gift")
    assert response.status_code == 422 and ALERT_LINK not in text_of(response)

    page = text_of(client.get("/gigs?sort=budget&kind=task&q=python&utm_source=x"))
    link = re.search(rf'<a href="([^"]+)">{ALERT_LINK}</a>', page)
    assert link and link.group(1) == "/alerts/new?q=python&kind=task&sort=budget"
    new = client.get(link.group(1))
    assert new.status_code == 200
    assert "<strong>python · tasks</strong>" in text_of(new)
    assert "(sorted by highest budget)" in text_of(new)
    # the default sort goes unsaid: relevance with words, newest without
    for url in ("/alerts/new?q=python", "/alerts/new?kind=task"):
        assert "sorted by" not in text_of(client.get(url)), url
    assert "(sorted by newest)" in text_of(client.get("/alerts/new?q=python&sort=newest"))


def test_the_new_alert_page_describes_the_search_and_carries_it(client, login, make_member):
    login(make_member())
    response = client.get("/alerts/new?skills=Django,Flask&budget_min=100&category=web")
    page = text_of(response)
    assert response.status_code == 200
    assert "<strong>Web · skills: django, flask · budget from 100.00</strong>" in page
    assert input_value(page, "query") == "skills=Django%2CFlask&budget_min=100&category=web"
    assert checked_value(page, "frequency") == "instant"
    assert 'href="/gigs?category=web&skills=django,flask&budget_min=100"' in page
    assert alert_count() == 0  # a GET saves nothing


def test_saving_a_search_redirects_to_the_alerts_page(client, login, make_member):
    alice = make_member()
    login(alice)
    response = client.post("/alerts/new", data=new_alert_form(
        "sort=deadline&q=python&kind=task", name="Python tasks", frequency="daily"))
    assert response.status_code == 302 and response.headers["Location"] == "/alerts"
    [alert] = db.session.scalars(select(Alert))
    assert (alert.user_id, alert.name, alert.frequency, alert.query) == (
        alice.id, "Python tasks", "daily", "q=python&kind=task&sort=deadline")
    page = text_of(client.get("/alerts"))
    assert "Alert saved. New gigs matching this search will be sent to you." in page
    assert "Python tasks" in page and "daily digest" in card(page, alert)


def test_an_unnamed_alert_is_named_after_the_search(client, login, make_member):
    login(make_member())
    client.post("/alerts/new", data=new_alert_form("q=rust+api&kind=referral"))
    [alert] = db.session.scalars(select(Alert))
    assert alert.name == "rust api · referrals"


@pytest.mark.parametrize(("query", "message"), [
    ("", "Add words or filters to the search first"),
    ("sort=budget", "Add words or filters to the search first"),
    ("q=python&kind=gift", "“gift” isn't a kind of gig here"),
    ("q=python&due_by=soon", "Enter the date as YYYY-MM-DD"),
    ("budget_min=500&budget_max=100", "The highest budget can't be below the lowest."),
])
def test_a_search_that_cannot_be_saved_keeps_the_name_and_says_why(client, login,
                                                                   make_member, query,
                                                                   message):
    login(make_member())
    response = client.post("/alerts/new", data=new_alert_form(
        query, name="My typed name", frequency="daily"))
    page = text_of(response)
    assert response.status_code == 422
    assert message in page
    assert input_value(page, "name") == "My typed name"
    assert checked_value(page, "frequency") == "daily"
    assert alert_count() == 0


def test_saving_the_same_search_again_is_refused_on_the_form(client, login, make_member):
    alice = make_member()
    save(alice, name="First", q="python", kind="task")
    login(alice)
    response = client.post("/alerts/new", data=new_alert_form(
        "kind=task&q=python&budget_min=", name="Second try"))
    page = text_of(response)
    assert response.status_code == 422
    assert "You have an alert for this search already." in page
    assert input_value(page, "name") == "Second try"
    assert alert_count() == 1


def test_a_name_too_long_is_refused_and_kept(client, login, make_member):
    login(make_member())
    long_name = "n" * (NAME_MAX + 5)
    response = client.post("/alerts/new", data=new_alert_form("q=python", name=long_name))
    page = text_of(response)
    assert response.status_code == 422
    assert f"Keep the name under {NAME_MAX} characters." in page
    assert input_value(page, "name") == long_name
    assert input_value(page, "query") == "q=python"
    assert alert_count() == 0


def test_an_unknown_frequency_on_the_form_is_refused(client, login, make_member):
    login(make_member())
    response = client.post("/alerts/new", data=new_alert_form("q=python", name="Mine",
                                                              frequency="hourly"))
    assert response.status_code == 422
    assert input_value(text_of(response), "name") == "Mine"
    assert alert_count() == 0


def test_an_unconfirmed_member_is_sent_to_confirm_first(client, login, make_member):
    login(make_member(confirmed=False))
    for response in (client.get("/alerts/new?q=python"),
                     client.post("/alerts/new", data=new_alert_form("q=python"))):
        assert response.status_code == 302
        assert response.headers["Location"] == "/settings"
    assert "Confirm your e-mail address first" in text_of(client.get("/settings"))
    assert alert_count() == 0


def test_the_alert_pages_need_a_log_in(client, make_member):
    alert = save(make_member(), q="python")
    for response in (client.get("/alerts"), client.get("/alerts/new?q=python"),
                     client.post(f"/alerts/{alert.id}/stop")):
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert fresh(Alert, alert.id).is_running


# --- the alerts page --------------------------------------------------------------------

def test_the_alerts_page_lists_alerts_with_their_state(client, login, make_member):
    alice, bob = make_member(), make_member()
    running = save(alice, name="Python at once", q="python")
    daily = save(alice, "daily", name="Rust daily", q="rust", kind="task")
    stopped = save(alice, name="Elm stopped", skills="Elm")
    stop_alert(stopped, actor=alice)
    bobs = save(bob, name="Bob's own", q="python")
    login(alice)
    page = text_of(client.get("/alerts"))
    assert "Bob's own" not in page and f'id="alert-{bobs.id}"' not in page
    # newest first
    assert page.index("Elm stopped") < page.index("Rust daily") < page.index("Python at once")
    first, second, third = card(page, running), card(page, daily), card(page, stopped)
    assert "at once" in first and f"/alerts/{running.id}/stop" in first
    assert 'href="/gigs?q=python"' in first and "resume" not in first
    assert "daily digest" in second and "rust · tasks" in second
    assert "stopped" in third and f"/alerts/{stopped.id}/resume" in third
    assert f"/alerts/{stopped.id}/stop" not in third and "skills: elm" in third
    assert all(f"/alerts/{a.id}/delete" in page for a in (running, daily, stopped))
    assert input_value(second, f"alert-{daily.id}-name") == "Rust daily"
    assert checked_value(second, f"alert-{daily.id}-frequency") == "daily"


def test_an_empty_alerts_page_points_to_the_board(client, login, make_member):
    login(make_member())
    page = text_of(client.get("/alerts"))
    assert "No alerts yet." in page and ALERT_LINK in page


def test_renaming_and_changing_how_often(client, login, make_member):
    alice = make_member()
    alert = save(alice, name="Old", q="python")
    login(alice)
    prefix = f"alert-{alert.id}"
    response = client.post(f"/alerts/{alert.id}", data={
        f"{prefix}-name": "  New   name ", f"{prefix}-frequency": "daily"})
    assert response.status_code == 302 and response.headers["Location"] == "/alerts"
    alert = fresh(Alert, alert.id)
    assert (alert.name, alert.frequency) == ("New name", "daily")
    assert "Alert saved." in text_of(client.get("/alerts"))


@pytest.mark.parametrize(("name", "message"), [
    ("", "Give the alert a name."),
    ("   ", "The name can't be empty."),
    ("x" * (NAME_MAX + 1), f"Keep the name under {NAME_MAX} characters."),
])
def test_a_rename_with_errors_shows_the_page_again_with_what_was_typed(client, login,
                                                                       make_member, name,
                                                                       message):
    alice = make_member()
    alert = save(alice, name="Kept", q="python")
    other = save(alice, name="Untouched", q="rust")
    login(alice)
    prefix = f"alert-{alert.id}"
    response = client.post(f"/alerts/{alert.id}", data={
        f"{prefix}-name": name, f"{prefix}-frequency": "daily"})
    page = text_of(response)
    assert response.status_code == 422
    mine = card(page, alert)
    assert message in mine and "<details open>" in mine
    assert input_value(mine, f"{prefix}-name") == name
    assert checked_value(mine, f"{prefix}-frequency") == "daily"
    # the heading shows the alert as it is, the other alert's form as it is
    assert "<h2>Kept" in mine
    assert input_value(card(page, other), f"alert-{other.id}-name") == "Untouched"
    assert message not in card(page, other)
    alert = fresh(Alert, alert.id)
    assert (alert.name, alert.frequency) == ("Kept", "instant")


def test_a_rename_error_on_an_alert_past_the_first_page_still_shows_it(app, client, login,
                                                                       make_member,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    alice = make_member()
    oldest = save(alice, name="Oldest", q="oldest")
    for word in ("two", "three"):
        save(alice, q=word)
    login(alice)
    response = client.post(f"/alerts/{oldest.id}", data={f"alert-{oldest.id}-name": "",
                                                         f"alert-{oldest.id}-frequency":
                                                         "instant"})
    assert response.status_code == 422
    assert "Give the alert a name." in card(text_of(response), oldest)


def test_the_stop_resume_and_delete_buttons(client, login, make_member):
    alice = make_member()
    alert = save(alice, name="Python", q="python")
    login(alice)
    response = client.post(f"/alerts/{alert.id}/stop")
    assert response.status_code == 302 and response.headers["Location"] == "/alerts"
    assert not fresh(Alert, alert.id).is_running
    assert "“Python” is stopped. Resume it here whenever you like." in text_of(
        client.get("/alerts"))
    client.post(f"/alerts/{alert.id}/stop")  # twice: still stopped, no error
    assert not fresh(Alert, alert.id).is_running

    response = client.post(f"/alerts/{alert.id}/resume")
    assert response.status_code == 302 and fresh(Alert, alert.id).is_running
    assert "“Python” is running again, from now on." in text_of(client.get("/alerts"))

    alert_id = alert.id
    response = client.post(f"/alerts/{alert_id}/delete")
    assert response.status_code == 302 and fresh(Alert, alert_id) is None
    assert "“Python” is deleted." in text_of(client.get("/alerts"))


def test_another_members_alert_is_not_found_on_every_route(client, login, make_member):
    alice, mallory = make_member(), make_member()
    alert = save(alice, name="Alice's", q="python")
    login(mallory)
    prefix = f"alert-{alert.id}"
    for path in (f"/alerts/{alert.id}", f"/alerts/{alert.id}/stop",
                 f"/alerts/{alert.id}/resume", f"/alerts/{alert.id}/delete",
                 "/alerts/999999", "/alerts/999999/delete"):
        response = client.post(path, data={f"{prefix}-name": "Mallory's",
                                           f"{prefix}-frequency": "daily"})
        assert response.status_code == 404, path
    alert = fresh(Alert, alert.id)
    assert (alert.name, alert.frequency, alert.is_running) == ("Alice's", "instant", True)
    assert client.post(f"/alerts/{alert.id}/other").status_code == 404


# --- the stop link ----------------------------------------------------------------------

def test_the_stop_link_shows_a_button_and_changes_nothing(client, make_member, make_gig,
                                                          outbox):
    alice = make_member()
    alert = save(alice, name="Python work", q="python")
    path = f"/alerts/stop/{stop_token(alert)}"
    response = client.get(path)  # no log-in; a mail scanner follows links like this
    page = text_of(response)
    assert response.status_code == 200
    assert "Stop this alert?" in page and "“Python work”" in page
    assert f'<form method="post" action="{path}">' in page
    assert fresh(Alert, alert.id).is_running
    make_gig(title="Python gig")
    assert send_instant_alerts(now=utcnow()) == 1  # it still runs


def test_posting_the_stop_link_stops_without_a_log_in_and_again_harmlessly(client,
                                                                          make_member,
                                                                          make_gig,
                                                                          outbox):
    alice = make_member()
    alert = save(alice, name="Python work", q="python")
    path = f"/alerts/stop/{stop_token(alert)}"
    before = utcnow()
    response = client.post(path)
    assert response.status_code == 200
    assert "The alert is stopped" in text_of(response)
    stopped_at = fresh(Alert, alert.id).stopped_at
    assert before <= stopped_at <= utcnow()
    again = client.post(path)
    assert again.status_code == 200 and "“Python work”" in text_of(again)
    assert fresh(Alert, alert.id).stopped_at == stopped_at
    page = text_of(client.get(path))
    assert "The alert is already stopped" in page and "<form" not in page.split("<main")[-1]
    make_gig(title="Python gig")
    assert send_instant_alerts(now=utcnow()) == 0


@pytest.mark.parametrize("token", ["forged", "Im1lIg.aaaa.bbbb", "1"])
def test_a_forged_stop_link_is_a_friendly_not_found(client, make_member, token):
    alert = save(make_member(), q="python")
    for response in (client.get(f"/alerts/stop/{token}"), client.post(f"/alerts/stop/{token}")):
        assert response.status_code == 404
        assert "This link doesn't work any more" in text_of(response)
        assert "Log in to manage your alerts" in text_of(response)
    assert fresh(Alert, alert.id).is_running


def test_the_stop_link_of_a_deleted_alert_is_not_found(client, login, make_member):
    alice = make_member()
    alert = save(alice, q="python")
    token = stop_token(alert)
    login(alice)
    client.post(f"/alerts/{alert.id}/delete")
    response = client.post(f"/alerts/stop/{token}")
    assert response.status_code == 404
    assert "Manage your alerts" in text_of(response)  # logged in: no log-in link


# --- with CSRF protection on -----------------------------------------------------------

@pytest.fixture
def csrf_app(app, tmp_path):
    csrf_app = make_app(tmp_path, WTF_CSRF_ENABLED=True,
                        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    yield csrf_app
    with csrf_app.app_context():
        db.engine.dispose()


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_the_one_click_post_of_a_mail_client_stops_the_alert(csrf_app, make_member):
    alert = save(make_member(), q="python")
    client = csrf_app.test_client()
    response = client.post(f"/alerts/stop/{stop_token(alert)}",
                           data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert "The alert is stopped" in text_of(response)
    assert not fresh(Alert, alert.id).is_running


def test_with_csrf_on_the_stop_pages_button_works_and_the_alerts_page_needs_the_token(
        csrf_app, make_member):
    alice = make_member()
    alert, other = save(alice, q="python"), save(alice, q="rust")
    client = csrf_app.test_client()
    path = f"/alerts/stop/{stop_token(alert)}"
    token = csrf_token(text_of(client.get(path)))
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert not fresh(Alert, alert.id).is_running

    login_page = text_of(client.get("/login"))
    logged_in = client.post("/login", data={"login": alice.username, "password": PASSWORD,
                                            "csrf_token": csrf_token(login_page)})
    assert logged_in.status_code == 302
    for action in ("stop", "delete"):
        response = client.post(f"/alerts/{other.id}/{action}")
        assert response.status_code == 400, action
        assert "The form expired" in text_of(response)
    assert fresh(Alert, other.id).is_running
    page = text_of(client.get("/alerts"))
    response = client.post(f"/alerts/{other.id}/stop", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and not fresh(Alert, other.id).is_running


# --- a fixed number of queries ------------------------------------------------------------

def test_the_alerts_page_runs_the_same_queries_for_1_or_15_alerts(client, login,
                                                                  make_member,
                                                                  count_queries):
    alice = make_member()
    save(alice, q="word0", kind="task", skills="Python", budget_min="10")
    login(alice)

    def statements() -> list[str]:
        with count_queries() as seen:
            assert client.get("/alerts").status_code == 200
        return [s for s in seen if s.strip().upper() not in ("BEGIN", "BEGIN IMMEDIATE")]

    one = statements()
    for n in range(1, 15):
        save(alice, "daily" if n % 2 else "instant", q=f"word{n}", category="web")
    stop_alert(db.session.scalars(select(Alert).limit(1)).one(), actor=alice)
    fifteen = statements()
    assert len(fifteen) == len(one), "\n".join(fifteen)
    assert len(one) <= 3
    assert urlencode({"q": "word14"}) in text_of(client.get("/alerts"))
