"""Time the admin's invite-tree explorer on a generated tree (not run by the tests).

    .venv/bin/python bench/tree.py --members 100000                      # SQLite
    .venv/bin/python bench/tree.py --members 100000 \\
        --postgresql postgresql+psycopg://postgres@127.0.0.1:54329/offload_tree_bench

SQLite uses a file in a temporary folder; PostgreSQL a scratch database (its tables are
dropped and created). Prints, for the root, a member in the middle and the deepest
member: the median and 90th percentile of one whole page (request to HTML, logged in
as an admin, through the test client) and the number of SQL statements it ran.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from offload.accounts.models import User  # noqa: E402
from offload.core.db import db  # noqa: E402
from offload.invites.fake import generate_tree  # noqa: E402
from offload.invites.tree import line_to_root  # noqa: E402
from tests.conftest import PASSWORD, _hashed, make_app, new_member  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--postgresql", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extra = {"SQLALCHEMY_DATABASE_URI": args.postgresql} if args.postgresql else {}
        app = make_app(Path(tmp), **extra)
        with app.app_context():
            if args.postgresql:
                with db.engine.begin() as conn:
                    conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.create_all()
            root = new_member("root", admin=True)
            started = time.perf_counter()
            ids = generate_tree(args.members, root=root, password_hash=_hashed(PASSWORD))
            print(f"{args.members:,} members generated in {time.perf_counter() - started:.1f} s "
                  f"on {db.engine.dialect.name}")
            deepest = max(ids[-2000:], key=lambda i: len(line_to_root(i)))
            targets = {"root": "root",
                       "middle": db.session.get(User, ids[len(ids) // 2]).username,
                       f"deepest ({len(line_to_root(deepest))} levels)":
                           db.session.get(User, deepest).username}
            db.session.remove()
            client = app.test_client()
            client.post("/login", data={"login": "root", "password": PASSWORD})
            print(f"{'page':<28}{'median ms':>10}{'p90 ms':>9}{'queries':>9}")
            for label, username in targets.items():
                timings, statements = [], []
                def listener(*_, counted=statements):
                    counted.append(1)
                event.listen(db.engine, "before_cursor_execute", listener)
                for _ in range(args.runs):
                    statements.clear()
                    started = time.perf_counter()
                    assert client.get(f"/admin/tree/{username}").status_code == 200
                    timings.append((time.perf_counter() - started) * 1000)
                event.remove(db.engine, "before_cursor_execute", listener)
                timings.sort()
                print(f"{label:<28}{statistics.median(timings):>10.1f}"
                      f"{timings[int(len(timings) * 0.9) - 1]:>9.1f}{len(statements):>9}")


if __name__ == "__main__":
    main()
