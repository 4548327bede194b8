"""Live messages under gunicorn with two worker processes: a message sent in one browser
shows in the other's open conversation within 2 seconds, without a reload.

The site runs as in production (``gunicorn --workers 2 wsgi:app``, CSRF on) on the
browser suite's database file; the server keeps no per-process state, so whichever
worker answers a poll finds the message in the database.
"""

import os
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from offload.core.db import utcnow
from offload.gigs.services import post_gig
from offload.offers.services import accept_award, award_offer, make_offer
from tests.support.browser import log_in
from tests.support.smtp import free_port

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gunicorn(app, tmp_path):
    port = free_port()
    env = {**os.environ,
           "OFFLOAD_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "OFFLOAD_SECRET_KEY": "live-test-secret", "OFFLOAD_MAIL_BACKEND": "log",
           "OFFLOAD_CANONICAL_URL": f"http://127.0.0.1:{port}",
           "OFFLOAD_UPLOAD_FOLDER": str(tmp_path / "uploads"),
           "OFFLOAD_INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("DATABASE_URL", None)
    env["WEB_CONCURRENCY"] = "2"
    server = subprocess.Popen(  # as in production: gunicorn.conf.py (preloaded, forked)
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_a_message_shows_in_the_other_open_page_within_two_seconds(
        browser, gunicorn, make_member, shot):
    poster = make_member("lena", display_name="Lena Poster")
    performer = make_member("omar", display_name="Omar Performer")
    gig = post_gig(actor=poster, kind="referral", title="Migrate a CMS", description="Move it.",
                   skill_names=["Python"], category="web", budget_min_minor=900_00,
                   budget_max_minor=900_00, deadline=utcnow().date() + timedelta(days=20),
                   client_details={"name": "Museum", "contact": "it@museum.example"})
    offer = make_offer(gig, actor=performer, price_minor=900_00, days_to_deliver=9,
                       cover_letter="Done it before.", fee_kind=None, idempotency_key="live")
    award_offer(offer, actor=poster)
    project = accept_award(offer, actor=performer)
    project_url = f"{gunicorn}/projects/{project.id}"

    lena = browser.new_context().new_page()
    log_in(lena, gunicorn, "lena")
    lena.goto(project_url)
    omar = browser.new_context().new_page()
    log_in(omar, gunicorn, "omar")
    omar.goto(project_url)
    expect(omar.get_by_text("No messages yet.")).to_be_visible()

    for n, (sender, reader) in enumerate([(lena, omar), (omar, lena), (lena, omar)]):
        text = f"Message {n}: is the staging server ready?"
        sender.get_by_label("Message", exact=True).fill(text)
        sender.get_by_role("button", name="Send").click()
        started = time.monotonic()
        expect(reader.locator(".messages")).to_contain_text(text, timeout=2000)
        assert time.monotonic() - started < 2.0
    shot(omar, "projects-10-live-messages")
    assert omar.locator(".messages li").count() == 3

    # unread counts: what came while omar's page was closed waits for him, and opening
    # the conversation (the page posts its read mark by itself) clears it
    omar.goto(f"{gunicorn}/dashboard")
    expect(omar.locator(".unread-conversations")).to_have_count(0)
    lena.get_by_label("Message", exact=True).fill("Message 3: the invoice is attached.")
    lena.get_by_role("button", name="Send").click()
    expect(lena.locator(".messages")).to_contain_text("Message 3")
    omar.reload()
    expect(omar.locator(".unread-conversations")).to_contain_text("1 unread")
    omar.locator(".unread-conversations a").click()
    new = omar.locator(".message.unread")
    expect(new).to_have_count(1)
    expect(new).to_contain_text("Message 3")
    expect(omar.locator("[data-mark-read]")).to_be_hidden()
    shot(omar, "projects-11-unread-message")
    omar.goto(f"{gunicorn}/dashboard")
    expect(omar.locator(".unread-conversations")).to_have_count(0)
