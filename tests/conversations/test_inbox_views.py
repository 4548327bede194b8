"""The Messages page and the top bar's unread count."""

from __future__ import annotations

import re

from offload.conversations import services as conversations
from offload.core.db import db
from offload.offers.models import Offer


def test_the_top_bar_counts_unread_messages_and_the_inbox_lists_conversations(
        client, login, make_member, make_gig, make_offer):
    pat = make_member("pat", display_name="Pat Poster")
    bob = make_member("bob", display_name="Bob Builder")
    carol = make_member("carol", display_name="Carol Coder")
    bakery = make_offer(make_gig(poster=pat, title="Bakery website"), bob)
    shop = make_offer(make_gig(poster=pat, title="Shop backend"), carol)
    conversations.send_offer_message(bakery, actor=bob, body="Can I start Monday?")
    conversations.send_offer_message(bakery, actor=bob, body="Which hosting?")
    conversations.send_offer_message(db.session.get(Offer, shop.id), actor=carol,
                                     body="Is the API documented?")
    login(pat)
    html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'href="/conversations"[^>]*>Messages <span class="badge">3'
                     r'<span class="visually-hidden"> unread</span></span>', html)
    response = client.get("/conversations")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shop_at, bakery_at = html.index(f'id="conversation-{shop.id}"'), html.index(
        f'id="conversation-{bakery.id}"')
    assert shop_at < bakery_at  # newest activity first
    assert f'href="/offers/{bakery.id}#messages"' in html
    assert "Bob Builder" in html and "Bakery website" in html and "2 unread" in html
    assert "Carol Coder" in html and "Shop backend" in html and "1 unread" in html
    login(bob)  # bob has read what he wrote: no badge
    html = client.get("/conversations").get_data(as_text=True)
    assert 'class="badge"' not in html.split("</nav>")[0].split('href="/conversations"')[1][:80]
    assert "You: Which hosting?" in html and "Pat Poster" in html


def test_a_member_without_conversations_is_told_where_they_start(client, login, make_member):
    login(make_member("newbie"))
    html = client.get("/conversations").get_data(as_text=True)
    assert "No messages yet." in html


def test_visitors_are_sent_to_log_in(client):
    response = client.get("/conversations")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_both_badges_of_the_top_bar_cost_one_query(client, login, make_member, make_gig,
                                                   make_offer, count_queries):
    from offload.notifications.queries import unread_count
    from offload.notifications.services import notify

    pat = make_member("pat")
    bob = make_member("bob")
    conversations.send_offer_message(make_offer(make_gig(poster=pat), bob), actor=bob,
                                     body="Hello")  # also notifies pat: new_message
    notify(pat, "invite_accepted", title="Someone joined")
    notes = unread_count(pat.id)
    assert notes >= 2  # the offer, the message, the invite
    login(pat)
    with count_queries() as statements:
        html = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'Messages <span class="badge">1<span class="visually-hidden"> '
                     r'unread</span></span>', html)
    assert re.search(rf'Notifications <span class="badge">{notes}<span '
                     rf'class="visually-hidden"> unread</span></span>', html)
    # both come with the member: the notifications' counter is a column of the row the
    # user loader reads, and the same statement counts the messages; nothing else counts
    [loading] = [s for s in statements if "users.unread_notifications" in s
                 and "AS unread_messages" in s]
    assert "conversation_reads.last_message_id > conversation_reads.last_read_message_id" \
        in loading
    assert not [s for s in statements if "FROM notifications" in s]
