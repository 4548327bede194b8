"""In-process CPU per page: the WSGI app called through Flask's test client, logged in.

For a database made by ``flask demo generate --report made.json`` (DATABASE_URL), this
logs in through the real form, then requests the board, a search for a common and a
rare word, the board page 90% of the way down and the showcase gig page (as its
poster, who sees the ranked offers), in interleaved rounds, and prints each page's
median thread CPU time (``time.thread_time``: what the request cost this process, not
what the VM's neighbours took) and its number of SQL statements.

```sh
DATABASE_URL=sqlite:////tmp/demo.db .venv/bin/python bench/pages_cpu.py made.json
.venv/bin/python bench/pages_cpu.py made.json --rounds 60 --html /tmp/pages   # keep the HTML
```

``--html`` writes each page's HTML (CSRF tokens blanked) to a folder, to compare two
builds' pages for the same database.
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

from sqlalchemy import event, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from offload import create_app  # noqa: E402
from offload.core.db import db, utcnow  # noqa: E402
from offload.gigs.filters import BoardSort, encode_cursor  # noqa: E402
from offload.gigs.models import OPEN, Gig  # noqa: E402

PASSWORD = "offload demo passphrase"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def deep_cursor() -> str:
    live = select(Gig).where(Gig.state == OPEN, Gig.deadline >= utcnow().date())
    n = db.session.scalar(select(func.count()).select_from(live.subquery()))
    gig = db.session.scalars(live.order_by(Gig.published_at.desc(), Gig.id.desc())
                             .offset(int(n * 0.9)).limit(1)).one()
    return encode_cursor(BoardSort.NEWEST, gig.published_at, gig.id)


def logged_in(app, username: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF.search(page)
    data = {"login": username, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/login", data=data)
    if response.status_code != 302:
        raise RuntimeError(f"log-in as {username} failed: {response.status_code}")
    return client


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("made", type=Path, help="the report of flask demo generate")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--html", type=Path, help="write each page's HTML here")
    args = parser.parse_args()
    made = json.loads(args.made.read_text())
    os.environ.setdefault("OFFLOAD_RATELIMIT_ENABLED", "false")
    app = create_app()
    statements = [0]
    with app.app_context():
        deep = deep_cursor()
        event.listen(db.engine, "before_cursor_execute",
                     lambda *a: statements.__setitem__(0, statements[0] + 1))
    member, poster = logged_in(app, made["login"]), logged_in(app, made["showcase_poster"])
    pages = [("board", "/gigs", member),
             ("search, common word", "/gigs?q=client", member),
             ("search, rare word", "/gigs?q=cobol", member),
             ("board, deep page", f"/gigs?before={deep}", member),
             ("gig page, 50 offers", f"/gigs/{made['showcase_gig_id']}", poster)]
    times: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    counts: dict[str, int] = {}
    for name, path, client in pages:  # warm up: the first request builds what is cached
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        if args.html:
            args.html.mkdir(parents=True, exist_ok=True)
            html = re.sub(r'value="[^"]{40,}"', 'value="csrf"', response.get_data(as_text=True))
            (args.html / (name.replace(", ", "-").replace(" ", "-") + ".html")).write_text(html)
    for _ in range(args.rounds):
        for name, path, client in pages:
            statements[0] = 0
            started = time.thread_time()
            client.get(path)
            times[name].append((time.thread_time() - started) * 1000)
            counts[name] = statements[0]
    print(f"{'page':<22} {'CPU ms (median)':>15} {'p90':>7} {'statements':>10}")
    for name, _, _ in pages:
        samples = sorted(times[name])
        print(f"{name:<22} {statistics.median(samples):15.2f} "
              f"{samples[int(len(samples) * 0.9)]:7.2f} {counts[name]:10d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
