"""Keyword alerts: saving a board search (and each refusal, which writes nothing),
renaming and re-timing, stopping, resuming and deleting one, and the signed stop link."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from itsdangerous.timed import TimestampSigner
from sqlalchemy import func, select, update
from werkzeug.datastructures import MultiDict

from offload.accounts.models import User
from offload.alerts.models import NAME_MAX, Alert, AlertHit
from offload.alerts.services import (
    alert_for_stop_token,
    change_alert,
    delete_alert,
    filters_of,
    resume_alert,
    save_alert,
    send_instant_alerts,
    stop_alert,
    stop_token,
)
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.core.tokens import sign
from offload.gigs.filters import BoardFilters, BoardSort
from offload.gigs.models import Gig
from offload.notifications.models import OutboxEmail
from tests.support.factories import fresh


def save(member: User, frequency: str = "instant", name: str = "", **args) -> Alert:
    return save_alert(actor=member, query_args=args, frequency=frequency, name=name)


def alert_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Alert))


def hit_count(alert_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(AlertHit)
                             .where(AlertHit.alert_id == alert_id))


def mails_to(member: User) -> list[OutboxEmail]:
    db.session.rollback()
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == member.id)
                                   .order_by(OutboxEmail.id)))


def soon(seconds: float = 1) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def set_alert(alert: Alert, **values) -> None:
    db.session.execute(update(Alert).where(Alert.id == alert.id).values(**values))
    db.session.commit()


def set_gig(gig: Gig, **values) -> None:
    db.session.execute(update(Gig).where(Gig.id == gig.id).values(**values))
    db.session.commit()


# --- saving ----------------------------------------------------------------------------

def test_saves_the_board_query_string_in_its_canonical_order(make_member):
    alice = make_member()
    args = MultiDict([("sort", "budget"), ("utm_source", "newsletter"), ("skill", "Django"),
                      ("budget_max", "500.50"), ("q", "  python  api "), ("kind", "TASK"),
                      ("skills", "Flask"), ("budget_min", "100"), ("due_by", ""),
                      ("category", "backend")])
    alert = save_alert(actor=alice, query_args=args, frequency="daily")
    alert = fresh(alert)
    assert alert.query == ("q=python++api&kind=task&category=backend&skills=flask%2Cdjango"
                           "&budget_min=100&budget_max=500.50&sort=budget")
    assert alert.frequency == "daily" and alert.user_id == alice.id and alert.is_running
    assert alert.digest_sent_on is None and alert.stopped_at is None
    assert filters_of(alert) == BoardFilters(
        q="python  api", kind="task", category="backend", skills=("flask", "django"),
        budget_min_minor=10_000, budget_max_minor=50_050, sort=BoardSort.BUDGET)


def test_an_unnamed_alert_is_named_after_its_search(make_member):
    alice = make_member()
    alert = save(alice, q="python  api", kind="task", skills="Django,Flask",
                 budget_min="100", budget_max="500")
    assert fresh(alert).name == ("python api · tasks · skills: django, flask · "
                                 "budget 100.00–500.00")
    assert fresh(save(alice, due_by="2031-03-01")).name == "due by 2031-03-01"
    assert fresh(save(alice, category="data")).name == "Data & ML"
    assert fresh(save(alice, budget_max="250")).name == "budget up to 250.00"
    assert fresh(save(alice, name="   ", budget_min="75")).name == "budget from 75.00"


def test_a_given_name_is_kept_with_its_spaces_collapsed(make_member):
    alice = make_member()
    alert = save(alice, name="  Rust   work\tfor me ", q="rust")
    assert fresh(alert).name == "Rust work for me"


def test_a_long_default_name_is_cut_to_the_column(make_member):
    alice = make_member()
    words = " ".join(f"word{n}" for n in range(30))
    alert = save(alice, q=words)
    name = fresh(alert).name
    assert len(name) <= NAME_MAX and name.endswith("…") and len(name) > NAME_MAX - 10
    assert words.startswith(name[:-1]) and words[len(name) - 1] == " "  # cut at a word


def test_an_unconfirmed_member_cannot_save_an_alert(make_member):
    ada = make_member(confirmed=False)
    with pytest.raises(NotAllowed, match="Confirm your e-mail address"):
        save(ada, q="python")
    assert alert_count() == 0


@pytest.mark.parametrize("args", [{}, {"sort": "budget"}, {"q": "   "},
                                  {"q": "", "kind": "", "skills": " , "}])
def test_a_search_that_narrows_nothing_is_refused(make_member, args):
    alice = make_member()
    with pytest.raises(InvalidField, match="Add words or filters") as refused:
        save(alice, **args)
    assert refused.value.field == "q"
    assert alert_count() == 0


@pytest.mark.parametrize(("args", "field", "message"), [
    ({"q": "python", "kind": "gift"}, "kind", "isn't a kind of gig here"),
    ({"q": "python", "sort": "random"}, "sort", "isn't a sort order here"),
    ({"q": "python", "budget_min": "lots"}, "budget_min", None),
    ({"q": "python", "budget_min": "500", "budget_max": "100"}, "budget_max",
     "can't be below the lowest"),
    ({"kind": "task", "due_by": "next week"}, "due_by", "YYYY-MM-DD"),
    ({"q": "x" * 201}, "q", "at most"),
])
def test_a_filter_the_board_cannot_use_is_refused_not_left_out(make_member, args, field,
                                                               message):
    alice = make_member()
    with pytest.raises(InvalidField, match=message) as refused:
        save(alice, **args)
    assert refused.value.field == field
    assert alert_count() == 0


def test_a_search_too_long_for_the_query_column_is_refused(make_member):
    alice = make_member()
    with pytest.raises(InvalidField, match="too long to save") as refused:
        save(alice, q="é" * 200)  # 200 characters, 1,200 once in the query string
    assert refused.value.field == "q"
    assert alert_count() == 0


def test_an_unknown_frequency_is_refused(make_member):
    alice = make_member()
    for frequency in ("weekly", "", "INSTANT"):
        with pytest.raises(InvalidField) as refused:
            save(alice, frequency=frequency, q="python")
        assert refused.value.field == "frequency"
    assert alert_count() == 0


def test_a_name_longer_than_the_column_is_refused(make_member):
    alice = make_member()
    with pytest.raises(InvalidField, match="at most 80 characters") as refused:
        save(alice, name="n" * (NAME_MAX + 1), q="python")
    assert refused.value.field == "name"
    assert alert_count() == 0


def test_the_same_search_twice_is_refused_in_any_order_or_spelling(make_member):
    alice, bob = make_member(), make_member()
    first = save(alice, q="python", kind="task", skills="Django")
    same_searches = [
        {"q": "python", "kind": "task", "skills": "Django"},
        MultiDict([("skill", "django"), ("budget_min", ""), ("kind", "Task"),
                   ("q", " python "), ("sort", "relevance"), ("ref", "mail")]),
    ]  # (relevance is the default sort of a search with words)
    for args in same_searches:
        with pytest.raises(Conflict, match="alert for this search already"):
            save_alert(actor=alice, query_args=args, frequency="daily", name="Another name")
    assert alert_count() == 1 and fresh(first).name == "python · tasks · skills: django"
    # another sort is another search; another member may save the same one
    save(alice, q="python", kind="task", skills="Django", sort="deadline")
    save(alice, q="python", kind="task", skills="Django", sort="newest")
    save(bob, q="python", kind="task", skills="Django")
    assert alert_count() == 4


def test_a_member_keeps_at_most_alerts_per_member(app, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "ALERTS_PER_MEMBER", 3)
    alice, bob = make_member(), make_member()
    kept = [save(alice, q=word) for word in ("rust", "elm", "go")]
    stop_alert(kept[0], actor=alice)  # a stopped alert still counts: it can be resumed
    with pytest.raises(Conflict, match="You have 3 alerts"):
        save(alice, q="python")
    assert alert_count() == 3
    save(bob, q="python")  # the limit is per member
    delete_alert(fresh(kept[1]), actor=alice)
    save(alice, q="python")
    assert alert_count() == 4


# --- changing ----------------------------------------------------------------------------

def test_rename_and_change_how_often(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    change_alert(alert, actor=alice, frequency="daily", name="  Python   gigs ")
    alert = fresh(alert)
    assert (alert.name, alert.frequency, alert.query) == ("Python gigs", "daily", "q=python")


def test_an_empty_name_or_unknown_frequency_changes_nothing(make_member):
    alice = make_member()
    alert = save(alice, name="Mine", q="python")
    with pytest.raises(InvalidField, match="can't be empty") as refused:
        change_alert(alert, actor=alice, frequency="daily", name="  ")
    assert refused.value.field == "name"
    with pytest.raises(InvalidField) as refused:
        change_alert(fresh(alert), actor=alice, frequency="hourly", name="New name")
    assert refused.value.field == "frequency"
    alert = fresh(alert)
    assert (alert.name, alert.frequency) == ("Mine", "instant")


def test_another_members_alert_cannot_be_changed_stopped_resumed_or_deleted(make_member):
    alice, mallory = make_member(), make_member()
    alert = save(alice, name="Mine", q="python")
    with pytest.raises(NotAllowed):
        change_alert(alert, actor=mallory, frequency="daily", name="Theirs")
    with pytest.raises(NotAllowed):
        stop_alert(fresh(alert), actor=mallory)
    with pytest.raises(NotAllowed):
        delete_alert(fresh(alert), actor=mallory)
    stop_alert(fresh(alert), actor=alice)
    with pytest.raises(NotAllowed):
        resume_alert(fresh(alert), actor=mallory)
    alert = fresh(alert)
    assert (alert.name, alert.frequency, alert.is_running) == ("Mine", "instant", False)


# --- stopping, resuming, deleting ----------------------------------------------------------

def test_its_member_stops_an_alert_once(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    before = utcnow()
    assert stop_alert(alert, actor=alice) is True
    stopped_at = fresh(alert).stopped_at
    assert before <= stopped_at <= utcnow() and not fresh(alert).is_running
    assert stop_alert(fresh(alert), actor=alice) is False
    assert fresh(alert).stopped_at == stopped_at


def test_the_stop_link_path_stops_without_an_actor_and_twice_is_harmless(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    before = utcnow()
    assert stop_alert(alert_for_stop_token(stop_token(alert))) is True
    stopped_at = fresh(alert).stopped_at
    assert before <= stopped_at <= utcnow() and not fresh(alert).is_running
    assert stop_alert(alert_for_stop_token(stop_token(alert))) is False
    assert fresh(alert).stopped_at == stopped_at


def test_a_stopped_alert_sends_nothing(make_member, make_gig):
    alice = make_member()
    alert = save(alice, q="python")
    stop_alert(alert, actor=alice)
    make_gig()
    assert send_instant_alerts(now=soon()) == 0
    assert mails_to(alice) == [] and hit_count(alert.id) == 0


def test_a_resumed_alert_runs_from_now(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    stop_alert(alert, actor=alice)
    before = utcnow()
    resume_alert(fresh(alert), actor=alice)
    alert = fresh(alert)
    assert alert.is_running and alert.checked_until >= before
    # resuming a running alert changes nothing
    checked_until = alert.checked_until
    resume_alert(alert, actor=alice)
    assert fresh(alert).checked_until == checked_until


def test_a_gig_posted_after_resuming_is_sent(make_member, make_gig):
    alice = make_member()
    alert = save(alice, q="python")
    stop_alert(alert, actor=alice)
    resume_alert(fresh(alert), actor=alice)
    gig = make_gig(title="Python after the resume")
    assert send_instant_alerts(now=soon()) == 1
    [mail] = mails_to(alice)
    assert gig.title in mail.text_body


def test_gigs_published_long_before_resuming_are_not_sent(make_member, make_gig):
    alice = make_member()
    alert = save(alice, q="python")
    stop_alert(alert, actor=alice)
    hours_ago = utcnow() - timedelta(hours=3)
    set_alert(alert, created_at=hours_ago, since=hours_ago, checked_until=hours_ago,
              stopped_at=hours_ago + timedelta(minutes=5))
    gig = make_gig(title="Python while stopped")
    set_gig(gig, published_at=utcnow() - timedelta(hours=1))
    resume_alert(fresh(alert), actor=alice)
    assert send_instant_alerts(now=soon()) == 0
    assert mails_to(alice) == [] and hit_count(alert.id) == 0


def test_gigs_published_just_before_resuming_are_not_sent(make_member, make_gig):
    """resume_alert: "Start a stopped alert again, from now: what was published meanwhile
    isn't sent" -- also a gig published while stopped within ALERT_SLACK_SECONDS of the
    resume (the run's look-back for late commits must not reach behind the resume)."""
    alice = make_member()
    alert = save(alice, q="python")
    stop_alert(alert, actor=alice)
    gig = make_gig(title="Python while stopped")
    resume_alert(fresh(alert), actor=alice)
    sent = send_instant_alerts(now=soon())
    assert [m for m in mails_to(alice) if gig.title in m.text_body] == [], (
        "a gig published while the alert was stopped was sent after resuming")
    assert sent == 0 and hit_count(alert.id) == 0


def test_deleting_an_alert_deletes_its_hits(make_member, make_gig):
    alice = make_member()
    alert, other = save(alice, q="python"), save(alice, q="gig")
    make_gig()
    assert send_instant_alerts(now=soon()) == 2
    alert_id = alert.id
    assert hit_count(alert_id) == 1
    delete_alert(fresh(alert), actor=alice)
    db.session.rollback()
    assert db.session.get(Alert, alert_id) is None
    assert hit_count(alert_id) == 0
    assert hit_count(other.id) == 1  # the other alert keeps its own


# --- the stop link -------------------------------------------------------------------------

def test_a_stop_token_names_its_alert(make_member):
    alice = make_member()
    alert, other = save(alice, q="python"), save(alice, q="rust")
    assert alert_for_stop_token(stop_token(alert)).id == alert.id
    assert alert_for_stop_token(stop_token(other)).id == other.id
    assert stop_token(alert) != stop_token(other)


def test_a_forged_or_mangled_token_names_no_alert(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    token = stop_token(alert)
    payload, rest = token.split(".", 1)
    forged = [
        "", "garbage", token[:-2], token + "x",
        # another alert id with the original signature
        sign("alert-stop", alert.id + 1).split(".", 1)[0] + "." + rest,
    ]
    for bad in forged:
        assert alert_for_stop_token(bad) is None, bad


def test_a_token_signed_for_another_purpose_or_key_names_no_alert(app, make_member,
                                                                  monkeypatch):
    alice = make_member()
    alert = save(alice, q="python")
    for purpose in ("confirm-email", "reset-password", "alert", "alert-stop "):
        assert alert_for_stop_token(sign(purpose, alert.id)) is None
    assert alert_for_stop_token(sign("alert-stop", str(alert.id))) is None  # not an id
    token = stop_token(alert)
    monkeypatch.setitem(app.config, "SECRET_KEY", "another-secret")
    assert alert_for_stop_token(token) is None


def test_a_stop_token_expires_after_alert_stop_link_days(app, make_member, monkeypatch):
    alice = make_member()
    alert = save(alice, q="python")
    token = stop_token(alert)
    two_days_later = int(time.time()) + 2 * 86400
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: two_days_later)
    monkeypatch.setitem(app.config, "ALERT_STOP_LINK_DAYS", 3)
    assert alert_for_stop_token(token).id == alert.id
    monkeypatch.setitem(app.config, "ALERT_STOP_LINK_DAYS", 1)
    assert alert_for_stop_token(token) is None


def test_the_token_of_a_deleted_alert_names_no_alert(make_member):
    alice = make_member()
    alert = save(alice, q="python")
    token = stop_token(alert)
    delete_alert(alert, actor=alice)
    assert alert_for_stop_token(token) is None


def test_the_stop_link_of_a_deleted_alert_never_names_a_later_alert(make_member):
    """The token signs only the alert's id; a database that hands out a deleted row's id
    again (SQLite does for the highest one) must not let the old link stop another
    member's new alert."""
    alice, bob = make_member(), make_member()
    alert = save(alice, q="python")
    token = stop_token(alert)
    delete_alert(alert, actor=alice)
    later = save(bob, q="rust")
    found = alert_for_stop_token(token)
    assert found is None or found.id != later.id, (
        f"alice's old stop link names bob's alert {later.id}")
