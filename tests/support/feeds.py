"""Feed links for tests: a member's feed token made through the real service, and a
feed parsed and checked as valid Atom."""

from __future__ import annotations

import feedparser

from offload.feeds.services import make_feed_link
from tests.support.factories import new_key


def feed_token_of(member) -> str:
    """Make (or replace) the member's feed link; its token."""
    return make_feed_link(actor=member, once_key=new_key("feed")).token


def parsed_atom(response):
    """The feed of a 200 response, checked: Atom 1.0 that parses without a fault, with
    the elements RFC 4287 requires of the feed and of each entry (and those Offload
    promises: a link, a summary and an author on each entry)."""
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.title and feed.feed.updated_parsed
    assert any(link.rel == "self" for link in feed.feed.links)
    for entry in feed.entries:
        assert entry.id.startswith("tag:") and entry.title and entry.link
        assert entry.summary and entry.updated_parsed and entry.author
    return feed
