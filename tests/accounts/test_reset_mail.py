"""A reset request never waits for the mail server: a real SMTP server (aiosmtpd) that
holds every message until told, and the mail worker that delivers once it can."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from offload.core.db import db
from offload.core.extensions import mail
from offload.jobs.worker import Worker
from tests.support.smtp import Collector, SMTPServer, first_link, free_port


class HeldCollector(Collector):
    """Accepts a message only once ``release`` is set (an SMTP server that hangs)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.holding.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def held_smtp(app, monkeypatch):
    port = free_port()
    for key, value in {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                       "MAIL_SUPPRESS_SEND": False}.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "mail", mail.init_mail(app.config, testing=True))
    server = SMTPServer(port)
    server.collector = server.controller.handler = HeldCollector()
    with server:
        yield server
        server.collector.release.set()


def test_the_reset_answers_while_smtp_hangs_and_the_worker_delivers_later(
        app, client, make_member, held_smtp, outbox):
    make_member("carol")
    started = time.monotonic()
    response = client.post("/reset", data={"email": "carol@example.com"})
    assert response.status_code == 302
    assert time.monotonic() - started < 2  # the server holds mail for 30 s

    worker = Worker(app, jobs=())

    def work():
        with app.app_context():
            worker.run_once()
            db.session.remove()

    thread = threading.Thread(target=work)
    thread.start()
    assert held_smtp.collector.holding.wait(10)  # the worker, not the request, waits
    assert held_smtp.messages == [] and thread.is_alive()
    held_smtp.collector.release.set()
    thread.join(30)
    message = held_smtp.wait_for("carol@example.com", "password")
    assert "/reset/" in first_link(message)
    db.session.rollback()
    assert outbox.to("carol@example.com")[0].sent_at is not None
