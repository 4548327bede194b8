"""The plan rules of the query-plan tests (tests/*/test_query_plans.py):
``assert_indexed(work)`` runs ``work`` and reads the plan of every SELECT it ran, on
SQLite and PostgreSQL: no full scan of a big table, no sort of an unbounded set.

PostgreSQL may rightly prefer a sequential scan of a small table, so its plans are
read with ``enable_seqscan`` and ``enable_sort`` off: a Seq Scan or Sort that is still
there has no index alternative. A load of a page's own rows by their ids may sort.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import event

from offload.core.db import db

BIG_TABLES = {"gigs", "gig_skills", "users", "offers", "notifications", "member_skills",
              "project_events", "offer_messages", "transfers", "ledger_accounts"}


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
