"""Sending one e-mail through the configured backend ("log" or "smtp").

Only the outbox delivery job calls this; services write outbox rows instead.
"""

from __future__ import annotations

import logging
from email import policy

from flask import current_app
from flask_mail import Message

from .extensions import mail

log = logging.getLogger("offload.mail")

# SMTP's policy, but header lines may be as long as RFC 5322 allows: folding a long
# List-Unsubscribe URL (it has no spaces to fold at) would turn it into RFC 2047
# encoded words, which mail clients don't read as a URL
_POLICY = policy.SMTP.clone(max_line_length=998)


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
    mail.send(message)
