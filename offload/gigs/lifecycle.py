"""The one place a gig's state changes, shared by the gig and offer services.

``move_gigs()`` checks ``GIG_TRANSITIONS`` and runs a guarded
``UPDATE … WHERE state = :from``, so of two racing changes one wins and the other
moves nothing (``move_gig`` turns that into ``Conflict``). It joins the caller's
transaction; it is not a service of its own.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, inspect, literal_column, select, update
from sqlalchemy.orm.attributes import set_committed_value

from offload.core.db import db, on_commit, utcnow
from offload.core.errors import Conflict

from .models import GIG_TRANSITIONS, Gig, GigSkill, GigState

log = logging.getLogger("offload.gigs")

CHANGED_UNDER_YOU = "This gig changed while you were working on it. Reload it and try again."


def move_gigs(frm: GigState, to: GigState, *where: ColumnElement[bool],
              now: datetime | None = None, **values: Any) -> list[int]:
    """Move the gigs matching ``where`` that are still ``frm`` to ``to``; the ids moved.

    Refuses (``Conflict``) a move ``GIG_TRANSITIONS`` lacks. Keeps ``gig_skills.is_open``.
    """
    if to not in GIG_TRANSITIONS.get(frm, ()):
        raise Conflict(f"A gig that is {frm.label.lower()} can't become {to.label.lower()}.")
    now = now or utcnow()
    # the literal state lets SQLite use the partial indexes (WHERE state = 'open')
    stmt = (update(Gig).where(Gig.state == literal_column(f"'{frm.value}'"), *where)
            .values(state=to.value, state_changed_at=now, updated_at=now, **values)
            .returning(Gig.id).execution_options(synchronize_session=False))
    ids = list(db.session.scalars(stmt))
    if GigState.OPEN in (frm, to):  # gig_skills.is_open follows the gig onto or off the board
        for first in range(0, len(ids), 1000):
            db.session.execute(
                update(GigSkill).where(GigSkill.gig_id.in_(ids[first:first + 1000]))
                .values(is_open=to == GigState.OPEN)
                .execution_options(synchronize_session=False))
    if ids:
        log_after_commit("gig state changed", frm=frm.value, to=to.value, count=len(ids))
    return ids


def move_gig(gig: Gig, to: GigState, *, now: datetime | None = None, **values: Any) -> None:
    """``move_gigs`` for one gig, which must still be in the state we read; updates ``gig``.

    Refuses (``Conflict``) when the gig changed meanwhile.
    """
    now = now or utcnow()
    if not move_gigs(GigState(gig.state), to, Gig.id == gig.id, now=now, **values):
        raise Conflict(CHANGED_UNDER_YOU)
    for name, value in {"state": to.value, "state_changed_at": now, "updated_at": now,
                        **values}.items():
        set_committed_value(gig, name, value)


def lock_gig(gig: Gig) -> None:
    """Wait for a concurrent change of this gig, then reload it (PostgreSQL row lock;
    SQLite's BEGIN IMMEDIATE already serialises writers). One statement: the id comes
    from the identity map, since reading ``gig.id`` would first reload an expired gig."""
    gig_id = inspect(gig).identity[0]
    db.session.scalars(select(Gig).where(Gig.id == gig_id).with_for_update()
                       .execution_options(populate_existing=True)).one()


def lock_gig_state(gig_id: int) -> tuple[str, date]:
    """``lock_gig`` for a service that needs only the gig's state and deadline under the
    lock (its other columns read before its transaction): one narrow row, no ORM load."""
    row = db.session.execute(select(Gig.state, Gig.deadline).where(Gig.id == gig_id)
                             .with_for_update()).one()
    return row.state, row.deadline


def lock_gigs(*where: ColumnElement[bool]) -> list[int]:
    """Lock every gig matching ``where`` in id order (the order all services use, so a
    change that touches many gigs queues behind, not across, one that touches a few);
    their ids."""
    return list(db.session.scalars(
        select(Gig.id).where(*where).order_by(Gig.id).with_for_update()))


def log_after_commit(message: str, **extra: Any) -> None:
    on_commit(lambda: log.info(message, extra=extra))  # only what really happened
