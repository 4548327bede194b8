"""The dispute queue: each line names the gig, the milestone and its amount,
both parties and how long the dispute has waited; oldest first, a page at a time, one
query a page."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from offload.core.db import db, utcnow
from offload.milestones import disputes
from offload.milestones import services as ms
from offload.milestones.models import Dispute, Milestone
from offload.milestones.queries import open_disputes_page
from tests.support.factories import PASSWORD

_keys = itertools.count(1)


def key() -> str:
    return f"dispute-queue-key-{next(_keys)}"


def fresh(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def add(project, customer, amount=200_00, title="Part one"):
    return ms.add_milestone(project, actor=customer, title=title, amount_minor=amount,
                            due_on=utcnow().date() + timedelta(days=5))


@pytest.fixture
def admin(make_member):
    return make_member("judge", admin=True)


@pytest.fixture
def open_disputes(start_project, referrer, performer, fund):
    """``open_disputes(n)``: n task projects, each with a disputed $1xx milestone; the
    i-th dispute opened i+1 days ago (so the last made is the oldest)."""
    def make(n: int) -> list[Dispute]:
        fund(performer, n * 1_00)  # a prepaid click per offer
        fund(referrer, n * 200_00)
        made = []
        for i in range(n):
            project = start_project(kind="task", title=f"Shop rewrite {i}")
            m = add(project, referrer, 100_00 + i * 1_00, title=f"Part {i}")
            ms.fund_milestone(m, actor=referrer, idempotency_key=key())
            made.append(disputes.open_dispute(fresh(Milestone, m.id), actor=referrer,
                                              statement="It doesn't work"))
        for i, d in enumerate(made):
            db.session.execute(update(Dispute).where(Dispute.id == d.id)
                               .values(created_at=utcnow() - timedelta(days=i + 1, hours=1)))
        db.session.commit()
        return made

    return make


def test_each_line_names_gig_milestone_amount_parties_and_wait(
        client, login, admin, open_disputes):
    oldest = open_disputes(3)[-1]
    login(admin)
    page = client.get("/admin/disputes").get_data(as_text=True)
    items = re.findall(r'<li class="dispute-item" id="dispute-(\d+)">(.*?)</li>', page, re.S)
    assert [int(i) for i, _ in items][0] == oldest.id
    text = " ".join(re.sub(r"<[^>]+>", " ", items[0][1]).split())
    assert "“Part 2” on “Shop rewrite 2”" in text
    assert "$102.00" in text
    assert "Rita Referrer" in text and "Pete Performer" in text
    assert "waiting 3 days" in text


def test_oldest_first_a_page_at_a_time_one_query_a_page(
        app, client, login, admin, open_disputes, count_queries, monkeypatch, referrer):
    made = open_disputes(5)
    # a resolved one is off the queue
    disputes.resolve_dispute(fresh(Dispute, made[0].id), actor=admin, outcome="refund",
                             reason="Not delivered", password=PASSWORD)
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    with count_queries() as statements:
        first = open_disputes_page()
    assert len(_queries(statements)) == 1
    with count_queries() as statements:
        second = open_disputes_page(first.next_cursor)
    assert len(_queries(statements)) == 1
    ids = [d.id for d in first.items + second.items]
    assert ids == [made[4].id, made[3].id, made[2].id, made[1].id]
    assert second.next_cursor is None and not second.is_first
    assert [d.id for d in open_disputes_page("not-a-cursor").items] == ids[:2]

    login(admin)
    seen, url = [], "/admin/disputes"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += [int(i) for i in re.findall(r'id="dispute-(\d+)"', page)]
        nxt = re.search(r'href="([^"]*)">Next', page)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None
    assert seen == ids


def test_the_queue_page_runs_the_same_queries_at_any_size(
        client, login, admin, open_disputes, count_queries):
    open_disputes(2)
    login(admin)
    with count_queries() as before:
        assert client.get("/admin/disputes").status_code == 200
    open_disputes(4)
    with count_queries() as after:
        assert client.get("/admin/disputes").status_code == 200
    assert len(after) == len(before)


def _queries(statements: list[str]) -> list[str]:
    # whether the block opens the session's transaction (a BEGIN) depends on what ran before
    return [s for s in statements if not s.startswith("BEGIN")]
