"""A large plausible invite tree, fast: for the tree explorer's tests and benchmark.

Members go in with bulk INSERTs (confirmed, one shared password hash), each invited
by a random earlier member, so the tree is deep in places and wide in others, like a
network that grew by vouching. Bypasses the services, not the database's constraints.
"""

from __future__ import annotations

import random

from sqlalchemy import bindparam, func, insert, select, text, update

from offload.accounts.lineage import add_to_branch_sizes
from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow

BATCH = 5000


def generate_tree(count: int, *, root: User, password_hash: str, seed: int = 7,
                  prefix: str = "m") -> list[int]:
    """Insert ``count`` members below ``root``; their ids, in insertion order.

    Each new member's inviter is chosen among the members so far, favouring recent
    ones (half the time one of the last 50), which gives long lines as well as bushy
    branches.
    """
    rng = random.Random(seed)
    now = utcnow()
    ids = [root.id]
    parent: dict[int, int | None] = {root.id: None}
    next_id = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    made: list[int] = []
    for start in range(0, count, BATCH):
        rows = []
        for n in range(start, min(count, start + BATCH)):
            inviter = ids[-rng.randint(1, min(50, len(ids)))] if rng.random() < 0.5 \
                else rng.choice(ids)
            member_id = next_id + n
            rows.append({"id": member_id, "branch_size": 0, "username": f"{prefix}{n}",
                         "email": f"{prefix}{n}@tree.example", "password_hash": password_hash,
                         "display_name": f"Member {n}", "email_confirmed_at": now,
                         "invited_by_id": inviter, "created_at": now, "is_admin": False,
                         "account_type": "individual", "session_token": f"t{member_id}",
                         "invitees_suspended": 0})
            ids.append(member_id)
            made.append(member_id)
            parent[member_id] = inviter
        with atomic():
            db.session.execute(insert(User), rows)
    if db.engine.dialect.name == "postgresql":
        with atomic():
            db.session.execute(select(func.setval(func.pg_get_serial_sequence("users", "id"),
                                                  next_id + count - 1)))
    # what accounts.lineage keeps: each new member counts for everyone above them
    below: dict[int, int] = {}
    for member_id in made:
        up = parent[member_id]
        while up is not None:
            below[up] = below.get(up, 0) + 1
            up = parent.get(up)
    items = sorted(below.items())
    for start in range(0, len(items), BATCH):
        with atomic():
            users = User.__table__  # a Core executemany: one statement, many rows
            db.session.execute(
                update(users).where(users.c.id == bindparam("member_id"))
                .values(branch_size=users.c.branch_size + bindparam("added")),
                [{"member_id": m, "added": n} for m, n in items[start:start + BATCH]])
    if root.invited_by_id is not None:  # the root's own line counts them too
        with atomic():
            add_to_branch_sizes(root.invited_by_id, count)
    with atomic():  # fresh statistics, as autovacuum would gather, so plans use the indexes
        db.session.execute(text("ANALYZE users"))
    return made
