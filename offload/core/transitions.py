"""How a service lets the database settle a race on one row: a guarded change (the one
way a row moves along its lifecycle), and an insert a unique index allows once.

Each stateful model has a transition table in its ``models.py`` (``{from: {to, ...}}``).
A move checks the table, then runs ``UPDATE … WHERE id = :id AND state = :from`` (plus
any other guard), so of two racing changes exactly one changes the row and the other
changes nothing, which the row count tells: the database settles the race, no lock is
needed. The same guarded UPDATE serves changes that are not a state (a price still at
what was read, a dispute still without a reply).

The UPDATE is a plain Core ``update().values()``: columns with an ``onupdate=`` default
get it, and this module never sets them itself; on the loaded object they are expired,
so the next read sees what the database wrote. The other values are set on the object
as committed, without a reload.

``insert_once`` adds a row in a savepoint, so that when a unique index refuses it (a
double submit, two members at once) the caller's transaction carries on to a clean
``Conflict``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, inspect, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql import ClauseElement

from .db import db
from .errors import Conflict


def update_row(row: Any, *guard: ColumnElement[bool], refused: str | None,
               **values: Any) -> bool:
    """Set ``values`` on ``row`` with one UPDATE of its row, only where ``guard`` holds.

    True when the row changed. When it did not (the guard no longer holds: someone got
    there first), raises ``Conflict(refused)``, or answers False if ``refused`` is None.
    Joins the caller's transaction.
    """
    model = type(row)
    changed = db.session.execute(
        update(model).where(model.id == row.id, *guard).values(**values)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        if refused is None:
            return False
        raise Conflict(refused)
    for name, value in values.items():
        if not isinstance(value, ClauseElement):  # an expression's result is the database's
            set_committed_value(row, name, value.value if isinstance(value, Enum) else value)
    _expire_onupdate(row, values)
    return True


def move_row(row: Any, to: Enum, transitions: Mapping[Any, Collection[Any]], *,
             not_allowed: str | Callable[[Any], str], refused: str,
             guard: tuple[ColumnElement[bool], ...] = (), column: str = "state",
             **values: Any) -> None:
    """Move ``row`` from the state it was read in to ``to``, setting ``values`` too.

    Refuses (``Conflict``): ``not_allowed`` (or what it answers for the row's state)
    when ``transitions`` has no such move from that state; ``refused`` when the row
    left that state meanwhile (or ``guard`` no longer holds).
    """
    frm = type(to)(getattr(row, column))
    if to not in transitions.get(frm, ()):
        raise Conflict(not_allowed if isinstance(not_allowed, str) else not_allowed(frm))
    update_row(row, getattr(type(row), column) == frm.value, *guard, refused=refused,
               **{column: to.value}, **values)


def insert_once(row: Any, *, refused: str, taken: Callable[[], object] | None = None) -> None:
    """Add and flush ``row`` in a savepoint; when a unique index refuses it, raise
    ``Conflict(refused)``. With ``taken``, only when ``taken()`` finds the row it clashed
    with (otherwise another constraint refused it: a bug, and its error stands).
    """
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        if taken is not None and not taken():
            raise
        raise Conflict(refused) from None


def _expire_onupdate(row: Any, values: Mapping[str, Any]) -> None:
    mapper = inspect(type(row))
    stale = [attr.key for attr in mapper.column_attrs
             if attr.key not in values and any(c.onupdate is not None for c in attr.columns)]
    if stale:
        db.session.expire(row, stale)
