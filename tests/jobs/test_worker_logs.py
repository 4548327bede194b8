"""The worker's log lines name the job they belong to and the outbox row they are about
(``offload.core.logs.log_context``: ``record.context``), so one letter's or one run's
lines can be found among many workers'."""

from __future__ import annotations

import logging
from datetime import timedelta

from offload.core.db import atomic
from offload.jobs import registry
from offload.jobs.worker import Worker
from offload.notifications import services as notifications
from offload.notifications.services import queue_email


def _record(caplog, logger: str, message: str) -> logging.LogRecord:
    return next(r for r in caplog.records if r.name == logger and r.getMessage() == message)


def test_the_workers_lines_carry_the_job_and_the_outbox_row(app, caplog, monkeypatch):
    monkeypatch.setattr(notifications, "send_email", lambda **mail: None)
    with atomic():
        email = queue_email("bob@example.com", "notification", title="Hi", link_url=None)
    with caplog.at_level(logging.INFO):
        Worker(app, jobs=()).run_once()
    sent = _record(caplog, "offload.mail.outbox", f"outbox email {email.id} (notification) sent")
    assert sent.context == {"job": "deliver_outbox", "outbox_id": email.id}
    summary = next(r for r in caplog.records if r.getMessage().startswith("deliver_outbox:"))
    assert summary.context == {"job": "deliver_outbox"}  # the row's id ends with it


def test_a_periodic_jobs_lines_carry_its_name(app, caplog):
    def noisy() -> str:
        logging.getLogger("offload.test.job").info("working")
        return "done"

    job = registry.Job("noisy", noisy, timedelta(minutes=1))
    with caplog.at_level(logging.INFO):
        Worker(app, jobs=(job,)).run_once()
    assert _record(caplog, "offload.test.job", "working").context == {"job": "noisy"}
    assert _record(caplog, "offload.jobs.worker", "noisy: done").context == {"job": "noisy"}


def test_a_webhooks_lines_carry_its_delivery(app, make_member, caplog):
    from offload.core.db import db
    from offload.notifications.services import notify
    from offload.webhooks.models import WebhookDelivery
    from offload.webhooks.services import create_webhook_endpoint
    from tests.support.webhooks import Receiver

    ada = make_member("ada")
    with Receiver() as receiver:
        create_webhook_endpoint(actor=ada, url=receiver.url, events=["message.received"])
        notify(ada, "new_message", title="Hello", link="/dashboard")
        db.session.commit()
        delivery = db.session.query(WebhookDelivery).one()
        with caplog.at_level(logging.INFO):
            Worker(app, jobs=()).deliver_mail()
    assert len(receiver.received) == 1
    line = next(r for r in caplog.records if r.name == "offload.webhooks"
                and r.getMessage().startswith(f"webhook {delivery.message_id} delivered"))
    assert line.context == {"job": "deliver_webhooks", "webhook_delivery_id": delivery.id}
