"""A member registers a webhook in Settings, sees its secret once, and sees a delivery
to their (loopback) receiver in the webhook's log; the receiver checks the signature."""

import re

import pytest
from playwright.sync_api import expect

from offload.core.db import db
from offload.notifications.services import notify
from tests.support.browser import log_in
from tests.support.webhooks import Receiver, verify

pytestmark = pytest.mark.browser


def test_register_see_the_secret_once_and_the_delivery_log(browser, live_server, make_member,
                                                           shot):
    ada = make_member("ada", display_name="Ada Lovelace")
    page = browser.new_context().new_page()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings")
    page.locator("#webhooks").get_by_role("link", name="Manage webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    expect(page.get_by_text("No webhooks yet.")).to_be_visible()

    with Receiver() as receiver:
        form = page.locator("#new-webhook")
        form.get_by_label("Endpoint URL").fill("http://hooks.example/in")
        form.get_by_role("checkbox", name="A new message").check()
        form.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_text("The address must start with https://.")).to_be_visible()

        form = page.locator("#new-webhook")
        form.get_by_label("Endpoint URL").fill(receiver.url)
        expect(form.get_by_role("checkbox", name="A new message")).to_be_checked()
        shot(page, "webhooks-01-new")
        form.get_by_role("button", name="Add webhook").click()
        shown = page.get_by_role("status").filter(has_text="Copy it now")
        expect(shown).to_contain_text("won't be shown again")
        secret = shown.locator("code.secret").inner_text()
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret)
        row = page.get_by_role("row").filter(has_text=receiver.url)
        expect(row).to_contain_text("A new message")
        expect(row).to_contain_text("none yet")
        shot(page, "webhooks-02-secret-shown-once")

        notify(ada, "new_message", title="Bob wrote to you", link="/dashboard")
        db.session.commit()  # the worker beside the live server delivers it

        page.goto(f"{live_server}/webhooks")
        expect(page.get_by_text(secret)).to_have_count(0)  # once means once
        page.get_by_role("link", name=receiver.url).click()
        deliveries = page.locator("#deliveries")
        for _ in range(50):
            if deliveries.get_by_role("row").filter(has_text="message.received").count():
                break
            page.wait_for_timeout(200)
            page.reload()
            deliveries = page.locator("#deliveries")
        expect(deliveries.get_by_role("row").filter(has_text="message.received")
               ).to_contain_text("204")
        shot(page, "webhooks-03-delivery-log")
        [got] = receiver.received
        assert verify(secret, got) and got.json["data"]["title"] == "Bob wrote to you"
