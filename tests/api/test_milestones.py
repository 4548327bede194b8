"""Milestones over the API: add, read, fund (escrow), deliver, ask for a revision and
release, as the task project's page does, with the wallet scope and an
Idempotency-Key for the money."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from offload.core.db import db, utcnow
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import Transfer
from tests.support.api import call, refused, with_key
from tests.support.factories import new_key
from tests.support.milestones import wallets


@pytest.fixture
def task(start_project, performer, fund, referrer):
    fund(performer, 1_00)  # the prepaid fee of the performer's offer
    fund(referrer, 500_00)
    return start_project("task")


def _transfers() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Transfer))


def _add(client, task, headers, **body):
    return client.post(f"/api/v1/projects/{task.id}/milestones", headers=headers, json={
        "title": "Part one", "amount_minor": 150_00,
        "due_on": (utcnow().date() + timedelta(days=5)).isoformat(), **body})


def test_a_milestone_goes_from_added_to_released(client, task, referrer, performer, bearer):
    customer = bearer(referrer, "read", "projects", "wallet")
    worker = bearer(performer, "read", "projects")
    added = _add(client, task, customer)
    assert added.status_code == 201, added.get_json()
    milestone = added.get_json()
    assert milestone["state"] == "draft" and milestone["dispute"] is None
    url = added.headers["Location"].removeprefix("https://offload.example/api/v1")
    assert url == f"/milestones/{milestone['id']}"
    assert call(client, "GET", url, worker).get_json() == milestone
    key = new_key("api-fund")
    funded = call(client, "POST", f"{url}/fund", with_key(customer, key)).get_json()
    assert funded["state"] == "funded"
    assert wallets(referrer) == [(350_00, 150_00)]
    delivered = call(client, "POST", f"{url}/deliver", worker,
                     json={"note": "On the staging server."}).get_json()
    assert delivered["state"] == "delivered"
    assert delivered["delivery_note"] == "On the staging server."
    back = call(client, "POST", f"{url}/revision", customer,
                json={"note": "The login fails."}).get_json()
    assert back["state"] == "funded" and back["revision_note"] == "The login fails."
    call(client, "POST", f"{url}/deliver", worker, json={"note": "Fixed."})
    release_key = new_key("api-release")
    released = call(client, "POST", f"{url}/release", with_key(customer, release_key))
    assert released.get_json()["state"] == "released"
    moved = _transfers()
    again = call(client, "POST", f"{url}/release", with_key(customer, release_key))
    assert again.get_json() == released.get_json() and _transfers() == moved
    refused(client, "POST", f"{url}/release", with_key(customer, new_key()), 409, "conflict")
    detail = call(client, "GET", f"/projects/{task.id}", worker).get_json()
    assert [m["state"] for m in detail["milestones"]] == ["released"]
    assert run_checks(MONEY_CHECKS) == []


def test_funding_is_held_once_per_key(client, task, referrer, bearer):
    customer = bearer(referrer, "projects", "wallet")
    first = _add(client, task, customer).get_json()
    second = _add(client, task, customer, title="Part two", amount_minor=50_00).get_json()
    key = new_key("api-fund")
    funded = call(client, "POST", f"/milestones/{first['id']}/fund", with_key(customer, key))
    held = _transfers()
    retried = call(client, "POST", f"/milestones/{first['id']}/fund", with_key(customer, key))
    assert retried.get_json() == funded.get_json() and _transfers() == held
    # the same key for another milestone is another request: refused, nothing held
    body = refused(client, "POST", f"/milestones/{second['id']}/fund",
                   with_key(customer, key), 422, "key-reused")
    assert body["errors"] == [{"in": "headers", "field": "Idempotency-Key",
                               "message": "Used before with another body."}]
    assert _transfers() == held
    assert wallets(referrer) == [(350_00, 150_00)]
    refused(client, "POST", f"/milestones/{second['id']}/fund", customer, 422,
            "validation-failed")  # no key at all
    assert run_checks(MONEY_CHECKS) == []


def test_milestones_are_refused_as_the_page_refuses(client, make_member, task, referrer,
                                                    performer, bearer):
    customer = bearer(referrer, "projects", "wallet")
    milestone = _add(client, task, customer).get_json()
    url = f"/milestones/{milestone['id']}"
    outsider = bearer(make_member("outsider"), "read", "projects", "wallet")
    refused(client, "GET", url, outsider, 404, "not-found")
    refused(client, "POST", f"{url}/fund", outsider, 404, "not-found")
    refused(client, "POST", f"/projects/{task.id}/milestones", outsider, 404, "not-found",
            json={})
    # funding needs the wallet scope, adding the projects scope
    refused(client, "POST", f"{url}/fund", with_key(bearer(referrer, "projects"), new_key()),
            403, "forbidden")
    refused(client, "POST", f"/projects/{task.id}/milestones", bearer(referrer, "read"), 403,
            "forbidden", json={})
    # the performer neither adds nor funds; over the price is the service's refusal
    assert _add(client, task, bearer(performer, "projects")).status_code == 403
    refused(client, "POST", f"{url}/fund",
            with_key(bearer(performer, "wallet"), new_key()), 403, "not-allowed")
    over = _add(client, task, customer, amount_minor=300_00).get_json()
    assert over["errors"][0]["field"] == "amount"
    refused(client, "POST", f"{url}/deliver", bearer(performer, "projects"), 409,
            "conflict", json={"note": "Early."})
