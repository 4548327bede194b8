"""The hot reads have an index path: no full scan of a big table, no sort of an
unbounded set, on SQLite and PostgreSQL (their EXPLAIN, on a few thousand generated
gigs with fresh statistics).

PostgreSQL may rightly prefer a sequential scan of a small table, so its plans are
read with ``enable_seqscan`` and ``enable_sort`` off: a Seq Scan or Sort that is still
there has no index alternative. Sorts that are bounded by design are allowed: loads
of a page's own rows by their ids (skills of the page's gigs), and where named: the
search's candidate set (at most GIG_SEARCH_CANDIDATES rows) and the dashboard's
matching gigs (each skill's newest few, merged).
"""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select, text

from offload.core.db import db, utcnow
from offload.gigs.fake import generate_gigs
from offload.gigs.filters import BoardFilters
from offload.gigs.models import OPEN, Gig
from offload.gigs.queries import board_page, gig_page, matching_gigs_for
from offload.invites.fake import generate_tree
from offload.notifications.queries import unread_count
from offload.profiles.models import MemberSkill, Skill

BIG_TABLES = {"gigs", "gig_skills", "users", "offers", "notifications", "member_skills",
              "project_events", "offer_messages", "transfers", "ledger_accounts"}


@pytest.fixture
def data(make_member):
    rng = random.Random(3)
    root = make_member("root", admin=True)
    members = generate_tree(300, root=root, password_hash="x", seed=3)
    db.session.add_all(Skill(slug=n.lower(), name=n) for n in ("Python", "Go", "Rust", "SQL"))
    db.session.commit()
    skills = list(db.session.scalars(select(Skill).order_by(Skill.id)))
    db.session.add_all(MemberSkill(user_id=m, skill_id=skills[m % 4].id) for m in members)
    db.session.commit()
    generate_gigs(4000, members, skills, rng)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    # SQLite reads the statistics when a connection loads the schema: pooled connections
    # opened by earlier tests in this process would plan with the old ones
    db.engine.dispose()
    return members


def statements_of(work) -> list[tuple[str, object]]:
    seen: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    db.session.rollback()
    return seen


def problems(statement: str, parameters, *, sort_allowed: bool = False) -> list[str]:
    """Full scans of big tables and (unless allowed) sorts in the plan of one statement."""
    found = []
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.exec_driver_sql("SET enable_sort = off")
            plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                        parameters).scalar()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            for node in _nodes(plan[0]["Plan"]):
                if node["Node Type"] == "Seq Scan" and node["Relation Name"] in BIG_TABLES:
                    found.append(f"Seq Scan on {node['Relation Name']}")
                if node["Node Type"] in ("Sort", "Incremental Sort") and not sort_allowed:
                    found.append(f"Sort by {node.get('Sort Key')}")
        else:
            for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                detail = row[3]
                words = detail.split()
                if (words[:1] == ["SCAN"] and words[1] in BIG_TABLES
                        and "INDEX" not in detail):
                    found.append(detail)
                if "TEMP B-TREE" in detail and not sort_allowed:
                    found.append(detail)
    return found


def _nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


# a load of the page's own rows by their ids (``WHERE x IN (?, ?, …)``; psycopg's
# parameters may carry a cast, ``%(ids_1)s::INTEGER``): whatever it sorts is bounded by
# the page size
_PARAMETER = r"(?:\?|%\(\w+\)s(?:::\w+)?)"
_PAGE_LOAD = re.compile(rf"\bIN \({_PARAMETER}(?:, {_PARAMETER})*\)")


def assert_indexed(work, *, sort_allowed: bool = False) -> None:
    statements = statements_of(work)
    assert statements
    report = {" ".join(s.split())[:160]: p for s, params in statements
              if (p := problems(s, params,
                                sort_allowed=sort_allowed or bool(_PAGE_LOAD.search(s))))}
    assert report == {}


@pytest.mark.parametrize("args", [
    {}, {"sort": "budget"}, {"sort": "deadline"}, {"kind": "task"},
    {"category": "web", "sort": "budget"}, {"budget_min": "100", "budget_max": "2000"},
    {"due_by": (utcnow().date() + timedelta(days=60)).isoformat()},
], ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()) or "board")
def test_the_board_walks_an_index_in_its_order(data, args):
    filters, errors = BoardFilters.from_args(args)
    assert not errors
    assert_indexed(lambda: board_page(filters))


def test_a_deep_board_page_walks_the_index_from_its_cursor(data):
    filters, _ = BoardFilters.from_args({})
    cursor = None
    for _ in range(40):
        cursor = board_page(filters, cursor).next_cursor
    assert cursor is not None
    assert_indexed(lambda: board_page(filters, cursor))


@pytest.mark.parametrize("args", [{"q": "client"}, {"q": "cobol"}, {"skills": "python"},
                                  {"q": "client", "sort": "newest"}, {"q": "cli"},
                                  {"q": "client", "skills": "go", "sort": "budget"}],
                         ids=lambda a: "&".join(f"{k}={v}" for k, v in a.items()))
def test_a_search_reads_a_bounded_candidate_set_by_index(data, args):
    filters, _ = BoardFilters.from_args(args)
    # sorting the at most GIG_SEARCH_CANDIDATES candidates is the design (board.py)
    assert_indexed(lambda: board_page(filters), sort_allowed=True)


def test_a_later_page_by_relevance_reads_the_same_bounded_set(data):
    filters, _ = BoardFilters.from_args({"q": "client"})  # by relevance: the default
    cursor = board_page(filters).next_cursor
    assert cursor and cursor.startswith("r")
    assert_indexed(lambda: board_page(filters, cursor), sort_allowed=True)


def test_the_gig_page_the_dashboard_matches_and_the_unread_count_use_indexes(data):
    gig_id = db.session.scalar(select(Gig.id).where(Gig.state == OPEN).limit(1))
    member = data[5]
    assert_indexed(lambda: gig_page(gig_id, None))
    assert_indexed(lambda: unread_count(member))
    # merges each skill's newest ``limit`` gigs: it sorts at most skills × limit ids
    assert_indexed(lambda: matching_gigs_for(member), sort_allowed=True)
