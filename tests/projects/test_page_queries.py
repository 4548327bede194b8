"""The project page's cost: a fixed number of queries, whatever the page holds, and no
more than before the page became one read model (projects.queries.ProjectPage)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from offload.core.db import db, utcnow
from offload.milestones import disputes, price
from offload.milestones import services as ms
from offload.milestones.models import Milestone
from offload.projects.models import Project

_keys = itertools.count(1)

# what the page ran before ProjectPage (the view read six packages itself), per viewer
TASK_PAGE_QUERIES = {"poster": 16, "performer": 17, "admin": 15}
REFERRAL_PAGE_QUERIES = {"poster": 13, "performer": 14}


def _fresh(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def _milestone(project, customer, amount, title, *, fund=True) -> Milestone:
    m = ms.add_milestone(_fresh(Project, project.id), actor=customer, title=title,
                         amount_minor=amount, due_on=utcnow().date() + timedelta(days=5))
    if fund:
        ms.fund_milestone(_fresh(Milestone, m.id), actor=customer,
                          idempotency_key=f"page-queries-{next(_keys)}")
    return _fresh(Milestone, m.id)


def _count(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.fixture
def busy_task(start_project, referrer, performer, fund):
    """A $400 task project with a milestone in each state and a proposal pending."""
    fund(performer, 1_00)
    fund(referrer, 400_00)
    project = start_project(kind="task")
    released = _milestone(project, referrer, 50_00, "Released")
    ms.release_milestone(released, actor=referrer)
    delivered = _milestone(project, referrer, 50_00, "Delivered")
    ms.deliver_milestone(delivered, actor=performer, note="On staging")
    disputed = _milestone(project, referrer, 50_00, "Disputed")
    disputes.open_dispute(disputed, actor=referrer, statement="Not what we agreed.")
    _milestone(project, referrer, 50_00, "Funded")
    _milestone(project, referrer, 50_00, "Draft", fund=False)
    price.propose_lower_price(_fresh(Project, project.id), actor=performer,
                              price_minor=390_00, reason="Less to do.")
    return _fresh(Project, project.id)


@pytest.mark.parametrize("viewer", ["poster", "performer", "admin"])
def test_the_task_project_page_runs_no_more_queries_than_before(
        client, login, busy_task, referrer, performer, make_member, count_queries, viewer):
    login({"poster": referrer, "performer": performer,
           "admin": make_member("boss", admin=True)}[viewer])
    url = f"/projects/{busy_task.id}"
    first = _count(client, count_queries, url)
    assert first <= TASK_PAGE_QUERIES[viewer]
    for n in range(3):  # more milestones, more of the same: no more queries
        _milestone(busy_task, referrer, 10_00, f"More {n}", fund=n % 2 == 0)
    assert _count(client, count_queries, url) == first


@pytest.mark.parametrize("viewer", ["poster", "performer"])
def test_the_referral_project_page_runs_no_more_queries_than_before(
        client, login, start_project, referrer, performer, fund, count_queries, viewer):
    from offload.commissions.services import complete_referral

    fund(performer, 500_00)
    project = start_project()
    complete_referral(_fresh(Project, project.id), actor=performer, invoiced_minor=1500_00,
                      idempotency_key="page-queries-complete",
                      invoice_reason="The client cut the scope.")
    login({"poster": referrer, "performer": performer}[viewer])
    count = _count(client, count_queries, f"/projects/{project.id}")
    assert count <= REFERRAL_PAGE_QUERIES[viewer]
