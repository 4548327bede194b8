"""Alert mail through a real SMTP server on loopback: the one-click unsubscribe headers
(RFC 2369 / RFC 8058) name the alert's stop link; other mail carries none."""

from __future__ import annotations

import re
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message

from offload.alerts.models import Alert
from offload.alerts.services import alert_for_stop_token, save_alert, send_instant_alerts
from offload.core.db import atomic, db, utcnow
from offload.notifications.services import deliver_outbox, notify
from tests.support.smtp import SMTPServer, html_part, text_part


def header(message: Message, name: str) -> str | None:
    """A header as a mail client reads it: unfolded (RFC 5322) and decoded (RFC 2047)."""
    raw = message[name]
    if raw is None:
        return None
    return str(make_header(decode_header(re.sub(r"\r?\n(?=[ \t])", "", raw)))).strip()


def test_an_alert_mail_arrives_with_the_one_click_unsubscribe_headers(
        app, client, make_member, make_gig, outbox, smtp_port):
    alice, bob = make_member("alice"), make_member("bob")
    alert = save_alert(actor=alice, query_args={"q": "python"}, frequency="instant",
                       name="Python work")
    gig = make_gig(bob, title="A Python job")
    with SMTPServer(smtp_port) as smtp:
        assert send_instant_alerts(now=utcnow() + timedelta(seconds=1)) == 1
        assert deliver_outbox().sent == 1  # what the mail worker does next
        message = smtp.wait_for("alice@example.com")
    assert len(smtp.messages) == 1
    assert header(message, "Subject") == "A new gig matches your alert “Python work”"
    stop_url = outbox.all()[-1].list_unsubscribe  # the stop link, named on the row too
    assert alert_for_stop_token(stop_url.rsplit("/", 1)[1]).id == alert.id
    assert header(message, "List-Unsubscribe") == f"<{stop_url}>"
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    # as sent: one line, the URL as it is (mail clients don't decode RFC 2047 words there)
    assert message["List-Unsubscribe"] == f"<{stop_url}>"
    assert f"https://offload.example/gigs/{gig.id}" in text_part(message)
    assert stop_url in text_part(message) and f'href="{stop_url}"' in html_part(message)
    assert outbox.all()[-1].sent_at is not None

    # what a mail client does with those headers: one POST to the URL, nothing else
    path = header(message, "List-Unsubscribe").strip("<>").removeprefix(
        "https://offload.example")
    response = client.post(path, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    db.session.rollback()
    assert not db.session.get(Alert, alert.id).is_running


def test_the_outbox_job_sends_the_headers_stored_with_the_mail(app, make_member, make_gig,
                                                               outbox, smtp_port,
                                                               monkeypatch):
    alice = make_member("alice")
    alert = save_alert(actor=alice, query_args={"kind": "task"}, frequency="instant")
    make_gig(kind="task", title="A task")
    send_instant_alerts(now=utcnow() + timedelta(seconds=1))
    [row] = outbox.all()
    assert row.sent_at is None
    assert alert_for_stop_token(row.list_unsubscribe.rsplit("/", 1)[1]).id == alert.id
    with SMTPServer(smtp_port) as smtp:
        assert deliver_outbox().sent == 1
    [message] = smtp.messages
    assert header(message, "List-Unsubscribe") == f"<{row.list_unsubscribe}>"
    assert header(message, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"


def test_an_ordinary_notification_mail_has_no_unsubscribe_headers(make_member, smtp_port):
    member = make_member("ada")
    with SMTPServer(smtp_port) as smtp:
        with atomic():
            notify(member, "invite_accepted", title="Bob accepted your invite",
                   link="/members/bob")
        deliver_outbox()
    [message] = smtp.messages
    assert header(message, "Subject") == "Bob accepted your invite"
    assert header(message, "List-Unsubscribe") is None
    assert header(message, "List-Unsubscribe-Post") is None
