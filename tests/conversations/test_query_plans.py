"""The inbox's two reads walk their indexes on SQLite and PostgreSQL (the plan rules
of tests/support/plans.py: no full scan of a big table, no sort): a page from
the member's activity index, the top bar's count from the partial index of their
conversations with something unread."""

from __future__ import annotations

from sqlalchemy import text

from offload.conversations import services as conversations
from offload.conversations.queries import inbox_page, unread_message_count
from offload.core.db import db
from tests.support.plans import assert_indexed


def test_the_inbox_page_and_the_unread_count_use_indexes(app, make_member, make_gig,
                                                          make_offer, monkeypatch):
    pat = make_member("pat")
    others = [make_member(f"m{n}") for n in range(4)]
    for n in range(24):
        other = others[n % 4]
        # pat posted half the gigs and offered on the other half
        poster, offerer = (pat, other) if n % 2 else (other, pat)
        offer = make_offer(make_gig(poster=poster), offerer)
        conversations.send_offer_message(offer, actor=other, body=f"Message {n}")
        if n % 3 == 0:
            conversations.send_offer_message(offer, actor=pat, body="Answer")
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    # SQLite reads the statistics when a connection loads the schema: pooled connections
    # opened by earlier tests in this process would plan with the old ones
    db.engine.dispose()
    pat_id = pat.id
    monkeypatch.setitem(app.config, "PAGE_SIZE", 5)
    first = inbox_page(pat_id)
    assert len(first.items) == 5 and first.next_cursor
    assert unread_message_count(pat_id) == 16
    assert_indexed(lambda: inbox_page(pat_id))
    assert_indexed(lambda: inbox_page(pat_id, first.next_cursor))
    assert_indexed(lambda: unread_message_count(pat_id))
