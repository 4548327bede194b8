"""A member makes a feed link in Settings, a feed reader opens the feed with it, the
board links its search's feed, and once the link is revoked its URL answers 404."""

import re

import feedparser
import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_make_open_and_revoke_a_feed_link(browser, live_server, make_member, make_gig,
                                          shot):
    make_member("ada", display_name="Ada Lovelace")
    make_gig(make_member("bob"), title="Fish & Chips <shop> site", kind="task")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings")
    feeds = page.locator("#feeds")
    expect(feeds.get_by_role("heading", name="Feeds")).to_be_visible()
    expect(feeds.get_by_text("You have no feed link.")).to_be_visible()
    feeds.get_by_role("button", name="Make a feed link").click()
    expect(page.get_by_text("Made your feed link.")).to_be_visible()

    feeds = page.locator("#feeds")
    notifications_url = feeds.get_by_role("link", name=re.compile(r"notifications\.atom$")
                                          ).get_attribute("href")
    gigs_url = feeds.get_by_role("link", name=re.compile(r"gigs\.atom$")).get_attribute("href")
    assert re.fullmatch(rf"{live_server}/feeds/offload_feed_[\w-]{{43}}/notifications\.atom",
                        notifications_url)
    shot(page, "feeds-01-link-made")
    page.set_viewport_size({"width": 390, "height": 844})  # the long URLs wrap on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    reader = browser.new_context()  # a feed reader: no cookie, only the URL
    answer = reader.request.get(gigs_url)
    assert answer.status == 200 and answer.headers["content-type"].startswith(
        "application/atom+xml")
    feed = feedparser.parse(answer.body())
    assert feed.bozo == 0 and [e.title for e in feed.entries] == ["Fish & Chips <shop> site"]
    assert reader.request.get(notifications_url).status == 200

    page.goto(f"{live_server}/gigs?q=fish")
    # a search opens the filters' fold, where its feed is linked
    search_feed = page.get_by_role("link", name="Atom feed of this search")
    assert search_feed.get_attribute("href") == gigs_url.replace("gigs.atom", "gigs.atom?q=fish")

    page.goto(f"{live_server}/settings")
    feeds = page.locator("#feeds")
    feeds.get_by_role("button", name="Revoke the feed link").click()  # not confirmed
    expect(page.get_by_text("Tick the box to confirm.")).to_be_visible()
    assert reader.request.get(gigs_url).status == 200
    feeds = page.locator("#feeds")
    feeds.get_by_label("Yes, revoke it: the feed links stop working").check()
    feeds.get_by_role("button", name="Revoke the feed link").click()
    expect(page.get_by_text("Revoked your feed link: its feeds no longer answer.")
           ).to_be_visible()
    expect(page.locator("#feeds").get_by_text("You have no feed link.")).to_be_visible()
    shot(page, "feeds-02-link-revoked")
    assert reader.request.get(gigs_url).status == 404
    assert reader.request.get(notifications_url).status == 404
