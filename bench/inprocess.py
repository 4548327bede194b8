"""What a page costs in Python, without the server: the app called directly through
Flask's test client, logged in through the real form, each request timed as the CPU
time of this thread (``time.thread_time``: what the request cost this process, not what
the VM's neighbours took), pages interleaved round by round; the median per page and
its number of SQL statements.

Run by ``bench/web.py`` beside each wrk table (the same database and settings, from the
environment), or alone on a database made by ``flask demo generate --report made.json``::

    DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python bench/inprocess.py --made made.json
    ... --made made.json --rounds 60 --html /tmp/pages    # and keep each page's HTML

(``--html`` writes each page's HTML, CSRF tokens blanked, to compare two builds' pages
for the same database), or with pages of your own:
``bench/inprocess.py --pages '{"board": ["/gigs", "m33"]}'``. ``--json`` prints one
JSON object (page → ``{"cpu_ms", "statements"}``) instead of the table. A page that
answers anything but 200 is an error (exit 1), not a number.

``--post N`` measures placing an offer instead (``make bench``'s POST, a prepaid click):
N offers through the offer form, each on another (gig, member) pair of the report's
``offer_gig_ids`` × ``bench_members``; per offer the thread's CPU, its statements, how
long it waited for SQLite's write lock (BEGIN IMMEDIATE) and how long it held it
(from BEGIN IMMEDIATE to the end of COMMIT, wall and CPU). An answer other than a
redirect to the new offer is an error. Several processes side by side, each with its
own ``--skip``, show the lock under load as gunicorn's workers take it.
``--profile FILE`` also writes a cProfile of the last half of the POSTs
(``python -m pstats FILE``). Placing offers changes the database: use a copy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "offload demo passphrase"  # offload.demo.data.DEMO_PASSWORD
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def log_in(app, username: str):
    client = app.test_client()
    if not username:
        return client
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    landed = client.post("/login", data={"login": username, "password": PASSWORD,
                                         "csrf_token": token})
    if landed.status_code != 302 or "/dashboard" not in landed.location:
        raise RuntimeError(f"log-in as {username} failed ({landed.status_code})")
    return client


def deep_board_path() -> str:
    """The board page 90% of the way down the newest-first list (its cursor); in an app
    context."""
    from sqlalchemy import func, select

    from offload.core.db import db, utcnow
    from offload.gigs.filters import BoardSort, encode_cursor
    from offload.gigs.models import OPEN, Gig

    live = select(Gig).where(Gig.state == OPEN, Gig.deadline >= utcnow().date())
    n = db.session.scalar(select(func.count()).select_from(live.subquery()))
    gig = db.session.scalars(live.order_by(Gig.published_at.desc(), Gig.id.desc())
                             .offset(int(n * 0.9)).limit(1)).one()
    return "/gigs?before=" + encode_cursor(BoardSort.NEWEST, gig.published_at, gig.id)


def standard_pages(made: dict, deep: str) -> dict[str, tuple[str, str]]:
    """``make bench``'s pages (but the offer POST) for a ``flask demo generate`` report."""
    member, poster = made["login"], made["showcase_poster"]
    return {"bare endpoint": ("/healthz", ""),
            "board": ("/gigs", member),
            "search, common word": ("/gigs?q=client", member),
            "search, rare word": ("/gigs?q=cobol", member),
            "board, deep page": (deep, member),
            "gig page, 50 offers": (f"/gigs/{made['showcase_gig_id']}", poster),
            "dashboard": ("/dashboard", member),
            "project, 500 events": (f"/projects/{made['showcase_project_id']}", member),
            "wallet": ("/wallet", member)}


def measure(app, pages: dict[str, tuple[str, str]], rounds: int, warm: int = 5,
            html: Path | None = None) -> dict[str, dict[str, float]]:
    from sqlalchemy import event

    from offload.core.db import db

    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute",
                     lambda *_: statements.__setitem__(0, statements[0] + 1))
    users = {username: log_in(app, username) for _, username in pages.values()}
    times: dict[str, list[float]] = {name: [] for name in pages}
    counts: dict[str, int] = {}
    for round_no in range(warm + rounds):
        for name, (path, username) in pages.items():
            statements[0] = 0
            started = time.thread_time()
            response = users[username].get(path)
            spent = time.thread_time() - started
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {path} answered {response.status_code}")
            counts[name] = statements[0]
            if round_no >= warm:
                times[name].append(spent * 1000)
            elif round_no == 0 and html is not None:
                html.mkdir(parents=True, exist_ok=True)
                text = re.sub(r'value="[^"]{40,}"', 'value="csrf"', response.get_data(as_text=True))
                (html / (re.sub(r"\W+", "-", name) + ".html")).write_text(text)
    return {name: {"cpu_ms": round(statistics.median(spent), 3), "statements": counts[name]}
            for name, spent in times.items()}


def offer_pairs(made: dict, count: int) -> list[tuple[str, int]]:
    """``count`` (member, gig) pairs no member has offered on, none the member's own gig."""
    from sqlalchemy import select

    from offload.accounts.models import User
    from offload.core.db import db
    from offload.gigs.models import Gig

    gigs = dict(db.session.execute(select(Gig.id, Gig.poster_id)
                                   .where(Gig.id.in_(made["offer_gig_ids"]))).all())
    members = dict(db.session.execute(select(User.username, User.id)
                                      .where(User.username.in_(made["bench_members"]))).all())
    pairs = [(name, gig) for name in made["bench_members"][:32] for gig in sorted(gigs)
             if gigs[gig] != members[name]]
    if len(pairs) < count:
        raise RuntimeError(f"only {len(pairs)} fresh (member, gig) pairs")
    return pairs[:count]


def measure_post(app, made: dict, count: int, profile: Path | None = None,
                 skip: int = 0) -> dict:
    """Place ``count`` offers (see the module's note); medians per offer."""
    import cProfile

    from sqlalchemy import event

    from offload.core.db import db

    statements, held, waited, began = [0], [], [], {}

    def before(conn, cursor, statement, *_):
        statements[0] += 1
        if statement == "BEGIN IMMEDIATE":
            began["asked"] = time.perf_counter()

    def after(conn, cursor, statement, *_):
        if statement == "BEGIN IMMEDIATE":  # the lock is ours from here
            began["at"] = (time.perf_counter(), time.thread_time())
            waited.append((began["at"][0] - began.pop("asked")) * 1000)

    def ended(conn):
        if "at" in began:
            wall, cpu = began.pop("at")
            held.append(((time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        event.listen(db.engine, "commit", ended)
        event.listen(db.engine, "rollback", ended)
        pairs = offer_pairs(made, skip + count)[skip:]
    clients, tokens = {}, {}
    for name, gig in pairs:
        if name not in clients:
            clients[name] = log_in(app, name)
            page = clients[name].get(f"/gigs/{gig}/offers/new").get_data(as_text=True)
            tokens[name] = CSRF.search(page).group(1)
    profiler = cProfile.Profile() if profile else None
    times, counts = [], []
    for i, (name, gig) in enumerate(pairs):
        data = {"offer-csrf_token": tokens[name], "offer-idempotency_key": f"bench-{i}",
                "offer-price": "450", "offer-days_to_deliver": "7",
                "offer-fee_kind": "prepaid", "offer-cover_letter": "Benchmark offer"}
        statements[0] = 0
        held_before = len(held)
        if profiler and i >= count // 2:
            profiler.enable()
        started = time.thread_time()
        response = clients[name].post(f"/gigs/{gig}/offers/new", data=data)
        spent = time.thread_time() - started
        if profiler:
            profiler.disable()
        if response.status_code != 302 or not re.fullmatch(r"/offers/\d+", response.location):
            said = re.findall(r'class="[^"]*error[^"]*"[^>]*>\s*([^<]*\w[^<]*)<',
                              response.get_data(as_text=True))
            raise RuntimeError(f"offer {i} by {name} on gig {gig} answered "
                               f"{response.status_code} {response.location} {said[:2]}")
        if len(held) != held_before + 1:
            raise RuntimeError(f"offer {i}: {len(held) - held_before} write transactions")
        times.append(spent * 1000)
        counts.append(statements[0])
    if profiler:
        profiler.dump_stats(str(profile))
    return {"cpu_ms": round(statistics.median(times), 3), "statements": max(counts),
            "lock_held_ms": round(statistics.median(h[0] for h in held), 3),
            "lock_held_cpu_ms": round(statistics.median(h[1] for h in held), 3),
            "lock_held_p90_ms": round(sorted(h[0] for h in held)[int(len(held) * 0.9)], 3),
            "lock_wait_ms": round(statistics.median(waited), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--made", type=Path, help="the report of flask demo generate")
    which.add_argument("--pages", help='JSON: {"name": ["/path", "username or empty"]}')
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--html", type=Path, help="write each page's HTML here")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    parser.add_argument("--post", type=int, metavar="N",
                        help="place N offers (needs --made) instead of the pages")
    parser.add_argument("--profile", type=Path, help="with --post: a cProfile of the POSTs")
    parser.add_argument("--skip", type=int, default=0,
                        help="with --post: start past this many pairs (for processes run "
                             "side by side, each on pairs of its own)")
    args = parser.parse_args()
    os.environ.setdefault("OFFLOAD_RATELIMIT_ENABLED", "false")
    from offload import create_app

    app = create_app()
    if args.post:
        if not args.made:
            parser.error("--post needs --made")
        try:
            found = measure_post(app, json.loads(args.made.read_text()), args.post,
                                 args.profile, args.skip)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        print(json.dumps(found) if args.json else "\n".join(
            f"{name:<18} {value}" for name, value in found.items()))
        return 0
    if args.made:
        with app.app_context():
            pages = standard_pages(json.loads(args.made.read_text()), deep_board_path())
    else:
        pages = {name: tuple(page) for name, page in json.loads(args.pages).items()}
    try:
        found = measure(app, pages, args.rounds, html=args.html)
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(found))
        return 0
    print(f"{'page':<22} {'CPU ms (median)':>15} {'statements':>10}")
    for name, row in found.items():
        print(f"{name:<22} {row['cpu_ms']:15.2f} {row['statements']:10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
