"""The contact queue and its answer form."""

from __future__ import annotations

from sqlalchemy import select

from offload.contact.models import ContactMessage, ContactState
from offload.contact.services import answer_contact_message, send_contact_message
from offload.core.db import db


def stored() -> list[ContactMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(ContactMessage).order_by(ContactMessage.id)))


def test_an_admin_answers_from_the_queue(client, login, make_member, outbox):
    admin = make_member("ada", admin=True)
    message = send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                   subject="Joining", body="How do I get an invite?")
    login(admin)
    html = client.get("/admin/contact").get_data(as_text=True)
    assert f'id="contact-{message.id}"' in html and "How do I get an invite?" in html
    assert "(visitor)" in html and "vera@example.com (unverified)" in html
    assert "A visitor's address is not verified" in html
    response = client.post(f"/admin/contact/{message.id}/answer", data={"reply": " "})
    assert response.status_code == 422
    assert "The answer can&#39;t be empty." in response.get_data(as_text=True)
    assert stored()[0].state == ContactState.OPEN
    response = client.post(f"/admin/contact/{message.id}/answer",
                           data={"reply": "Ask a member you know."})
    assert response.status_code == 302
    assert stored()[0].state == ContactState.ANSWERED
    assert "No contact messages are waiting." in client.get("/admin/contact").get_data(
        as_text=True)
    assert "Ask a member you know." in outbox.to("vera@example.com")[0].text_body


def test_a_too_long_answer_is_kept_with_its_error(client, login, make_member):
    admin = make_member("ada", admin=True)
    message = send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                   subject="Joining", body="?")
    login(admin)
    response = client.post(f"/admin/contact/{message.id}/answer", data={"reply": "y" * 5001})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Keep the answer under 5,000 characters." in html and "y" * 5001 in html


def test_a_second_answer_is_refused_with_a_message_on_the_page(client, login, make_member):
    admin = make_member("ada", admin=True)
    message = send_contact_message(actor=None, name="Vera", email="vera@example.com",
                                   subject="Joining", body="?")
    answer_contact_message(message, actor=make_member("adam", admin=True), reply="Done.")
    login(admin)
    response = client.post(f"/admin/contact/{message.id}/answer", data={"reply": "Me too."})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This message was answered a moment ago." in html and "Answered by" in html
    assert stored()[0].reply == "Done."
