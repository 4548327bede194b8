"""The invite edges as the users table keeps them: ``invited_by_id``, and each member's
``branch_size`` (how many members are below them), kept up to date here so that the
admin's tree explorer reads a branch's size from one row instead of walking it.

Whoever adds a member with an inviter, or moves one (a reparent), first takes
``lock_tree()`` and then calls ``add_to_branch_sizes`` in the same transaction: one
UPDATE of the short line from the inviter up to the root. The lock makes tree writes
take turns, so a sign-up below a member being moved, or two reparents that would make
a loop, can't interleave (sign-ups and reparents are rare; reading takes no lock).
"""

from __future__ import annotations

from sqlalchemy import func, literal, select, update

from offload.core.db import db

from .models import User

LINE_MAX = 1000  # deeper than any real tree; a guard against a loop, not a rule


def line_up(member_id: int):
    """A recursive CTE of (id, depth): the member (depth 0), their inviter, ... the root."""
    up = (select(User.id, User.invited_by_id, literal(0).label("depth"))
          .where(User.id == member_id).cte("up", recursive=True))
    return up.union_all(
        select(User.id, User.invited_by_id, (up.c.depth + 1).label("depth"))
        .join(up, User.id == up.c.invited_by_id).where(up.c.depth < LINE_MAX))


TREE_LOCK = 7_404_011  # the advisory lock's key: any number no other code uses


def lock_tree() -> None:
    """Wait for any other change of the invite tree to commit (PostgreSQL: an advisory
    lock held until the transaction ends; SQLite's BEGIN IMMEDIATE already serialises
    writers)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(func.pg_advisory_xact_lock(TREE_LOCK)))


def add_to_branch_sizes(from_member_id: int, delta: int) -> None:
    """``delta`` members joined (or left, negative) the branch of ``from_member_id``:
    that member and everyone above them count it."""
    up = line_up(from_member_id)
    db.session.execute(update(User).where(User.id.in_(select(up.c.id)))
                       .values(branch_size=User.branch_size + delta)
                       .execution_options(synchronize_session=False))
