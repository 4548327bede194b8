"""Sending one e-mail through the configured backend ("log" or "smtp").

Only the outbox delivery job calls this; services write outbox rows instead.
"""

from __future__ import annotations

import logging
import smtplib
from email import policy

from flask import current_app
from flask_mail import Connection, Message

log = logging.getLogger("offload.mail")

# SMTP's policy, but header lines may be as long as RFC 5322 allows: folding a long
# List-Unsubscribe URL (it has no spaces to fold at) would turn it into RFC 2047
# encoded words, which mail clients don't read as a URL
_POLICY = policy.SMTP.clone(max_line_length=998)


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout (it sets none): a mail server that
    accepts and then hangs must not stall the worker, nor outlive the outbox row's claim
    (another runner would then send the letter a second time)."""

    def __init__(self, mail, timeout: float) -> None:
        super().__init__(mail)
        self.timeout = timeout

    def configure_host(self) -> smtplib.SMTP:
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=self.timeout)
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


class _Message(Message):
    def _message(self):
        msg = super()._message()
        msg.policy = _POLICY
        return msg


def send_email(*, to: str, subject: str, text: str, html: str | None,
               list_unsubscribe: str | None = None) -> None:
    """Send one message; raises on failure so the caller can retry later.

    ``list_unsubscribe``: a URL that stops this mail with one POST (RFC 8058); mail
    clients show their own "unsubscribe" for it.
    """
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "log":
        log.info("mail to %s: %s\n%s", to, subject, text)
        return
    if backend != "smtp":
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")
    headers = ({"List-Unsubscribe": f"<{list_unsubscribe}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
               if list_unsubscribe else None)
    message = _Message(subject=subject, recipients=[to], body=text, html=html,
                      sender=current_app.config["MAIL_DEFAULT_SENDER"], extra_headers=headers)
    state = current_app.extensions["mail"]
    with _TimedConnection(state, current_app.config["MAIL_TIMEOUT_SECONDS"]) as connection:
        message.send(connection)
