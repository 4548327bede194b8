"""The browser tests' helpers: log in through the form, post a gig through the service."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.gigs.services import ClientInfo, post_gig
from tests.support.factories import PASSWORD


def log_in(page, live_server, username):
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=re.compile("^Hello"))).to_be_visible()


def log_in_again(page, live_server, username):
    """Log ``page``'s browser in afresh: for a page kept across tests that restore a
    snapshot, which empties ``member_sessions`` and so ends the device it logged in as."""
    page.context.clear_cookies()
    log_in(page, live_server, username)


def gig(poster, kind: str, title: str):
    return post_gig(actor=poster, kind=kind, title=title, description="The work.",
                    skill_names=["Python"], category="backend", budget_min_minor=1_000_00,
                    budget_max_minor=3_000_00, deadline=utcnow().date() + timedelta(days=30),
                    client_details=ClientInfo("Bright Dental", "ops@bright.example")
                    if kind == "referral" else None)


def password_step(page, live_server, username):
    """The log-in's first step for a member with two-factor log-in: the code page next."""
    page.goto(f"{live_server}/login")
    page.get_by_label("Username or e-mail").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your log-in code")).to_be_visible()
