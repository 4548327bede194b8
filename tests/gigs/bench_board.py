"""Time the board and its search on many generated gigs (not collected by pytest).

    .venv/bin/python -m tests.gigs.bench_board --gigs 100000                  # SQLite
    .venv/bin/python -m tests.gigs.bench_board --gigs 100000 \\
        --postgresql postgresql+psycopg://postgres@127.0.0.1:54329/postgres

On PostgreSQL it creates a database of its own (``offload_gigs_bench``) and drops it
afterwards; on SQLite it uses a file in a temporary folder. Prints, for each case,
the median and 90th percentile time of one ``board_page()`` call (SQL and ORM
loading of 20 gigs with posters and skills), the number of SQL statements, and the
query plans of the hot statements.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

import offload.gigs.models  # noqa: F401
from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.gigs.fake import RARE_WORDS, generate_gigs
from offload.gigs.filters import BoardFilters, BoardSort, encode_cursor
from offload.gigs.models import Gig
from offload.gigs.queries import board_page, gig_page, matching_gigs_for
from offload.profiles.models import MemberSkill, Skill
from tests.support.app import make_app

SKILL_NAMES = ["Python", "JavaScript", "TypeScript", "React", "Django", "Flask", "Go", "Rust",
               "Java", "Kotlin", "Swift", "PostgreSQL", "SQLite", "Docker", "Kubernetes",
               "AWS", "GCP", "Terraform", "Vue", "Svelte", "Node.js", "Ruby", "Rails", "PHP",
               "Laravel", "C#", ".NET", "C++", "Figma", "UX research", "Pandas", "Spark",
               "Airflow", "dbt", "Machine learning", "PyTorch", "iOS", "Android", "Flutter",
               "GraphQL", "Redis", "Elasticsearch", "Linux", "Ansible", "Security audit",
               "Accessibility", "SEO", "WordPress", "Shopify", "Stripe"]
PG_NAME = "offload_gigs_bench"


@contextmanager
def database(pg_url: str | None, keep: str | None = None):
    if not pg_url:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{keep or tmp + '/bench.db'}"
        return
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
    try:
        yield make_url(pg_url).set(database=PG_NAME).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        admin.dispose()


def populate(n_gigs: int, n_members: int, rng: random.Random) -> None:
    now = utcnow()
    db.session.execute(insert(User), [
        {"username": f"bench{i}", "email": f"bench{i}@example.com", "password_hash": "x",
         "display_name": f"Bench {i}", "email_confirmed_at": now, "created_at": now}
        for i in range(n_members)])
    db.session.execute(insert(Skill), [{"slug": n.lower(), "name": n, "created_at": now}
                                       for n in SKILL_NAMES])
    db.session.commit()
    members = list(db.session.scalars(select(User.id)))
    skills = list(db.session.scalars(select(Skill).order_by(Skill.id)))
    db.session.execute(insert(MemberSkill), [
        {"user_id": m, "skill_id": s.id}
        for m in members for s in rng.sample(skills, rng.randint(1, 6))])
    db.session.commit()
    started = time.perf_counter()
    generate_gigs(n_gigs, members, skills, rng)
    print(f"generated {n_gigs} gigs in {time.perf_counter() - started:.1f} s")
    db.session.execute(text("ANALYZE"))
    db.session.commit()


def timed(fn, repeat: int) -> tuple[float, float, int]:
    statements: list[str] = []

    def record(*args):
        statements.append(args[2])

    fn()  # warm up
    db.session.rollback()
    times = []
    for _ in range(repeat):
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", record)
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        event.remove(db.engine, "before_cursor_execute", record)
        db.session.rollback()
        db.session.expunge_all()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], len(statements)


def deep_cursor(filters: BoardFilters, page: int) -> str | None:
    """The cursor of page ``page`` (1-based), found by walking there once."""
    cursor = None
    for _ in range(page - 1):
        cursor = board_page(filters, cursor).next_cursor
        if cursor is None:
            break
    return cursor


def explain(sql_fn) -> None:
    statements: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    sql_fn()
    event.remove(db.engine, "before_cursor_execute", record)
    db.session.rollback()
    pg = db.engine.dialect.name == "postgresql"
    with db.engine.connect() as conn:
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            prefix = "EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) " if pg else "EXPLAIN QUERY PLAN "
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
            print("    --", " ".join(statement.split())[:300])
            for row in rows:
                print("    " + (row[0] if pg else f"{row[0]}:{row[1]} {row[3]}"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigs", type=int, default=100_000)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--postgresql", help="a server URL; the benchmark makes its own database")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--reuse", metavar="URL", help="time an existing benchmark database")
    parser.add_argument("--keep", help="keep the database: on SQLite build it in this file, "
                                       "on PostgreSQL don't drop it")
    args = parser.parse_args()
    rng = random.Random(8)
    if args.reuse:
        run_on(args.reuse, args, populate_first=False)
        return
    with database(args.postgresql, args.keep) as url:
        run_on(url, args, populate_first=True, rng=rng)


def run_on(url: str, args, *, populate_first: bool, rng: random.Random | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp), SQLALCHEMY_DATABASE_URI=url, TESTING=False)
        with app.app_context():
            if populate_first:
                db.create_all()
                populate(args.gigs, args.members, rng)
            run_cases(args)
            db.session.remove()
            db.engine.dispose()


def run_cases(args) -> None:
    open_count = db.session.scalar(text("SELECT count(*) FROM gigs WHERE state = 'open'"))
    having = ("SELECT count(*) FROM gigs WHERE state = 'open' "
              "AND lower(description) LIKE '%' || :word || '%'")
    common = db.session.scalar(text(having), {"word": "client"})
    rare = db.session.scalar(text(having), {"word": RARE_WORDS[0]})
    print(f"{db.engine.dialect.name}: {args.gigs} gigs, {open_count} open; "
          f"'client' in {common} open gigs, '{RARE_WORDS[0]}' in {rare}")
    cases = []
    for sort in BoardSort:
        cases.append((f"board {sort.value}", BoardFilters(sort=sort)))
    cases += [
        ("board skill python (popular)", BoardFilters(skills=("python",))),
        ("board skills python+react, web", BoardFilters(skills=("python", "react"),
                                                         category="web")),
        ("board skill stripe (rare)", BoardFilters(skills=("stripe",))),
        ("search common 'client'", BoardFilters(q="client")),
        ("search common, budget sort", BoardFilters(q="client", sort=BoardSort.BUDGET)),
        ("search common + kind", BoardFilters(q="client friendly", kind="task")),
        (f"search rare '{RARE_WORDS[0]}'", BoardFilters(q=RARE_WORDS[0])),
        ("search prefix 'dash*'", BoardFilters(q="dash*")),
        ("search no match", BoardFilters(q="zzzyzx")),
    ]
    print(f"{'case':38} {'page':>6} {'p50 ms':>8} {'p90 ms':>8} {'queries':>8}")
    for name, filters in cases:
        bounded = bool(filters.search or filters.skills)
        for page in (1, 50 if bounded else 1000):
            cursor = None
            if page > 1:
                cursor = (deep_cursor(filters, page) if bounded
                          else _cursor_at(filters.sort, page * 20))
                if cursor is None:
                    continue
            p50, p90, queries = timed(lambda f=filters, c=cursor: board_page(f, c), args.repeat)
            print(f"{name:38} {page:>6} {p50:8.2f} {p90:8.2f} "
                  f"{queries:8d}")
            if args.plans:
                explain(lambda f=filters, c=cursor: board_page(f, c))
    gig_id = db.session.scalar(select(Gig.id).where(Gig.state == "open").limit(1))
    for name, fn in (("gig page", lambda: gig_page(gig_id, db.session.get(User, 1))),
                     ("matching gigs for a member", lambda: matching_gigs_for(1, 10))):
        p50, p90, queries = timed(fn, args.repeat)
        print(f"{name:38} {'':>6} {p50:8.2f} {p90:8.2f} {queries:8d}")
        if args.plans and name.startswith("matching"):
            explain(fn)


def _cursor_at(sort: BoardSort, position: int) -> str | None:
    """The cursor after the ``position``-th gig of the unfiltered board (a deep page)."""
    today = utcnow().date()
    key = {BoardSort.NEWEST: Gig.published_at, BoardSort.BUDGET: Gig.budget_max_minor,
           BoardSort.DEADLINE: Gig.deadline}[sort]
    order = ((key.asc(), Gig.id.asc()) if sort == BoardSort.DEADLINE
             else (key.desc(), Gig.id.desc()))
    row = db.session.execute(select(key, Gig.id).where(Gig.state == "open",
                                                       Gig.deadline >= today)
                             .order_by(*order).offset(position - 1).limit(1)).first()
    db.session.rollback()
    return encode_cursor(sort, row[0], row[1]) if row else None


if __name__ == "__main__":
    main()
