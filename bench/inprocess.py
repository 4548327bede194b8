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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--made", type=Path, help="the report of flask demo generate")
    which.add_argument("--pages", help='JSON: {"name": ["/path", "username or empty"]}')
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--html", type=Path, help="write each page's HTML here")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    args = parser.parse_args()
    os.environ.setdefault("OFFLOAD_RATELIMIT_ENABLED", "false")
    from offload import create_app

    app = create_app()
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
