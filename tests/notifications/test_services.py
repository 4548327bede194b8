"""notify(), queue_email(), deliver_outbox() and the read/preferences services,
on the real database; only sending is faked (``sent`` records what would go out)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import has_request_context
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Invalid, NotAllowed
from offload.core.zones import shown_in
from offload.notifications import services
from offload.notifications.kinds import KINDS, UnknownKind
from offload.notifications.models import Channel, Notification, OutboxEmail
from offload.notifications.queries import preferences_for, unread_count
from offload.notifications.services import (
    deliver_outbox,
    mark_all_notifications_read,
    mark_notification_read,
    notify,
    queue_email,
    set_notification_preferences,
)
from tests.support.factories import count


@pytest.fixture
def sent(monkeypatch):
    """Records every e-mail handed to the mailer instead of sending it."""
    messages: list[dict] = []
    monkeypatch.setattr(services, "send_email", lambda **mail: messages.append(mail))
    return messages


def test_notify_writes_a_notification_and_an_email_linking_to_the_canonical_host(
        app, make_member, outbox, sent):
    member = make_member("ada")
    # a request that arrived with another Host must not leak it into the mail
    with app.test_request_context("/", base_url="http://evil.example"), atomic():
        notification = notify(member, "invite_accepted", title="Bob accepted your invite",
                              link="/members/bob")

    db.session.rollback()
    stored = db.session.get(Notification, notification.id)
    assert (stored.user_id, stored.kind, stored.title, stored.link, stored.is_read) == (
        member.id, "invite_accepted", "Bob accepted your invite", "/members/bob", False)
    mail = outbox.to("ada@example.com")[-1]
    assert mail.subject == "Bob accepted your invite"
    assert "https://offload.example/members/bob" in mail.text_body
    assert "https://offload.example/notifications/preferences" in mail.text_body
    assert 'href="https://offload.example/members/bob"' in mail.html_body
    assert "evil.example" not in mail.text_body + mail.html_body
    assert mail.user_id == member.id and mail.template == "notification"
    assert sent == []  # the worker sends it, never the committing code


def test_notify_without_a_request_renders_links_from_the_canonical_host(
        make_member, outbox, sent):
    member = make_member("ada")
    assert not has_request_context()  # what a cron job has: an app, no request
    notify(member, "stalling_project", title="Your project has gone quiet")
    links = outbox.links(outbox.to("ada@example.com")[-1])
    assert links and all(link.startswith("https://offload.example/") for link in links)


def test_in_app_channel_writes_no_email(make_member, outbox, sent):
    member = make_member()
    set_notification_preferences(actor=member, channels={"invite_accepted": "in_app"})
    with atomic():
        notify(member, "invite_accepted", title="Bob joined")
    notify(member, "new_message", title="A message")  # in-app by default
    assert unread_count(member.id) == 2
    assert outbox.all() == [] and sent == []


def test_off_channel_writes_nothing(make_member, outbox):
    member = make_member()
    set_notification_preferences(actor=member, channels={"invite_accepted": "off"})
    assert notify(member, "invite_accepted", title="Bob joined") is None
    assert count(Notification) == 0 and outbox.all() == []


def test_unknown_kind_and_off_site_links_raise(make_member):
    member = make_member()
    with pytest.raises(UnknownKind):
        notify(member, "invite_acepted", title="typo")
    for link in ("https://evil.example/x", "//evil.example/x", "/\t/evil.example", "members"):
        with pytest.raises(ValueError):
            notify(member, "invite_accepted", title="x", link=link)
    assert count(Notification) == 0


def test_notify_joins_the_callers_transaction(make_member, outbox, sent):
    member = make_member()
    with pytest.raises(RuntimeError), atomic():
        notify(member, "invite_accepted", title="Bob joined", link="/members/bob")
        raise RuntimeError("the change that caused it failed")
    assert count(Notification) == 0 and outbox.all() == [] and sent == []


def test_kind_specific_templates_win_over_the_generic_one(app, make_member, outbox,
                                                          monkeypatch):
    templates = DictLoader({
        "email/award.subject.txt": "  You won\n {{ gig }}  ",
        "email/award.txt": "Congratulations on {{ gig }}: {{ link_url }}",
    })
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([templates, app.jinja_env.loader]))
    member = make_member("ada")
    notify(member, "award", title="Your offer was awarded", link="/gigs/7",
           context={"gig": "Fix my CI"})
    mail = outbox.to("ada@example.com")[-1]
    assert mail.template == "award"
    assert mail.subject == "You won Fix my CI"  # one header line
    assert mail.text_body == "Congratulations on Fix my CI: https://offload.example/gigs/7"
    assert mail.html_body is None  # no award.html: text only


def test_the_worker_renders_a_notifications_letter_as_the_request_would_have(
        make_member, outbox, sent):
    member = make_member("ada", display_name="Ada Lovelace")
    notify(member, "invite_accepted", title="Bob accepted your invite", link="/members/bob")
    db.session.rollback()
    queued = db.session.scalar(select(OutboxEmail))
    # the request wrote the template and its context, and rendered nothing
    assert (queued.template, queued.subject, queued.text_body) == ("notification", "", "")
    assert json.loads(queued.context)["user"] == {"id": member.id, "name": "Ada Lovelace",
                                                  "time_zone": "UTC"}
    in_request = services._render_email("notification", member.time_zone, dict(
        user=member, kind="invite_accepted", title="Bob accepted your invite",
        about=None, link_url="https://offload.example/members/bob"))
    assert deliver_outbox().sent == 1
    assert [(m["subject"], m["text"], m["html"]) for m in sent] == [in_request]
    db.session.rollback()
    stored = db.session.get(OutboxEmail, queued.id)  # it keeps what was sent
    assert (stored.subject, stored.text_body, stored.html_body) == in_request
    assert stored.context is None and stored.is_sent


def test_long_titles_are_shortened_to_fit(make_member):
    notification = notify(make_member(), "new_message", title="word " * 100)
    assert len(notification.title) == 200 and notification.title.endswith("…")


# --- queue_email and delivery -----------------------------------------------------------

def test_queue_email_rolls_back_with_the_transaction(make_member, outbox, sent):
    member = make_member()
    with pytest.raises(LookupError), atomic():
        queue_email("Ada@Example.com", "notification", user=member, title="Hi", link_url=None)
        raise LookupError("the change that sends it failed")
    assert outbox.all() == [] and sent == []


def test_queued_email_waits_in_the_outbox_for_the_worker(make_member, outbox, sent):
    member = make_member()
    with atomic():
        queue_email("Ada@Example.COM", "notification", user=member, title="Hi", link_url=None)
    mail = outbox.all()[0]
    assert sent == [] and mail.sent_at is None  # the committing code never sends
    assert deliver_outbox().sent == 1
    mail = outbox.all()[0]
    assert mail.to_address == "ada@example.com" and mail.sent_at is not None
    assert sent == [{"to": "ada@example.com", "subject": "Hi", "text": mail.text_body,
                     "html": mail.html_body, "list_unsubscribe": None}]


def test_a_failed_delivery_keeps_the_mail_for_a_retry(make_member, outbox, monkeypatch):
    def broken(**mail):
        raise ConnectionRefusedError("smtp is down")

    monkeypatch.setattr(services, "send_email", broken)
    member = make_member()
    with atomic():
        notify(member, "invite_accepted", title="Bob joined")
    assert deliver_outbox().failed == 1
    mail = outbox.all()[0]
    assert count(Notification) == 1
    assert mail.sent_at is None and mail.attempts == 1 and mail.locked_until is None
    assert mail.last_error == "ConnectionRefusedError: smtp is down"


def test_deliver_outbox_stops_taking_letters_when_told(outbox, sent):
    for n in range(3):
        queue_email(f"m{n}@example.com", "notification", title="Hi", link_url=None)
    report = services.deliver_outbox(keep_going=lambda: len(sent) < 1)
    assert report.sent == 1 and [m["to"] for m in sent] == ["m0@example.com"]


def test_failures_back_off_exponentially_then_give_up(app, make_member, outbox,
                                                      monkeypatch):
    monkeypatch.setattr(services, "send_email", lambda **mail: 1 / 0)
    queue_email("ada@example.com", "notification", title="Hi", link_url=None)
    base, tries = app.config["OUTBOX_BACKOFF_BASE_SECONDS"], app.config["OUTBOX_MAX_ATTEMPTS"]
    now = utcnow()
    for attempt in range(1, tries + 1):
        report = deliver_outbox(now=now)
        mail = outbox.all()[0]
        assert mail.attempts == attempt
        assert mail.next_attempt_at == now + timedelta(seconds=base * 2 ** (attempt - 1))
        assert (report.failed, report.given_up) == ((0, 1) if attempt == tries else (1, 0))
        assert deliver_outbox(now=mail.next_attempt_at - timedelta(seconds=1)).failed == 0
        now = mail.next_attempt_at
    assert str(deliver_outbox(now=now + timedelta(days=30))) == "sent 0, failed 0, gave up 0"
    assert outbox.all()[0].sent_at is None  # kept, with its last error, for a human


def test_a_second_runner_never_sends_a_mail_being_sent(make_member, outbox,
                                                       monkeypatch):
    sent, inner_reports = [], []

    def slow_send(**mail):
        # while this runner is "talking to SMTP", another runner starts
        inner_reports.append(deliver_outbox())
        sent.append(mail["to"])

    monkeypatch.setattr(services, "send_email", slow_send)
    queue_email("ada@example.com", "notification", title="Hi", link_url=None)
    report = deliver_outbox()
    assert report.sent == 1 and sent == ["ada@example.com"]
    assert inner_reports[0].sent == 0
    assert deliver_outbox().sent == 0 and sent == ["ada@example.com"]


def test_a_stale_claim_is_taken_over(outbox, sent):
    queue_email("ada@example.com", "notification", title="Hi", link_url=None)
    with atomic():
        outbox.all()[0].locked_until = utcnow() + timedelta(minutes=5)  # a runner died mid-send
    assert deliver_outbox().sent == 0
    assert deliver_outbox(now=utcnow() + timedelta(minutes=6)).sent == 1


def test_deliver_outbox_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError), atomic():
        deliver_outbox()


def test_deliver_outbox_only_ids_and_limit(outbox, sent):
    for n in range(3):
        queue_email(f"m{n}@example.com", "notification", title="Hi", link_url=None)
    first, second, third = (m.id for m in outbox.all())
    assert deliver_outbox(ids=[second]).sent == 1 and [m["to"] for m in sent] == ["m1@example.com"]
    assert deliver_outbox(limit=1).sent == 1 and sent[-1]["to"] == "m0@example.com"
    assert deliver_outbox().sent == 1 and sent[-1]["to"] == "m2@example.com"


# --- reading and preferences --------------------------------------------------------------

def test_mark_read_is_only_for_the_owner(make_member):
    ada, bob = make_member(), make_member()
    notification = notify(ada, "new_message", title="Hi")
    with pytest.raises(NotAllowed):
        mark_notification_read(notification, actor=bob)
    assert unread_count(ada.id) == 1
    mark_notification_read(notification, actor=ada)
    first_read_at = db.session.get(Notification, notification.id).read_at
    mark_notification_read(notification, actor=ada)
    assert unread_count(ada.id) == 0
    assert db.session.get(Notification, notification.id).read_at == first_read_at


def test_mark_all_read_touches_only_the_actors_notifications(make_member):
    ada, bob = make_member(), make_member()
    for _ in range(3):
        notify(ada, "new_message", title="Hi")
    notify(bob, "new_message", title="Hi")
    assert mark_all_notifications_read(actor=ada) == 3
    assert (unread_count(ada.id), unread_count(bob.id)) == (0, 1)
    assert mark_all_notifications_read(actor=ada) == 0


def test_preferences_default_then_saved_choices(make_member):
    ada, bob = make_member(), make_member()
    defaults = preferences_for(ada.id)
    assert list(defaults) == list(KINDS)
    assert defaults["invite_accepted"] == Channel.EMAIL and defaults["new_message"] == "in_app"
    set_notification_preferences(actor=ada, channels={"new_offer": "off"})
    set_notification_preferences(actor=ada, channels={"new_offer": "in_app", "award": "off"})
    assert preferences_for(ada.id) == {**defaults, "new_offer": "in_app", "award": "off"}
    assert preferences_for(bob.id) == defaults


def test_preferences_refuse_unknown_kinds_and_channels(make_member):
    ada = make_member()
    with pytest.raises(UnknownKind):
        set_notification_preferences(actor=ada, channels={"spam": "off"})
    with pytest.raises(Invalid):
        set_notification_preferences(actor=ada, channels={"award": "carrier pigeon"})
    assert preferences_for(ada.id)["award"] == Channel.EMAIL


ACCOUNTABLE = ("commission_due", "case_opened", "case_resolved", "vouch_moved", "chargeback",
               "two_factor_reset")


def test_notices_a_member_is_held_to_account_by_cannot_be_turned_off(make_member):
    ada = make_member()
    assert {k for k, info in KINDS.items() if not info.can_turn_off} == set(ACCOUNTABLE)
    for kind in ACCOUNTABLE:
        with pytest.raises(Invalid, match="can't be turned off"):
            set_notification_preferences(actor=ada, channels={kind: "off", "award": "off"})
    assert preferences_for(ada.id)["award"] == Channel.EMAIL  # nothing of the call saved
    set_notification_preferences(actor=ada, channels={"case_opened": "in_app"})
    assert preferences_for(ada.id)["case_opened"] == Channel.IN_APP
    assert notify(ada, "case_opened", title="A case was opened") is not None


def test_an_old_off_row_for_such_a_kind_counts_as_in_app(make_member, outbox):
    from offload.notifications.models import NotificationPreference

    ada = make_member()
    db.session.add(NotificationPreference(user_id=ada.id, kind="commission_due", channel="off"))
    db.session.commit()
    assert preferences_for(ada.id)["commission_due"] == Channel.IN_APP
    assert notify(ada, "commission_due", title="A commission is due") is not None
    db.session.commit()
    assert outbox.to(ada.email) == []  # in the app, not by e-mail


@pytest.fixture
def timed_letter(app, monkeypatch):
    """A kind's letter that shows a time given as an ISO string (plain JSON context, so
    the worker renders it)."""
    from datetime import datetime

    templates = DictLoader({"email/award.subject.txt": "Awarded",
                            "email/award.txt": "At {{ at|instant|datetime }}"})
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([templates, app.jinja_env.loader]))
    monkeypatch.setitem(app.jinja_env.filters, "instant", datetime.fromisoformat)
    return {"at": "2026-12-03T13:05:00+00:00"}


def test_the_worker_renders_a_letter_in_its_recipients_zone(make_member, outbox, sent,
                                                             timed_letter):
    tokyo = make_member("ada", time_zone="Asia/Tokyo")
    paris = make_member("bob", time_zone="Europe/Paris")
    for member in (tokyo, paris):
        notify(member, "award", title="Awarded", link="/gigs/7", context=timed_letter)
    db.session.rollback()
    queued = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
    assert [json.loads(m.context)["user"]["time_zone"] for m in queued] == [
        "Asia/Tokyo", "Europe/Paris"]
    assert deliver_outbox().sent == 2  # one run, no request: each letter in its own zone
    assert [m["text"] for m in sent] == ["At 3 Dec 2026, 22:05 JST", "At 3 Dec 2026, 14:05 CET"]


def test_a_letter_is_rendered_for_its_recipient_not_for_the_requests_member(
        app, make_member, outbox, timed_letter):
    tokyo = make_member("ada", time_zone="Asia/Tokyo")
    with app.test_request_context("/"), shown_in("Europe/Paris"):  # in Bob's request
        queue_email(tokyo.email, "award", user=tokyo, **timed_letter)
        queue_email("visitor@example.com", "award", **timed_letter)  # not a member: default
    assert outbox.to(tokyo.email)[-1].text_body == "At 3 Dec 2026, 22:05 JST"
    assert outbox.to("visitor@example.com")[-1].text_body == "At 3 Dec 2026, 13:05 UTC"
