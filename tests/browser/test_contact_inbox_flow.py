"""The contact page and the messages inbox in the browser (CSRF on, real SMTP):
a visitor writes to the admins, an admin answers from the queue, the visitor's mail
arrives; a member opens Messages in the top bar, sees two conversations with their
unread counts, opens one and it is read. Screenshots saved."""

import re

import pytest
from playwright.sync_api import expect

from offload.conversations.services import send_offer_message
from offload.offers.services import accept_award, award_offer, make_offer
from tests.support.browser import gig as _gig
from tests.support.browser import log_in
from tests.support.smtp import text_part

pytestmark = pytest.mark.browser


def test_a_visitor_writes_to_the_admins_and_gets_the_answer_by_mail(
        browser, live_server, make_member, smtp, shot):
    make_member("ada", display_name="Ada Admin", email="ada@offload.example", admin=True)

    v = browser.new_context().new_page()
    v.goto(live_server)
    v.get_by_role("contentinfo").get_by_role("link", name="Contact us").click()
    expect(v.get_by_role("heading", name="Contact us")).to_be_visible()
    v.get_by_label("Your name").fill("Vera Visitor")
    v.get_by_label("Your e-mail address").fill("vera@example")
    v.get_by_label("Subject").fill("How do I join?")
    v.get_by_role("button", name="Send to the admins").click()
    # nothing sent: what was typed is kept and what is wrong is said
    expect(v.get_by_text("Write your message.")).to_be_visible()
    expect(v.get_by_label("Subject")).to_have_value("How do I join?")
    shot(v, "contact-01-visitor-form-errors")
    v.get_by_label("Your e-mail address").fill("vera@example.com")
    v.get_by_label("Message").fill("I build Django shops. How do I get an invite?")
    v.get_by_role("button", name="Send to the admins").click()
    expect(v.get_by_text("your message reached the admins")).to_be_visible()

    to_admin = smtp.wait_for("ada@offload.example", "[Contact] How do I join?")
    assert "I build Django shops." in text_part(to_admin)

    a = browser.new_context().new_page()
    log_in(a, live_server, "ada")
    a.goto(f"{live_server}/admin")
    a.get_by_role("link", name="Messages waiting for an answer").click()
    expect(a.get_by_text("I build Django shops. How do I get an invite?")).to_be_visible()
    expect(a.get_by_text("Vera Visitor (visitor)")).to_be_visible()
    a.get_by_label("Your answer").fill("Ask a member you know: every member can invite.")
    shot(a, "contact-02-admin-queue")
    a.get_by_role("button", name="Send the answer").click()
    expect(a.get_by_text("Answered: Vera Visitor gets your answer by e-mail.")).to_be_visible()
    expect(a.get_by_text("No contact messages are waiting.")).to_be_visible()

    # a visitor's address is unverified: the answer quotes nothing they typed
    answer = smtp.wait_for("vera@example.com", "Your message to Offload is answered")
    body = text_part(answer)
    assert "Hello there," in body
    assert "Ask a member you know: every member can invite." in body
    assert "I build Django shops." not in body and "Vera Visitor" not in body


def test_a_member_opens_messages_from_the_top_bar(browser, live_server, make_member, shot):
    pat = make_member("pat", display_name="Pat Poster")
    bob = make_member("bob", display_name="Bob Builder")
    carol = make_member("carol", display_name="Carol Coder")
    bakery = make_offer(_gig(pat, "referral", "Bakery website"), actor=bob,
                        price_minor=900_00, days_to_deliver=10, cover_letter="Me.",
                        fee_kind=None, idempotency_key="inbox-bakery")
    send_offer_message(bakery, actor=bob, body="Can I start Monday?")
    send_offer_message(bakery, actor=bob, body="And which hosting do they use?")
    shop = make_offer(_gig(pat, "referral", "Shop backend"), actor=carol,
                      price_minor=1_200_00, days_to_deliver=12, cover_letter="Me.",
                      fee_kind=None, idempotency_key="inbox-shop")
    award_offer(shop, actor=pat)
    project = accept_award(shop, actor=carol)
    send_offer_message(shop, actor=carol, body="The API docs are in the repo.")

    p = browser.new_context().new_page()
    log_in(p, live_server, "pat")
    nav = p.get_by_role("navigation", name="Main")
    messages_link = nav.get_by_role("link", name=re.compile("^Messages"))
    expect(messages_link.locator(".badge")).to_have_text("3 unread")
    messages_link.click()
    expect(p.get_by_role("heading", name="Messages")).to_be_visible()
    rows = p.locator("li.conversation")
    expect(rows).to_have_count(2)
    # newest activity first: the project's conversation, then the offer's
    expect(rows.nth(0)).to_contain_text("Carol Coder")
    expect(rows.nth(0)).to_contain_text("Shop backend")
    expect(rows.nth(0)).to_contain_text("1 unread")
    expect(rows.nth(1)).to_contain_text("Bob Builder")
    expect(rows.nth(1)).to_contain_text("Bakery website")
    expect(rows.nth(1)).to_contain_text("2 unread")
    shot(p, "inbox-01-two-conversations")

    rows.nth(1).get_by_role("link", name="Bob Builder").click()
    expect(p).to_have_url(re.compile(rf"/offers/{bakery.id}#messages$"))
    expect(p.get_by_text("And which hosting do they use?")).to_be_visible()
    # the open page marks the conversation read by itself (live-messages.js)
    expect(p.locator("[data-mark-read]")).to_be_hidden()
    p.goto(f"{live_server}/messages")
    expect(p.locator("li.conversation").nth(1)).not_to_contain_text("unread")
    expect(nav.get_by_role("link", name=re.compile("^Messages")).locator(".badge")
           ).to_have_text("1 unread")
    p.locator("li.conversation").nth(0).get_by_role("link", name="Carol Coder").click()
    expect(p).to_have_url(re.compile(rf"/projects/{project.id}#messages$"))
    expect(p.get_by_text("The API docs are in the repo.")).to_be_visible()
    shot(p, "inbox-02-project-conversation")
