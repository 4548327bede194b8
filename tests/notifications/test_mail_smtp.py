"""Delivery through a real SMTP server on loopback (aiosmtpd), including an outage."""

from __future__ import annotations

from datetime import timedelta

from offload.core.db import atomic, utcnow
from offload.notifications.services import deliver_outbox, notify, queue_email
from tests.support.smtp import SMTPServer, html_part, text_part


def test_mail_arrives_with_subject_text_html_and_recipient(make_member, outbox, smtp_port):
    member = make_member("ada", email="Ada@Example.com")
    with SMTPServer(smtp_port) as smtp:
        with atomic():
            notify(member, "invite_accepted", title="Bob accepted your invite",
                   link="/members/bob")
        assert smtp.messages == []  # committing sends nothing: the worker does
        assert deliver_outbox().sent == 1
    [message] = smtp.messages
    assert message["Subject"] == "Bob accepted your invite"
    assert message["X-Envelope-To"] == "ada@example.com"
    assert "https://offload.example/members/bob" in text_part(message)
    assert 'href="https://offload.example/members/bob"' in html_part(message)
    assert outbox.all()[0].sent_at is not None


def test_an_outage_delays_mail_but_loses_none_and_sends_once(app, outbox, smtp_port,
                                                             monkeypatch):
    SMTPServer(smtp_port).start().stop()  # the server goes down
    queue_email("ada@example.com", "notification", title="Hello", link_url=None)
    t0 = utcnow()

    report = deliver_outbox(now=t0)
    assert (report.sent, report.failed, report.given_up) == (0, 1, 0)
    row = outbox.all()[0]
    retry_at = t0 + timedelta(seconds=app.config["OUTBOX_BACKOFF_BASE_SECONDS"])
    assert row.sent_at is None and row.attempts == 1 and row.next_attempt_at == retry_at
    assert row.last_error and row.locked_until is None

    with SMTPServer(smtp_port) as smtp:  # back up
        # a run before the retry time sends nothing, though the server would take it
        assert deliver_outbox(now=retry_at - timedelta(seconds=1)).sent == 0
        assert smtp.messages == []
        assert deliver_outbox(now=retry_at).sent == 1
        assert deliver_outbox(now=retry_at + timedelta(hours=1)).sent == 0
    [message] = smtp.messages
    assert message["Subject"] == "Hello" and message["X-Envelope-To"] == "ada@example.com"
    row = outbox.all()[0]
    assert row.sent_at == retry_at and row.attempts == 1 and row.locked_until is None


def test_back_to_back_runs_never_send_a_mail_twice(app, outbox, smtp_port, monkeypatch):
    with atomic():
        queue_email("ada@example.com", "notification", title="One", link_url=None)
        queue_email("bob@example.com", "notification", title="Two", link_url=None)
    with SMTPServer(smtp_port) as smtp:
        reports = [deliver_outbox(), deliver_outbox()]
    assert [r.sent for r in reports] == [2, 0]
    assert sorted(m["X-Envelope-To"] for m in smtp.messages) == ["ada@example.com",
                                                                 "bob@example.com"]


def test_a_server_that_accepts_and_never_answers_fails_the_attempt_in_time(
        app, outbox, smtp_port, monkeypatch):
    import socket
    import threading

    monkeypatch.setitem(app.config, "MAIL_TIMEOUT_SECONDS", 0.5)
    listener = socket.create_server(("127.0.0.1", smtp_port))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept_and_hang():  # no greeting, ever
        conn, _ = listener.accept()
        accepted.append(conn)
        done.wait(30)

    hanging = threading.Thread(target=accept_and_hang, daemon=True)
    hanging.start()
    try:
        queue_email("ada@example.com", "notification", title="Hello", link_url=None)
        report = deliver_outbox()  # without a timeout this waits for ever
    finally:
        done.set()
        hanging.join(5)
        for conn in accepted:
            conn.close()
        listener.close()
    assert (report.sent, report.failed) == (0, 1)
    row = outbox.all()[0]
    assert "timed out" in row.last_error.lower() and row.locked_until is None
