"""The factory fixtures every test directory sees (a plugin: ``pytest_plugins`` in
tests/conftest.py loads it). Each is a thin wrapper over ``tests.support.factories``.

Directory conftests keep only what is theirs (named people, per-feature helpers); a
fixture defined there under the same name wins for that directory.
"""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from offload.commissions.services import complete_referral
from offload.core.db import db
from offload.core.extensions import mail
from offload.projects.models import Project
from tests.support import factories
from tests.support.smtp import free_port
from tests.support.stripe_standin import WEBHOOK_SECRET, configured_standin


@pytest.fixture
def make_member(app):
    """Factory: ``make_member(username=..., inviter=..., confirmed=False, admin=True)``."""
    return factories.new_member


@pytest.fixture
def _empty_search_index(_app_context):
    """Kept for conftests that still import it: ``empty_tables()`` now empties the
    full-text index before every test."""
    yield


@pytest.fixture
def make_gig(make_member):
    """Factory: ``make_gig(poster=..., kind="task", title=..., publish=False, ...)``.

    Posts through the real service; referral gigs get client details unless given.
    """
    return factories.new_gig


@pytest.fixture
def make_offer(app):
    """Factory: ``make_offer(gig, member, fee_kind=None, price_minor=400_00, ...)``;
    task gigs default to a postpaid click."""
    return factories.new_offer


@pytest.fixture
def standin(app, monkeypatch):
    """The Stripe stand-in running, with the site set to pay through it and to verify
    webhooks signed with ``WEBHOOK_SECRET`` (tests/support/stripe_standin.py)."""
    with configured_standin(app, monkeypatch, WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture
def fund(app):
    """``fund(member, 50_00)``: add funds through the sandbox, as the member would."""
    return factories.fund


@pytest.fixture
def withdraw(app):
    """``withdraw(member, 10_00)``: request a withdrawal to a sample IBAN."""
    return factories.withdraw


@pytest.fixture
def race(app):
    """``race(n, work)`` runs ``work(i)`` in n threads (own app context and session each),
    released together; returns (results, exceptions)."""

    def run_all(n, work):
        return factories.race(app, n, work)

    return run_all


@pytest.fixture
def referrer(make_member):
    return make_member("referrer", display_name="Rita Referrer")


@pytest.fixture
def performer(make_member):
    return make_member("performer", display_name="Pete Performer")


@pytest.fixture
def start_project(make_gig, make_offer, referrer, performer):
    """``start_project(kind="referral", **gig_fields)``: the referrer's gig, awarded to
    the performer, who accepts; returns the project."""

    def start(kind: str = "referral", **gig_fields):
        return factories.new_project(referrer, performer, kind, **gig_fields)

    return start


@pytest.fixture
def completed(start_project, performer):
    """``completed(**gig_fields)``: a referral project, started and completed by the
    performer (the review window opens now)."""

    def complete(**gig_fields) -> Project:
        gig_fields.setdefault("skill_names", ["Python", "SQL"])
        project = start_project(**gig_fields)
        complete_referral(project, actor=performer, invoiced_minor=100_00,
                          idempotency_key=factories.new_key("review-key"),
                          invoice_reason="The client cut the scope.")
        db.session.commit()
        return db.session.get(Project, project.id)

    return complete


@pytest.fixture
def smtp_port(app, monkeypatch) -> int:
    """Point the app's mailer at 127.0.0.1:<port> for this test (no server started)."""
    port = free_port()
    settings = {"MAIL_BACKEND": "smtp", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port,
                # with TESTING on, Flask-Mail would otherwise silently send nothing
                "MAIL_SUPPRESS_SEND": False}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    # Flask-Mail reads its settings once, at init_app: give it a state built from these
    monkeypatch.setitem(app.extensions, "mail", mail.init_mail(app.config, testing=True))
    return port


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database of the kind the suite runs on."""
    base = os.environ.get("OFFLOAD_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    name = f"offload_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
