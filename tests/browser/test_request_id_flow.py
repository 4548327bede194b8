"""A member who lands on an error page can read and copy the request id the operator
finds the request's log lines by: the one the response carried in ``X-Request-ID``."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.browser import log_in

pytestmark = pytest.mark.browser


def test_an_error_page_shows_the_request_id_of_its_response(browser, live_server,
                                                            make_member, shot):
    make_member("ada")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    response = page.goto(f"{live_server}/gigs/999999")
    assert response.status == 404
    request_id = response.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    expect(page.get_by_role("heading", name="We couldn't find that page")).to_be_visible()
    quoted = page.locator(".request-id")
    expect(quoted).to_have_text(f"Request ID: {request_id}")
    shot(page, "request-id-01-not-found")
    page.set_viewport_size({"width": 390, "height": 844})  # the id fits a phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    again = page.goto(f"{live_server}/gigs/999999")  # each request its own id
    assert again.headers["x-request-id"] != request_id
    expect(page.locator(".request-id")).to_have_text(
        f"Request ID: {again.headers['x-request-id']}")
