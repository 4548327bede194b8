"""/metrics: behind its bearer token; the request histogram by endpoint and status; the
gauges read from the database when scraped."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from offload.core.db import atomic, db, utcnow
from offload.jobs import registry
from offload.jobs.runner import run_claimed
from offload.notifications.models import OutboxEmail
from offload.notifications.services import queue_email

TOKEN = "s3cret-scrape-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def scrape(client) -> dict[tuple[str, tuple], float]:
    """The samples of one scrape: (name, sorted labels) → value."""
    r = client.get("/metrics", headers=AUTH)
    assert r.status_code == 200 and r.mimetype == "text/plain"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(r.get_data(as_text=True))
            for s in family.samples}


def requests_counted(samples, endpoint: str, status: str, method: str = "GET") -> float:
    key = ("offload_request_duration_seconds_count",
           (("endpoint", endpoint), ("method", method), ("status", status)))
    return samples.get(key, 0.0)


def test_unset_token_hides_the_metrics(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                    TOKEN])
def test_only_the_token_opens_the_metrics(client, token, header):
    r = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "offload_" not in r.get_data(as_text=True)


def test_a_scrape_counts_a_request_by_endpoint_never_by_path(client, token, make_member):
    make_member("ada")
    before = scrape(client)
    assert client.get("/members/ada").status_code in (200, 302)
    assert client.get("/no-such-page/123").status_code == 404
    r = client.get("/metrics", headers=AUTH)
    assert "Set-Cookie" not in r.headers and r.headers["Cache-Control"] == "no-store"
    after = scrape(client)
    assert requests_counted(after, "pages.healthz", "200") == requests_counted(
        before, "pages.healthz", "200")
    status = str(client.get("/members/ada").status_code)
    after = scrape(client)
    assert requests_counted(after, "profiles.show", status) >= requests_counted(
        before, "profiles.show", status) + 2
    assert requests_counted(after, "none", "404") == requests_counted(before, "none", "404") + 1
    assert not [key for key in after if "ada" in str(key) or "no-such-page" in str(key)]


def test_the_gauges_read_the_database(app, client, token, make_member):
    samples = scrape(client)
    assert samples[("offload_business_gauges_up", ())] == 1
    assert samples[("offload_outbox_backlog", (("outbox", "mail"),))] == 0
    assert samples[("offload_outbox_oldest_age_seconds", (("outbox", "mail"),))] == 0
    assert samples[("offload_open_disputes", ())] == 0
    assert samples[("offload_overdue_commissions", ())] == 0

    max_attempts = app.config["OUTBOX_MAX_ATTEMPTS"]
    with atomic():
        for n in range(4):
            queue_email(f"m{n}@example.com", "notification", title="Hi", link_url=None)
    first, second, third, _ = [m.id for m in db.session.query(OutboxEmail).order_by("id")]
    with atomic():
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == first).values(
            created_at=utcnow() - timedelta(minutes=10), attempts=1))  # failed once, waits
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == second).values(
            attempts=max_attempts))  # given up
        db.session.execute(update(OutboxEmail).where(OutboxEmail.id == third).values(
            sent_at=utcnow()))
    job = registry.Job("metrics_test_job", lambda: "done", timedelta(minutes=1))
    run_claimed(job)

    samples = scrape(client)
    assert samples[("offload_outbox_backlog", (("outbox", "mail"),))] == 2
    assert samples[("offload_failed_deliveries", (("outbox", "mail"),))] == 2
    age = samples[("offload_outbox_oldest_age_seconds", (("outbox", "mail"),))]
    assert 600 <= age < 700
    assert samples[("offload_outbox_backlog", (("outbox", "webhook"),))] == 0
    succeeded = samples[("offload_job_last_success_timestamp_seconds",
                         (("job", "metrics_test_job"),))]
    assert abs(succeeded - utcnow().timestamp()) < 60


def test_the_webhook_backlog_counts_enabled_endpoints_only(client, token, make_member):
    from offload.notifications.services import notify
    from offload.webhooks.models import WebhookEndpoint
    from offload.webhooks.services import create_webhook_endpoint

    ada = make_member("ada")
    create_webhook_endpoint(actor=ada, url="http://127.0.0.1:9/hook", events=["message.received"])
    for n in range(2):
        notify(ada, "new_message", title=f"message {n}", link="/dashboard")
    db.session.commit()
    assert scrape(client)[("offload_outbox_backlog", (("outbox", "webhook"),))] == 2
    with atomic():
        db.session.execute(update(WebhookEndpoint).values(disabled_at=utcnow()))
    samples = scrape(client)  # a turned-off endpoint's events wait for its owner
    assert samples[("offload_outbox_backlog", (("outbox", "webhook"),))] == 0
    assert samples[("offload_outbox_oldest_age_seconds", (("outbox", "webhook"),))] == 0


def test_a_failed_run_keeps_the_last_success(app, client, token):
    outcomes = iter(["fine", RuntimeError("boom")])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    job = registry.Job("flaky", flaky, timedelta(minutes=1))
    run_claimed(job, on_schedule=False)
    first = scrape(client)[("offload_job_last_success_timestamp_seconds", (("job", "flaky"),))]
    with pytest.raises(RuntimeError):
        run_claimed(job, on_schedule=False)
    assert scrape(client)[("offload_job_last_success_timestamp_seconds",
                           (("job", "flaky"),))] == first


def test_overdue_commissions_and_open_disputes_are_counted(client, token, start_project,
                                                          performer, make_member, fund):
    from offload.commissions.models import Commission
    from offload.commissions.services import complete_referral
    from offload.gigs.services import post_gig
    from offload.milestones.disputes import open_dispute
    from offload.milestones.services import add_milestone, fund_milestone
    from offload.offers.services import accept_award, award_offer, make_offer

    commission = complete_referral(start_project(), actor=performer, invoiced_minor=500_00,
                                   idempotency_key="metrics-due")
    with atomic():
        db.session.execute(update(Commission).where(Commission.id == commission.id)
                           .values(due_on=utcnow().date() - timedelta(days=1)))

    poster, worker = make_member("poster"), make_member("worker")
    fund(worker, 10_00)  # the offer's prepaid fee
    gig = post_gig(actor=poster, kind="task", title="A task", description="Do it.",
                   skill_names=["Python"], category="web", budget_min_minor=100_00,
                   budget_max_minor=100_00, deadline=utcnow().date() + timedelta(days=20))
    offer = make_offer(gig, actor=worker, price_minor=100_00, days_to_deliver=5,
                       cover_letter="Me.", fee_kind="prepaid", idempotency_key="metrics")
    award_offer(offer, actor=poster)
    project = accept_award(offer, actor=worker)
    milestone = add_milestone(project, actor=poster, title="First part", amount_minor=50_00,
                              due_on=utcnow().date() + timedelta(days=3))
    fund(poster, 100_00)
    fund_milestone(milestone, actor=poster, idempotency_key="metrics-fund")
    open_dispute(milestone, actor=worker, statement="Not as agreed")

    samples = scrape(client)
    assert samples[("offload_overdue_commissions", ())] == 1
    assert samples[("offload_open_disputes", ())] == 1


def test_production_without_a_token_starts_and_says_so(app, tmp_path, caplog):
    from tests.support.app import make_app

    with caplog.at_level(logging.WARNING, logger="offload.observability"):
        production = make_app(tmp_path, PRODUCTION=True, TWO_FACTOR_REQUIRED_FOR_ADMINS=True,
                              RATELIMIT_SINGLE_PROCESS=True, WEBAUTHN_RP_ID="offload.example",
                              WEBAUTHN_ORIGIN="https://offload.example",
                              SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    assert "OFFLOAD_METRICS_TOKEN is not set" in caplog.text
    assert production.config["LOG_FORMAT"] == "json"
    assert production.test_client().get("/metrics", headers=AUTH).status_code == 404


def test_a_token_of_digits_works(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", 12345678901234567890)  # parsed as JSON
    r = client.get("/metrics", headers={"Authorization": "Bearer 12345678901234567890"})
    assert r.status_code == 200


def test_methods_outside_http_share_one_label(client, token):
    """gunicorn passes any 3-20 letter method on: each must not grow a series of its own."""
    before = scrape(client)
    statuses = {client.open(path, method=f"ZZZ{n}").status_code
                for n, path in enumerate(["/healthz", "/no-such-page/1", "/healthz",
                                          "/no-such-page/2", "/login"])}
    after = scrape(client)
    methods = {dict(labels).get("method") for name, labels in after
               if name.startswith("offload_request_duration_seconds")}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    counted = sum(requests_counted(after, endpoint, str(status), "other")
                  - requests_counted(before, endpoint, str(status), "other")
                  for endpoint in ("none",) for status in statuses)
    assert counted == 5 and statuses <= {404, 405}
    assert not [key for key in after if "ZZZ" in str(key)]


@pytest.mark.parametrize(("token", "warned"), [("s3cret-scrape-token", True),
                                               (12345678901234567890, True),
                                               ("x" * 32, False), ("", False)])
def test_a_short_token_is_warned_about_at_start(tmp_path, caplog, token, warned):
    from tests.support.app import make_app

    with caplog.at_level(logging.WARNING, logger="offload.observability"):
        make_app(tmp_path, METRICS_TOKEN=token)
    assert ("OFFLOAD_METRICS_TOKEN is shorter than 32 characters" in caplog.text) is warned
    assert str(token) not in caplog.text or not token
