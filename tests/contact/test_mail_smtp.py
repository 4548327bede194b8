"""The contact round trip through a real SMTP server on loopback: the admins' mail, and
the answer reaching a visitor and a member."""

from __future__ import annotations

import pytest

from offload.core.extensions import mail
from tests.support.smtp import SMTPServer, free_port, html_part, text_part


@pytest.fixture
def smtp(app, monkeypatch, mail_worker):
    port = free_port()
    settings = {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                "MAIL_SUPPRESS_SEND": False}  # with TESTING on, Flask-Mail sends nothing
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    monkeypatch.setitem(app.extensions, "mail", mail.init_mail(app.config, testing=True))
    with SMTPServer(port) as server:
        yield server


def test_an_admins_answer_reaches_the_visitor_by_smtp(client, login, make_member, smtp):
    admin = make_member("ada", admin=True)
    client.post("/contact", data={"name": "Vera Visitor", "email": "Vera@Example.com",
                                  "subject": "Joining", "body": "How do I get an invite?"})
    to_admin = smtp.wait_for("ada@example.com", "[Contact] Joining")
    assert "How do I get an invite?" in text_part(to_admin)
    link = next(line for line in text_part(to_admin).splitlines()
                if line.startswith("https://"))
    path = "/" + link.split("://", 1)[1].split("/", 1)[1].split("#")[0]
    login(admin)
    html = client.get(path).get_data(as_text=True)
    contact_id = int(html.split('id="contact-')[1].split('"')[0])
    client.post(f"/admin/contact/{contact_id}/answer",
                data={"reply": "Ask a member you know: every member can invite."})
    answer = smtp.wait_for("vera@example.com", "Your message to Offload is answered")
    assert answer["X-Envelope-To"] == "vera@example.com"
    assert "Hello there," in text_part(answer)  # nothing the visitor typed: unverified
    assert "Ask a member you know: every member can invite." in text_part(answer)
    assert "every member can invite." in html_part(answer)
    assert "How do I get an invite?" not in text_part(answer) + html_part(answer)


def test_an_admins_answer_reaches_a_member_by_smtp(client, login, make_member, smtp):
    admin = make_member("ada", admin=True)
    bob = make_member("bob", display_name="Bob Builder")
    login(bob)
    client.post("/contact", data={"subject": "A bug", "body": "The board is slow."})
    smtp.wait_for("ada@example.com", "[Contact] A bug")
    login(admin)
    html = client.get("/admin/contact").get_data(as_text=True)
    contact_id = int(html.split('id="contact-')[1].split('"')[0])
    client.post(f"/admin/contact/{contact_id}/answer", data={"reply": "Fixed, thank you."})
    answer = smtp.wait_for("bob@example.com", "Re: A bug")
    assert "Hello Bob Builder," in text_part(answer)
    assert f"https://offload.example/contact/{contact_id}" in text_part(answer)
    login(bob)
    assert "The admins answered your message" in client.get("/notifications").get_data(
        as_text=True)
