"""The alert jobs: instant alerts (each new matching gig told once, with the slack for
late commits) and daily digests (one a day from ALERT_DIGEST_HOUR), who gets nothing,
what the message says, and concurrent runners sending one message per alert."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select, update

from offload.accounts.models import User
from offload.alerts import services
from offload.alerts.models import Alert, AlertHit
from offload.alerts.services import (
    alert_for_stop_token,
    save_alert,
    send_daily_digests,
    send_instant_alerts,
    stop_alert,
)
from offload.core.db import db, utcnow
from offload.gigs.models import Gig
from offload.gigs.services import cancel_gig
from offload.notifications.models import Notification, OutboxEmail
from offload.notifications.services import set_notification_preferences
from offload.offers.services import award_offer, make_offer
from tests.support.factories import describe, fresh, race

STOP_URL = "https://offload.example/alerts/stop/"


def save(member: User, frequency: str = "instant", name: str = "", **args) -> Alert:
    return save_alert(actor=member, query_args=args, frequency=frequency, name=name)


def soon(seconds: float = 1) -> datetime:
    return utcnow() + timedelta(seconds=seconds)


def day(n: int, hour: int, minute: int = 0) -> datetime:
    """``n`` days from today (UTC) at ``hour:minute``."""
    return datetime.combine(utcnow().date() + timedelta(days=n), time(hour, minute),
                            tzinfo=UTC)


def set_gig(gig: Gig, **values) -> None:
    db.session.execute(update(Gig).where(Gig.id == gig.id).values(**values))
    db.session.commit()


def set_alert(alert: Alert, **values) -> None:
    db.session.execute(update(Alert).where(Alert.id == alert.id).values(**values))
    db.session.commit()


def set_member(member: User, **values) -> None:
    db.session.execute(update(User).where(User.id == member.id).values(**values))
    db.session.commit()


def alert_mails(outbox, member: User) -> list[OutboxEmail]:
    db.session.rollback()
    return [m for m in outbox.to(member.email) if m.template == "keyword_alert"]


def told(alert: Alert) -> set[int]:
    """The gigs an alert has told its member about."""
    db.session.rollback()
    return set(db.session.scalars(select(AlertHit.gig_id).where(AlertHit.alert_id == alert.id)))


def stop_url_of(mail: OutboxEmail, alert: Alert) -> str:
    """The mail's stop link (its List-Unsubscribe URL), checked to name ``alert``."""
    url = mail.list_unsubscribe
    assert url and url.startswith(STOP_URL)
    assert alert_for_stop_token(url.removeprefix(STOP_URL)).id == alert.id
    return url


def gig_url(gig: Gig) -> str:
    return f"https://offload.example/gigs/{gig.id}"


def listed(mail: OutboxEmail) -> list[str]:
    """The gig links a message lists, in order."""
    return [link for link in mail.text_body.split()
            if link.startswith("https://offload.example/gigs/") and "?" not in link]


# --- instant alerts ---------------------------------------------------------------------

def test_a_new_matching_gig_is_told_once(make_member, make_gig, outbox):
    alice, bob = make_member("alice"), make_member("bob")
    alert = save(alice, name="Python work", q="python", kind="task")
    gig = make_gig(bob, kind="task", title="Build a Python API")
    assert send_instant_alerts(now=soon()) == 1
    [mail] = alert_mails(outbox, alice)
    stop_url = stop_url_of(mail, alert)
    assert mail.subject == "A new gig matches your alert “Python work”"
    assert "Build a Python API" in mail.text_body and gig_url(gig) in mail.text_body
    assert listed(mail) == [gig_url(gig)]
    assert "https://offload.example/gigs?q=python&kind=task" in mail.text_body
    assert stop_url in mail.text_body
    assert f'href="{gig_url(gig)}"' in mail.html_body
    assert f'href="{stop_url}"' in mail.html_body
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == alice.id))
    assert note.kind == "keyword_alert" and note.link == "/gigs?q=python&kind=task"
    assert told(alert) == {gig.id}

    # the next runs (the gig is still inside their look-back) tell nothing again
    assert send_instant_alerts(now=soon(2)) == 0
    assert send_instant_alerts(now=soon(60)) == 0
    assert len(alert_mails(outbox, alice)) == 1


def test_only_matching_gigs_are_told(make_member, make_gig, outbox):
    alice, bob = make_member(), make_member()
    alert = save(alice, q="rust", kind="task", budget_min="400")
    make_gig(bob, kind="referral", title="Rust referral")  # another kind
    make_gig(bob, kind="task", title="Go service")  # other words
    make_gig(bob, kind="task", title="Rust but cheap", budget_min_minor=100,
             budget_max_minor=300_00)  # below the budget
    match = make_gig(bob, kind="task", title="Rust service")
    assert send_instant_alerts(now=soon()) == 1
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(match)]
    assert told(alert) == {match.id}


def test_gigs_published_before_the_alert_was_saved_are_not_told(make_member, make_gig,
                                                                outbox):
    alice, bob = make_member(), make_member()
    make_gig(bob, title="Python from before")
    alert = save(alice, q="python")
    assert send_instant_alerts(now=soon()) == 0
    assert alert_mails(outbox, alice) == [] and told(alert) == set()


def test_the_members_own_gigs_are_not_told(make_member, make_gig, outbox):
    alice, bob = make_member(), make_member()
    alert = save(alice, q="python")
    make_gig(alice, title="Alice's own Python gig")
    assert send_instant_alerts(now=soon()) == 0
    theirs = make_gig(bob, title="Bob's Python gig")
    assert send_instant_alerts(now=soon(2)) == 1
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(theirs)] and "Alice's own" not in mail.text_body
    assert told(alert) == {theirs.id}


def test_the_members_own_gigs_do_not_crowd_out_anothers(app, make_member, make_gig,
                                                        outbox, monkeypatch):
    """The run asks for ALERT_GIGS_PER_MESSAGE + 1 matches and only then drops the
    member's own: their own new gigs must not take the places of others' gigs, which
    the next run (its window moved on) would never see again."""
    monkeypatch.setitem(app.config, "ALERT_GIGS_PER_MESSAGE", 2)
    alice, bob = make_member(), make_member()
    alert = save(alice, q="python")
    theirs = make_gig(bob, title="Bob's Python gig")
    for n in range(3):
        make_gig(alice, title=f"Alice's own Python gig {n}")
    send_instant_alerts(now=soon())
    send_instant_alerts(now=soon(2))
    assert told(alert) == {theirs.id}, "bob's gig was never told"
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(theirs)]


def test_gigs_closed_before_the_run_are_not_told(make_member, make_gig, outbox):
    alice, bob, carol = make_member(), make_member(), make_member()
    alert = save(alice, q="python")
    cancelled = make_gig(bob, title="Python, cancelled")
    cancel_gig(cancelled, actor=bob)
    awarded = make_gig(bob, title="Python, awarded")
    offer = make_offer(awarded, actor=carol, price_minor=400_00, days_to_deliver=10,
                       cover_letter="Done it before.", fee_kind=None,
                       idempotency_key="alerts-award-1")
    award_offer(offer, actor=bob)
    assert db.session.get(Gig, awarded.id).state == "awarded"
    still_open = make_gig(bob, title="Python, still open")
    assert send_instant_alerts(now=soon()) == 1
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(still_open)]
    assert told(alert) == {still_open.id}


def test_a_gig_committed_after_a_run_but_published_before_it_is_told_next_run_once(
        app, make_member, make_gig, outbox):
    """The slack: a gig whose transaction set published_at before the previous run but
    committed after it is still found by the next run (ALERT_SLACK_SECONDS), once."""
    alice, bob = make_member(), make_member()
    alert = save(alice, q="python")
    an_hour_ago = utcnow() - timedelta(hours=1)  # saved long before the runs
    set_alert(alert, created_at=an_hour_ago, since=an_hour_ago, checked_until=an_hour_ago)
    first_run = soon()
    assert send_instant_alerts(now=first_run) == 0
    assert fresh(alert).checked_until == first_run
    late = make_gig(bob, title="Python, committed late")
    slack = app.config["ALERT_SLACK_SECONDS"]
    set_gig(late, published_at=first_run - timedelta(seconds=slack - 5))
    assert send_instant_alerts(now=first_run + timedelta(seconds=60)) == 1
    assert send_instant_alerts(now=first_run + timedelta(seconds=120)) == 0
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(late)]
    assert told(alert) == {late.id}


def test_gigs_told_last_run_do_not_crowd_a_late_commit_out(app, make_member, make_gig,
                                                           outbox, monkeypatch):
    """Gigs the previous run told about are still inside the look-back; they must not
    take the message's places from a gig committed late (it is never looked at again)."""
    monkeypatch.setitem(app.config, "ALERT_GIGS_PER_MESSAGE", 1)
    alice, bob = make_member(), make_member()
    alert = save(alice, q="python")
    early = make_gig(bob, title="Python, on time")
    first_run = soon(60)
    assert send_instant_alerts(now=first_run) == 1
    late = make_gig(bob, title="Python, committed late")
    # published before ``early`` by the clock, committed after the first run
    set_gig(late, published_at=db.session.get(Gig, early.id).published_at
            - timedelta(microseconds=1))
    send_instant_alerts(now=first_run + timedelta(seconds=60))
    send_instant_alerts(now=first_run + timedelta(seconds=120))
    assert told(alert) == {early.id, late.id}, "the late gig was never told"
    assert [listed(m) for m in alert_mails(outbox, alice)] == [[gig_url(early)],
                                                               [gig_url(late)]]


def test_more_matches_than_fit_send_one_message_that_says_so(app, make_member, make_gig,
                                                             outbox, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_GIGS_PER_MESSAGE", 3)
    alice, bob = make_member(), make_member()
    alert = save(alice, name="Py", q="python")
    gigs = [make_gig(bob, title=f"Python gig {n}") for n in range(5)]
    assert send_instant_alerts(now=soon()) == 1
    [mail] = alert_mails(outbox, alice)
    assert mail.subject == "5 new gigs match your alert “Py”"
    newest_three = [gig_url(g) for g in reversed(gigs[2:])]
    assert listed(mail) == newest_three
    assert all(f"Python gig {n}" in mail.text_body for n in (2, 3, 4))
    assert "Python gig 0" not in mail.text_body and "Python gig 1" not in mail.text_body
    assert "2 more gigs matched than fit in one e-mail" in mail.text_body
    assert "https://offload.example/gigs?q=python" in mail.text_body
    assert told(alert) == {g.id for g in gigs}  # the rest are on the board, linked
    assert send_instant_alerts(now=soon(2)) == 0  # one message for the lot


def test_a_message_that_lists_every_new_gig_does_not_say_there_are_more(
        app, make_member, make_gig, outbox, monkeypatch):
    """``more`` must count new gigs only, not those told by the previous run that are
    still inside the look-back."""
    monkeypatch.setitem(app.config, "ALERT_GIGS_PER_MESSAGE", 2)
    alice, bob = make_member(), make_member()
    save(alice, name="Py", q="python")
    make_gig(bob, title="Python gig one")
    assert send_instant_alerts(now=soon()) == 1
    make_gig(bob, title="Python gig two")
    make_gig(bob, title="Python gig three")
    assert send_instant_alerts(now=soon(2)) == 1
    first, second = alert_mails(outbox, alice)
    assert first.subject == "A new gig matches your alert “Py”"
    assert len(listed(second)) == 2
    assert "More gigs matched" not in second.text_body
    assert second.subject == "2 new gigs match your alert “Py”"


def test_stopped_alerts_and_unconfirmed_or_suspended_members_get_nothing(
        make_member, make_gig, outbox):
    stopped, unconfirmed, suspended, ok = (make_member() for _ in range(4))
    alerts = {m.id: save(m, q="python") for m in (stopped, unconfirmed, suspended, ok)}
    stop_alert(alerts[stopped.id], actor=stopped)
    set_member(unconfirmed, email_confirmed_at=None)
    set_member(suspended, suspended_at=utcnow())
    make_gig(title="Python gig")
    assert send_instant_alerts(now=soon()) == 1
    for member in (stopped, unconfirmed, suspended):
        assert alert_mails(outbox, member) == [] and told(alerts[member.id]) == set()
    assert len(alert_mails(outbox, ok)) == 1


def test_a_member_who_turned_alerts_off_or_to_in_app_gets_no_mail(make_member, make_gig,
                                                                  outbox):
    off, in_app = make_member(), make_member()
    set_notification_preferences(actor=off, channels={"keyword_alert": "off"})
    set_notification_preferences(actor=in_app, channels={"keyword_alert": "in_app"})
    save(off, q="python")
    save(in_app, name="Py", q="python")
    make_gig(title="Python gig")
    send_instant_alerts(now=soon())
    assert alert_mails(outbox, off) == [] and alert_mails(outbox, in_app) == []
    notes = {n.user_id: n for n in db.session.scalars(
        select(Notification).where(Notification.kind == "keyword_alert"))}
    assert set(notes) == {in_app.id}
    assert notes[in_app.id].title == "A new gig matches your alert “Py”"
    assert notes[in_app.id].link == "/gigs?q=python"


def test_each_alert_of_a_member_sends_its_own_message(make_member, make_gig, outbox):
    alice = make_member()
    save(alice, name="Python", q="python")
    save(alice, name="Tasks", kind="task")
    save(alice, name="Rust", q="rust")
    make_gig(kind="task", title="A Python task")
    assert send_instant_alerts(now=soon()) == 2
    assert sorted(m.subject for m in alert_mails(outbox, alice)) == [
        "A new gig matches your alert “Python”", "A new gig matches your alert “Tasks”"]


def test_an_alert_whose_run_fails_does_not_hold_up_the_others(make_member, make_gig,
                                                             outbox, monkeypatch):
    """"The jobs run one transaction per alert, so a failure on one alert leaves the
    others sent": the failing alert's claim rolls back, so it fails again every run,
    and it must not keep the alerts after it from ever being sent."""
    broken_member, alice = make_member(), make_member()
    broken = save(broken_member, q="python")  # the lowest id: run first
    save(alice, q="python")
    make_gig(title="Python gig")
    real_filters_of = services.filters_of
    broken_id = broken.id

    def failing_filters_of(alert):
        if alert.id == broken_id:
            raise RuntimeError("this alert can't be run")
        return real_filters_of(alert)

    monkeypatch.setattr(services, "filters_of", failing_filters_of)
    for n in (1, 2):
        # the job may report the failure; the other alerts must still go
        with contextlib.suppress(RuntimeError):
            send_instant_alerts(now=soon(n))
    assert len(alert_mails(outbox, alice)) == 1, "alice's alert was held up by another"
    assert alert_mails(outbox, broken_member) == []


# --- daily digests ----------------------------------------------------------------------

def test_no_digest_before_the_digest_hour(app, make_member, make_gig, outbox):
    alice = make_member()
    alert = save(alice, "daily", q="python")
    make_gig(title="Python gig")
    hour = app.config["ALERT_DIGEST_HOUR"]
    assert send_daily_digests(now=day(1, hour - 1, 59)) == 0
    assert alert_mails(outbox, alice) == [] and fresh(alert).digest_sent_on is None
    assert send_daily_digests(now=day(1, hour)) == 1
    [mail] = alert_mails(outbox, alice)
    assert "Today's new gigs for your alert" in mail.text_body
    assert fresh(alert).digest_sent_on == day(1, hour).date()


def test_one_digest_a_day_however_often_the_job_runs(app, make_member, make_gig, outbox):
    alice, bob = make_member(), make_member()
    hour = app.config["ALERT_DIGEST_HOUR"]
    alert = save(alice, "daily", name="Py daily", q="python")
    first = make_gig(bob, title="Python gig first")
    second = make_gig(bob, title="Python gig second")
    set_gig(first, published_at=day(1, hour - 2))
    set_gig(second, published_at=day(1, hour - 1))
    assert send_daily_digests(now=day(1, hour)) == 1
    [mail] = alert_mails(outbox, alice)
    assert mail.subject == "2 new gigs match your alert “Py daily”"
    assert listed(mail) == [gig_url(second), gig_url(first)]
    assert stop_url_of(mail, alert) in mail.text_body

    # later that day: new gigs arrive between runs, yet no second digest
    arrivals = []
    for at in (day(1, hour, 30), day(1, 12), day(1, 23, 58)):
        gig = make_gig(bob, title=f"Python gig at {at:%H:%M}")
        set_gig(gig, published_at=at - timedelta(minutes=1))
        arrivals.append(gig)
        assert send_daily_digests(now=at) == 0
    assert len(alert_mails(outbox, alice)) == 1

    # the next day's digest brings them, and only them
    assert send_daily_digests(now=day(2, hour - 1)) == 0
    assert send_daily_digests(now=day(2, hour, 5)) == 1
    assert send_daily_digests(now=day(2, 20)) == 0
    _, digest = alert_mails(outbox, alice)
    assert listed(digest) == [gig_url(g) for g in reversed(arrivals)]
    assert told(alert) == {first.id, second.id, *(g.id for g in arrivals)}


def test_no_digest_when_nothing_is_new(app, make_member, make_gig, outbox):
    alice = make_member()
    hour = app.config["ALERT_DIGEST_HOUR"]
    alert = save(alice, "daily", q="python")
    make_gig(title="A Rust gig", skill_names=["Rust"])
    assert send_daily_digests(now=day(1, hour)) == 0
    assert alert_mails(outbox, alice) == []
    assert fresh(alert).digest_sent_on == day(1, hour).date()  # the day's run is done
    gig = make_gig(title="Python gig")
    set_gig(gig, published_at=day(1, hour + 1))
    assert send_daily_digests(now=day(1, hour + 2)) == 0
    assert send_daily_digests(now=day(2, hour)) == 1
    [mail] = alert_mails(outbox, alice)
    assert listed(mail) == [gig_url(gig)]


def test_the_two_jobs_leave_each_others_alerts_alone(app, make_member, make_gig, outbox):
    instant_member, daily_member = make_member(), make_member()
    instant = save(instant_member, "instant", q="python")
    daily = save(daily_member, "daily", q="python")
    gig = make_gig(title="Python gig")
    before = fresh(instant).checked_until
    assert send_daily_digests(now=day(1, app.config["ALERT_DIGEST_HOUR"])) == 1
    assert (fresh(instant).checked_until, fresh(instant).digest_sent_on) == (before, None)
    assert told(instant) == set() and alert_mails(outbox, instant_member) == []

    daily_state = (fresh(daily).checked_until, fresh(daily).digest_sent_on)
    assert send_instant_alerts(now=soon()) == 1
    assert (fresh(daily).checked_until, fresh(daily).digest_sent_on) == daily_state
    assert told(daily) == {gig.id} and told(instant) == {gig.id}
    assert len(alert_mails(outbox, daily_member)) == 1
    assert len(alert_mails(outbox, instant_member)) == 1


def test_a_stopped_daily_alert_or_suspended_member_gets_no_digest(app, make_member,
                                                                   make_gig, outbox):
    stopped, suspended = make_member(), make_member()
    stop_alert(save(stopped, "daily", q="python"), actor=stopped)
    save(suspended, "daily", q="python")
    set_member(suspended, suspended_at=utcnow())
    make_gig(title="Python gig")
    assert send_daily_digests(now=day(1, app.config["ALERT_DIGEST_HOUR"])) == 0
    assert alert_mails(outbox, stopped) == [] and alert_mails(outbox, suspended) == []


# --- concurrent runners -----------------------------------------------------------------

def alert_mail_counts() -> dict[int, int]:
    db.session.rollback()
    return dict(db.session.execute(
        select(OutboxEmail.user_id, func.count()).where(OutboxEmail.template == "keyword_alert")
        .group_by(OutboxEmail.user_id)).all())


def test_runners_of_the_instant_job_at_once_send_one_message_per_alert(app, make_member,
                                                                       make_gig):
    members = [make_member() for _ in range(4)]
    for member in members:
        save(member, q="python")
        save(member, kind="referral")
    poster = make_member()
    for round_ in range(3):
        make_gig(poster, title=f"Python gig {round_}")
        now = soon(round_ + 1)
        results, errors = race(app, 4, lambda _i, now=now: send_instant_alerts(now=now))
        assert errors == [], describe(errors)
        assert sum(results) == 8, results
    assert alert_mail_counts() == {m.id: 6 for m in members}
    assert db.session.scalar(select(func.count()).select_from(AlertHit)) == 8 * 3


def test_runners_of_the_digest_job_at_once_send_one_digest_per_alert(app, make_member,
                                                                     make_gig):
    members = [make_member() for _ in range(4)]
    for member in members:
        save(member, "daily", q="python")
        save(member, "daily", category="backend")
    make_gig(title="Python gig")
    hour = app.config["ALERT_DIGEST_HOUR"]
    for n in (1, 2):
        at = day(n, hour)
        results, errors = race(app, 4, lambda _i, at=at: send_daily_digests(now=at))
        assert errors == [], describe(errors)
        assert sum(results) == 8, results
        # a new gig that day, and the runners at once again: it waits for tomorrow
        set_gig(make_gig(title=f"Python gig on day {n}"), published_at=at + timedelta(hours=1))
        results, errors = race(app, 4, lambda _i, at=at: send_daily_digests(
            now=at + timedelta(hours=3)))
        assert errors == [] and sum(results) == 0, (results, describe(errors))
    assert alert_mail_counts() == {m.id: 4 for m in members}
