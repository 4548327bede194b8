"""The contact page (visitors and members), the honeypot, the rate limit, a member's
page of their message (the admins' queue is tested in tests/admin)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.contact.models import ContactMessage
from offload.contact.services import answer_contact_message, send_contact_message
from offload.core.db import db
from tests.support.app import make_app

VISITOR = {"name": "Vera Visitor", "email": "vera@example.com", "subject": "Joining",
           "body": "How do I get an invite?", "website": ""}


def stored() -> list[ContactMessage]:
    db.session.rollback()
    return list(db.session.scalars(select(ContactMessage).order_by(ContactMessage.id)))


def test_a_visitor_sends_a_message(client, make_member, outbox):
    admin = make_member("ada", admin=True)
    html = client.get("/contact").get_data(as_text=True)
    assert 'name="email"' in html and 'name="name"' in html
    response = client.post("/contact", data=VISITOR)
    assert response.status_code == 302 and response.headers["Location"] == "/contact"
    assert "your message reached the admins" in client.get("/contact").get_data(as_text=True)
    [message] = stored()
    assert (message.name, message.email, message.subject) == ("Vera Visitor",
                                                              "vera@example.com", "Joining")
    assert len(outbox.to(admin.email)) == 1


def test_the_form_keeps_what_was_typed_and_says_what_is_wrong(client, make_member):
    make_member("ada", admin=True)
    response = client.post("/contact", data={**VISITOR, "email": "vera at example",
                                             "body": ""})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That doesn&#39;t look like an e-mail address." in html
    assert "Write your message." in html
    assert 'value="Vera Visitor"' in html and 'value="vera at example"' in html
    assert 'value="Joining"' in html
    assert stored() == []


def test_a_bot_filling_the_honeypot_is_thanked_and_dropped(client, make_member, outbox):
    make_member("ada", admin=True)
    response = client.post("/contact", data={**VISITOR, "website": "https://spam.example"})
    assert response.status_code == 302 and response.headers["Location"] == "/contact"
    assert "your message reached the admins" in client.get("/contact").get_data(as_text=True)
    assert stored() == [] and outbox.all() == []


def test_the_honeypot_is_hidden_from_people(client):
    html = client.get("/contact").get_data(as_text=True)
    hidden = html.split('<div class="visually-hidden" aria-hidden="true">')[1].split("</div>")[0]
    assert 'name="website"' in hidden and 'tabindex="-1"' in hidden


def test_a_member_writes_without_giving_name_or_address(client, login, make_member):
    make_member("ada", admin=True)
    bob = make_member("bob", display_name="Bob Builder")
    login(bob)
    html = client.get("/contact").get_data(as_text=True)
    assert 'name="email"' not in html and "bob@example.com" in html
    response = client.post("/contact", data={"subject": "A bug", "body": "Slow board."})
    assert response.status_code == 302
    [message] = stored()
    assert (message.sender_id, message.email) == (bob.id, "bob@example.com")


def test_the_footer_links_the_contact_page(client, login, make_member):
    assert 'href="/contact"' in client.get("/").get_data(as_text=True)
    login(make_member("bob"))
    assert 'href="/contact"' in client.get("/settings").get_data(as_text=True)


@pytest.fixture
def limited_client(app, tmp_path):
    limited = make_app(tmp_path, CONTACT_LIMIT="2 per minute",
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    return limited.test_client()


def test_sending_is_rate_limited_per_address(limited_client):
    codes = [limited_client.post("/contact", data={**VISITOR, "subject": f"Try {n}"}
                                 ).status_code for n in range(3)]
    assert codes == [302, 302, 429]
    assert len(stored()) == 2
    assert limited_client.get("/contact").status_code == 200  # reading is not limited


def test_a_member_reads_their_message_and_its_answer_others_get_404(
        client, login, make_member):
    admin = make_member("ada", admin=True)
    bob = make_member("bob")
    message = send_contact_message(actor=bob, subject="A bug", body="Slow board.")
    login(bob)
    assert "Not answered yet" in client.get(f"/contact/{message.id}").get_data(as_text=True)
    answer_contact_message(db.session.get(ContactMessage, message.id), actor=admin,
                           reply="Fixed now.")
    assert "Fixed now." in client.get(f"/contact/{message.id}").get_data(as_text=True)
    login(make_member("eve"))
    assert client.get(f"/contact/{message.id}").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(ContactMessage)) == 1
