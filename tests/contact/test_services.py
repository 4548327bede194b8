"""Writing to the admins and answering: the queue, the mail, the notifications, the log."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from offload.contact.models import ContactMessage, ContactState
from offload.contact.queries import open_messages_page
from offload.contact.services import answer_contact_message, send_contact_message
from offload.core.db import db
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.moderation.models import PUBLIC_ACTIONS, ModerationEntry
from offload.notifications.models import Notification


@pytest.fixture
def admins(make_member):
    return [make_member("ada", admin=True), make_member("adam", admin=True)]


def test_a_visitors_message_waits_in_the_queue_and_mails_every_admin(admins, outbox):
    message = send_contact_message(actor=None, name="  Vera  Visitor ",
                                   email="Vera@Example.com", subject="Joining",
                                   body="How do I get an invite?\n\nThanks.")
    assert (message.name, message.email, message.sender_id, message.state) == (
        "Vera Visitor", "vera@example.com", None, ContactState.OPEN)
    for admin in admins:
        [mail] = outbox.to(admin.email)
        assert mail.subject == "[Contact] Joining"
        assert "Vera Visitor <vera@example.com> (a visitor)" in mail.text_body
        assert "How do I get an invite?" in mail.text_body
        assert f"https://offload.example/admin/contact#contact-{message.id}" in mail.text_body
    assert [n.user_id for n in db.session.scalars(select(Notification))] == [
        a.id for a in admins]
    assert [m.id for m in open_messages_page(None).items] == [message.id]


def test_a_members_message_is_signed_with_their_account(admins, make_member):
    bob = make_member("bob", display_name="Bob Builder")
    message = send_contact_message(actor=bob, name="Someone else", email="x@evil.example",
                                   subject="A bug", body="The board is slow.")
    assert (message.sender_id, message.name, message.email) == (bob.id, "Bob Builder",
                                                                "bob@example.com")


@pytest.mark.parametrize(("fields", "field"), [
    ({"name": " "}, "name"), ({"email": "no-at-sign"}, "email"), ({"subject": ""}, "subject"),
    ({"body": "  \n "}, "body"), ({"subject": "x" * 151}, "subject")])
def test_bad_input_changes_nothing(admins, outbox, fields, field):
    values = {"name": "Vera", "email": "vera@example.com", "subject": "Hi", "body": "Hello"}
    with pytest.raises(InvalidField) as raised:
        send_contact_message(actor=None, **{**values, **fields})
    assert raised.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(ContactMessage.id)) is None and outbox.all() == []


def test_an_answer_to_a_visitor_goes_to_their_address_and_leaves_a_private_log_entry(
        admins, outbox):
    message = send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                   subject="Joining", body="How do I get an invite?")
    answer_contact_message(message, actor=admins[0],
                           reply="Ask a member you know: every member can invite.")
    db.session.rollback()
    message = db.session.get(ContactMessage, message.id)
    assert (message.state, message.answered_by_id) == (ContactState.ANSWERED, admins[0].id)
    [mail] = outbox.to("vera@example.com")
    assert "Ask a member you know: every member can invite." in mail.text_body
    [entry] = db.session.scalars(select(ModerationEntry))
    assert (entry.action, entry.subject_type, entry.subject_id, entry.actor_id) == (
        "contact_answered", "contact_message", message.id, admins[0].id)
    assert entry.action not in PUBLIC_ACTIONS  # the public log doesn't show it
    assert open_messages_page(None).items == []


def test_an_answer_to_a_member_is_a_notification_and_a_mail(admins, make_member, outbox):
    bob = make_member("bob")
    message = send_contact_message(actor=bob, subject="A bug", body="The board is slow.")
    answer_contact_message(message, actor=admins[1], reply="Fixed, thank you.")
    [note] = db.session.scalars(select(Notification).where(Notification.user_id == bob.id))
    assert note.kind == "contact_answered" and note.link == f"/contact/{message.id}"
    [mail] = outbox.to(bob.email)
    assert "Fixed, thank you." in mail.text_body
    assert f"https://offload.example/contact/{message.id}" in mail.text_body


def test_only_admins_answer_once_in_writing(admins, make_member):
    bob = make_member("bob")
    message = send_contact_message(actor=bob, subject="A bug", body="Slow.")
    with pytest.raises(NotAllowed):
        answer_contact_message(message, actor=bob, reply="I answer myself")
    with pytest.raises(InvalidField) as raised:
        answer_contact_message(message, actor=admins[0], reply="   ")
    assert raised.value.field == "reply"
    db.session.rollback()
    assert db.session.get(ContactMessage, message.id).state == ContactState.OPEN
    answer_contact_message(db.session.get(ContactMessage, message.id), actor=admins[0],
                           reply="Looking into it.")
    with pytest.raises(Conflict):  # a second admin, a moment later
        answer_contact_message(db.session.get(ContactMessage, message.id),
                               actor=admins[1], reply="Me too.")
    db.session.rollback()
    assert db.session.get(ContactMessage, message.id).reply == "Looking into it."


def test_the_queue_is_oldest_first_in_keyset_pages(app, admins, monkeypatch):
    ids = [send_contact_message(actor=None, name="V", email="v@example.com",
                                subject=f"Question {n}", body="?").id for n in range(5)]
    answer_contact_message(db.session.get(ContactMessage, ids[1]), actor=admins[0],
                           reply="Done.")
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    first = open_messages_page(None)
    assert [m.id for m in first.items] == [ids[0], ids[2]] and first.is_first
    second = open_messages_page(first.next_cursor)
    assert [m.id for m in second.items] == [ids[3], ids[4]] and not second.is_first
    assert second.next_cursor is None


def test_the_answer_to_a_visitor_carries_nothing_the_visitor_typed(admins, outbox):
    """A visitor's address is unverified: quoting them would let anyone make the site
    mail their own text (in the message, the subject or the name) to any address."""
    message = send_contact_message(
        actor=None, name="Cheap pills at spam.example", email="victim@example.com",
        subject="Visit spam.example now", body="Buy cheap pills at spam.example today!")
    answer_contact_message(message, actor=admins[0], reply="We can't help with that.")
    [mail] = outbox.to("victim@example.com")
    assert mail.subject == "Your message to Offload is answered"
    for body in (mail.text_body, mail.html_body):
        assert "We can&#39;t help with that." in body or "We can't help with that." in body
        assert "spam.example" not in body and "You wrote" not in body
        assert "answered the message you sent through our contact page on" in body
    assert "Hello there," in mail.text_body


def test_the_answer_to_a_member_quotes_their_message(admins, make_member, outbox):
    bob = make_member("bob")
    message = send_contact_message(actor=bob, subject="A bug", body="The board is slow.")
    answer_contact_message(message, actor=admins[0], reply="Fixed, thank you.")
    [mail] = outbox.to(bob.email)
    assert mail.subject == "Re: A bug"
    assert "You wrote:\n> The board is slow." in mail.text_body
    assert "The board is slow." in mail.html_body
