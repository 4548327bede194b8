"""Layout in the browser: every page of the authorization matrix at a phone's width
(390 px) without sideways scrolling, the navigation behind one menu button there and
on one line at 1,280 px, the board's first gig on the first screen, long
notifications wrapped."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from playwright.sync_api import expect

from offload.core.db import db
from offload.notifications.services import notify
from tests.support.authorization import MATRIX, build_world
from tests.support.browser import gig as _gig
from tests.support.browser import log_in, log_in_again
from tests.support.factories import PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# who loads a page: the first role the matrix lets in, the visitor's pages as a visitor
ROLE_ORDER = ("anonymous", "member", "admin")
GET_PAGES = sorted(
    (endpoint, next(role for role in ROLE_ORDER if row[role] == "ok"))
    for (endpoint, method), row in MATRIX.items()
    if method == "GET" and any(row[role] == "ok" for role in ROLE_ORDER))

# What sticks out past the right edge of the viewport: the innermost culprits. An element
# inside a scrolling container (a wide table in .table-wrap) is the container's
# business: it scrolls on its own and the page does not.
OVERFLOW_JS = """() => {
  const root = document.documentElement, width = root.clientWidth;
  const scrolls = el => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden' || o === 'clip') return true;
    }
    return false;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    [...el.classList].map(c => '.' + c).join('');
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || r.right < 0 || !el.checkVisibility()) continue;
    if ((r.width > width + 0.5 || r.right > width + 0.5) && !scrolls(el)) {
      wide.push({el, text: name(el) + ' ' + Math.round(r.width) + 'px wide, right edge at ' +
                 Math.round(r.right) + 'px: ' + (el.textContent || '').trim().slice(0, 60)});
    }
  }
  const innermost = wide.filter(w => !wide.some(o => o.el !== w.el && w.el.contains(o.el)));
  return {scrollWidth: root.scrollWidth, clientWidth: width,
          wide: innermost.slice(0, 5).map(w => w.text)};
}"""


def overflow(page) -> list[str]:
    """What makes ``page`` scroll sideways (empty when nothing does)."""
    found = page.evaluate(OVERFLOW_JS)
    problems = list(found["wide"])
    if found["scrollWidth"] > found["clientWidth"]:
        problems.insert(0, f"the document is {found['scrollWidth']}px wide in a "
                           f"{found['clientWidth']}px viewport")
    return problems


@pytest.fixture(scope="module")
def matrix_world(app):
    return build_world(app)


@pytest.fixture(scope="module")
def role_pages(browser, live_server):
    """A phone-sized page per role, made on first use and logged in for each test (the
    snapshot restores between tests empty ``member_sessions``, ending its device)."""
    pages: dict[str, object] = {}

    def get(role: str, username: str | None):
        if role not in pages:
            pages[role] = browser.new_context(viewport=PHONE).new_page()
        if username:
            log_in_again(pages[role], live_server, username)
        return pages[role]

    yield get
    for page in pages.values():
        page.context.close()


@pytest.mark.parametrize(("endpoint", "role"), GET_PAGES,
                         ids=[f"{e}-{r}" for e, r in GET_PAGES])
def test_no_page_scrolls_sideways_on_a_phone(app, live_server, matrix_world, role_pages,
                                             endpoint, role):
    matrix_world.snapshot.restore()
    login = matrix_world.logins[role]
    page = role_pages(role, login.username if login else None)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        path = url_for(endpoint, **{n: matrix_world.url_values[n] for n in rule.arguments})
    response = page.request.get(live_server + path)
    if "text/html" not in response.headers.get("content-type", ""):
        return  # a file or JSON: nothing to lay out
    page.goto(live_server + path)
    problems = overflow(page)
    assert not problems, f"{endpoint} ({path}) as {role} scrolls sideways at 390px: {problems}"


def _nav_items(page):
    return page.locator(".mainnav a, .mainnav button")


def test_the_navigation_folds_behind_one_menu_button_on_a_phone(
        browser, live_server, make_member, shot):
    make_member("mina", display_name="Mina Mobile")
    page = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or e-mail").fill("mina")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    wallet = page.get_by_role("link", name="Wallet", exact=True)
    expect(wallet).to_be_hidden()
    page.locator("summary", has_text="Menu").click()  # no JavaScript: <details> opens
    expect(wallet).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    assert overflow(page) == []
    shot(page, "layout-01-phone-menu-open")
    wallet.click()
    expect(page.get_by_role("heading", name="Wallet", exact=True)).to_be_visible()


@pytest.mark.parametrize("admin", [False, True], ids=["member", "admin"])
def test_the_navigation_fits_on_one_line_at_1280px(browser, live_server, make_member, admin,
                                                   shot):
    member = make_member("wide", display_name="Wilhelmina Widescreen-Longname", admin=admin)
    notify(member, "invite_accepted", title="Someone joined", link="/dashboard")
    db.session.commit()  # the unread badge takes its room too
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server, "wide")
    expect(page.locator("summary", has_text="Menu")).to_be_hidden()
    items = _nav_items(page)
    tops = [round(items.nth(i).bounding_box()["y"]) for i in range(items.count())]
    names = items.all_inner_texts()
    assert "Log out" in " ".join(names) and ("Admin" in names) == admin
    assert len(set(tops)) == 1, f"the navigation wraps: {list(zip(names, tops, strict=True))}"
    brand, first = page.locator(".brand").bounding_box(), items.first.bounding_box()
    assert abs((brand["y"] + brand["height"] / 2) - (first["y"] + first["height"] / 2)) < 8, \
        "the navigation is on a row of its own below the brand"
    shot(page, f"layout-02-nav-1280-{'admin' if admin else 'member'}")


def test_the_first_gig_is_on_the_first_screen_of_the_board_on_a_phone(
        browser, live_server, make_member, shot):
    poster = make_member("pia", display_name="Pia Poster")
    _gig(poster, "referral", "Flask shop for a bakery")
    page = browser.new_context(viewport=PHONE).new_page()
    log_in(page, live_server, "pia")
    page.goto(f"{live_server}/gigs")
    first = page.get_by_role("link", name="Flask shop for a bakery")
    box = first.bounding_box()
    assert box["y"] + box["height"] <= PHONE["height"], box
    expect(page.get_by_label("Search")).to_be_hidden()  # the filters are folded away
    shot(page, "layout-03-phone-board")
    page.locator("summary", has_text="Filter").click()
    page.get_by_label("Search").fill("bakery")
    page.get_by_role("button", name="Show gigs").click()
    expect(page.get_by_label("Search")).to_be_visible()  # open while a filter is on
    expect(page.get_by_label("Search")).to_have_value("bakery")
    expect(first).to_be_visible()


def test_a_long_notification_wraps_on_a_phone(browser, live_server, make_member, shot):
    member = make_member("nora", display_name="Nora Notified")
    url = "https://example.com/" + "averylongpathwithoutanyhyphen" * 6
    notify(member, "invite_accepted", title=f"Read {url} before the call", link="/dashboard")
    notify(member, "invite_accepted", title="Word " * 60)
    db.session.commit()
    page = browser.new_context(viewport=PHONE).new_page()
    log_in(page, live_server, "nora")
    page.goto(f"{live_server}/notifications")
    expect(page.get_by_role("button", name=re.compile(r"^Read https:\/\/example\.com\/averylong"))
           ).to_be_visible()
    assert overflow(page) == []
    shot(page, "layout-04-phone-notifications")
