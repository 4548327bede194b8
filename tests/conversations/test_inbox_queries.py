"""The inbox: every conversation a member is in, newest activity first, with the other
party, the gig, the unread count; keyset pages; a fixed number of queries."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.conversations import services as conversations
from offload.conversations.queries import inbox_page, unread_message_count
from offload.core.db import db
from offload.offers import services
from offload.offers.models import Offer


@pytest.fixture
def pat(make_member):
    return make_member("pat", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


@pytest.fixture
def carol(make_member):
    return make_member("carol", display_name="Carol Coder")


def send(offer_id: int, sender: User, body: str = "Hello") -> int:
    db.session.rollback()
    return conversations.send_offer_message(db.session.get(Offer, offer_id),
                                            actor=db.session.get(User, sender.id),
                                            body=body).id


def read(offer_id: int, member: User, up_to: int) -> None:
    db.session.rollback()
    conversations.mark_conversation_read(db.session.get(Offer, offer_id),
                                         actor=db.session.get(User, member.id),
                                         up_to_message_id=up_to)


def lines(member: User, cursor: str | None = None):
    db.session.rollback()
    return inbox_page(member.id, cursor)


def test_every_conversation_newest_activity_first_with_party_gig_and_unread(
        make_gig, make_offer, pat, bob, carol):
    bakery = make_offer(make_gig(poster=pat, title="Bakery website"), bob)
    shop = make_offer(make_gig(poster=pat, title="Shop backend"), carol)
    # pat is the offerer here: bob posted the gig
    blog = make_offer(make_gig(poster=bob, title="Blog migration"), pat)
    make_offer(make_gig(poster=pat, title="Quiet gig"), carol)  # no message: not listed
    send(bakery.id, bob, "Can I start Monday?")
    send(bakery.id, bob, "Also: which hosting?")
    send(shop.id, pat, "Is the API documented?")
    send(blog.id, bob, "How many posts are there?\n\nRoughly.")

    page = lines(pat)
    assert [(c.offer_id, c.other_name, c.gig_title, c.unread, c.last_message_mine)
            for c in page.items] == [
        (blog.id, "Bob Builder", "Blog migration", 1, False),
        (shop.id, "Carol Coder", "Shop backend", 0, True),
        (bakery.id, "Bob Builder", "Bakery website", 2, False),
    ]
    assert page.items[0].last_message_preview == "How many posts are there? Roughly."
    assert page.items[0].other_username == "bob" and page.items[0].project_id is None
    assert page.next_cursor is None and page.is_first
    assert unread_message_count(pat.id) == 3
    # the other sides see their own conversations only, with pat as the other party
    assert [(c.offer_id, c.other_name, c.unread) for c in lines(carol).items] == [
        (shop.id, "Pat Poster", 1)]
    assert [(c.offer_id, c.unread) for c in lines(bob).items] == [(blog.id, 0),
                                                                (bakery.id, 0)]
    assert unread_message_count(bob.id) == 0


def test_reading_and_answering_clear_the_counts_and_move_the_conversation_up(
        make_gig, make_offer, pat, bob, carol):
    bakery = make_offer(make_gig(poster=pat, title="Bakery website"), bob)
    shop = make_offer(make_gig(poster=pat, title="Shop backend"), carol)
    first = send(bakery.id, bob, "One")
    send(bakery.id, bob, "Two")
    send(shop.id, carol, "Three")
    assert [(c.offer_id, c.unread) for c in lines(pat).items] == [(shop.id, 1),
                                                                (bakery.id, 2)]
    read(bakery.id, pat, first)  # read the first of the two
    assert unread_message_count(pat.id) == 2
    send(bakery.id, pat, "Answer")  # answering: everything before it is read
    assert [(c.offer_id, c.unread, c.last_message_mine) for c in lines(pat).items] == [
        (bakery.id, 0, True), (shop.id, 1, False)]
    assert unread_message_count(pat.id) == 1
    assert [(c.offer_id, c.unread) for c in lines(bob).items] == [(bakery.id, 1)]


def test_after_the_award_the_conversation_links_the_project(make_gig, make_offer, pat, bob):
    offer = make_offer(make_gig(poster=pat, title="Bakery website"), bob)
    send(offer.id, bob, "Before the award")
    services.award_offer(db.session.get(Offer, offer.id), actor=pat)
    project = services.accept_award(db.session.get(Offer, offer.id), actor=bob)
    send(offer.id, pat, "On the project")
    [line] = lines(bob).items
    assert (line.project_id, line.unread, line.last_message_preview) == (
        project.id, 1, "On the project")


def test_pages_follow_the_cursor_without_repeats(app, make_gig, make_offer, pat, bob,
                                                 monkeypatch):
    offers = [make_offer(make_gig(poster=pat, title=f"Gig {n}"), bob) for n in range(5)]
    for offer in offers:
        send(offer.id, bob)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    seen, cursor, pages = [], None, 0
    while True:
        page = lines(pat, cursor)
        seen += [c.offer_id for c in page.items]
        pages += 1
        assert page.is_first == (cursor is None)
        if not (cursor := page.next_cursor):
            break
    assert pages == 3 and seen == [o.id for o in reversed(offers)]
    assert lines(pat, "not-a-cursor").is_first  # a bad cursor starts over


def test_one_query_a_page_and_one_for_the_count_however_many_conversations(
        make_gig, make_offer, pat, bob, count_queries):
    pat_id = pat.id

    def counted(n_more: int) -> tuple[int, int]:
        for _ in range(n_more):
            send(make_offer(make_gig(poster=pat), bob).id, bob)
        db.session.rollback()
        n = n_conversations()
        with count_queries() as page_statements:
            assert len(inbox_page(pat_id).items) == n
        with count_queries() as count_statements:
            assert unread_message_count(pat_id) == n
        return (len([s for s in page_statements if s != "BEGIN"]),
                len([s for s in count_statements if s != "BEGIN"]))

    def n_conversations() -> int:
        return db.session.scalar(select(func.count()).select_from(Offer))

    assert counted(2) == counted(6) == (1, 1)
