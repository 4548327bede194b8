"""Writing to the admins and answering: one transaction each."""

from __future__ import annotations

from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db, transactional, utcnow
from offload.core.errors import InvalidField, NotAllowed
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.transitions import move_row
from offload.moderation.services import record_moderation
from offload.notifications.services import notify, queue_email

from .models import (
    BODY_MAX,
    CONTACT_TRANSITIONS,
    EMAIL_MAX,
    NAME_MAX,
    REPLY_MAX,
    SUBJECT_MAX,
    ContactMessage,
    ContactState,
)


@transactional
def send_contact_message(*, actor: User | None, subject: str, body: str,
                         name: str = "", email: str = "") -> ContactMessage:
    """A member (``actor``) or a visitor (``actor`` None: ``name`` and ``email`` say who
    they are and where the answer goes) writes to the admins.

    Writes: the message, open, in the admins' queue. A member's name and address are
    their account's (whatever was given). Notifies: every admin who isn't suspended
    (contact_message, e-mail by default). Refuses: a blank or long field (InvalidField),
    a visitor's address without an "@" (the form checks its shape).
    """
    if actor is not None:
        name, email = actor.name, actor.email
    name = clean_text("name", name, NAME_MAX, "Your name", required=True)
    email = clean_text("email", email, EMAIL_MAX, "Your e-mail address", required=True)
    if "@" not in email.strip("@"):
        raise InvalidField("email", "Give an e-mail address we can answer to.")
    subject = clean_text("subject", subject, SUBJECT_MAX, "The subject", required=True)
    body = clean_text("body", body, BODY_MAX, "The message", required=True, multiline=True)
    message = ContactMessage(sender_id=actor.id if actor else None, name=name,
                             email=email.lower(), subject=subject, body=body)
    db.session.add(message)
    db.session.flush()
    admins = db.session.scalars(select(User).where(User.is_admin.is_(True),
                                                   User.suspended_at.is_(None))
                                .order_by(User.id))
    for admin in admins:
        notify(admin, "contact_message", title=f"{name} wrote to the admins: {subject}",
               link=site_path("admin.contact", _anchor=f"contact-{message.id}"),
               context={"message": message, "is_member": actor is not None})
    return message


@transactional
def answer_contact_message(message: ContactMessage, *, actor: User, reply: str
                           ) -> ContactMessage:
    """An admin answers an open message with a written reply.

    State: open → answered (guarded: of two admins at once, one answers).
    Writes: a moderation-log entry with the reply (private: not a public action).
    Notifies: a member sender (contact_answered: in the app, and by e-mail unless they
    chose the app only, quoting their message); a visitor by e-mail to the address they
    gave, with the admin's reply only: that address is unverified, so nothing the visitor
    typed (message, subject, name) goes to it, or anyone could make the site mail their
    text to anyone.
    Refuses: non-admins (NotAllowed); a blank or long reply (InvalidField "reply");
    a message answered already (Conflict).
    """
    if not actor.is_admin:
        raise NotAllowed("Only admins answer contact messages.")
    reply = clean_text("reply", reply, REPLY_MAX, "The answer", required=True, multiline=True)
    answered = "This message was answered a moment ago. Reload the queue."
    move_row(message, ContactState.ANSWERED, CONTACT_TRANSITIONS, not_allowed=answered,
             refused=answered, reply=reply, answered_by_id=actor.id, answered_at=utcnow())
    db.session.refresh(message)
    sender = db.session.get(User, message.sender_id) if message.sender_id else None
    record_moderation(actor=actor, action="contact_answered", subject_type="contact_message",
                      subject_id=message.id, reason=reply, subject_user=sender)
    if sender is not None:
        notify(sender, "contact_answered",
               title=f"The admins answered your message “{message.subject}”",
               link=site_path("contact.show", contact_id=message.id),
               context={"message": message, "reply": reply})
    else:  # the templates get no ``message``: see the docstring
        queue_email(message.email, "contact_answered", link_url=None, reply=reply,
                    sent_at=message.created_at)
    return message
