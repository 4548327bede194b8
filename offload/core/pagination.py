"""Keyset pagination, newest first.

A page is read with a row-value comparison ``(created_at, id) < (:at, :id)`` so
that page 1000 costs what page 1 costs; the cursor is the last row's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, tuple_

from .db import db
from .forms import ID_MAX


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None
    is_first: bool


def encode_cursor(at: datetime, row_id: int) -> str:
    micros = int(at.timestamp() * 1_000_000)
    return f"{micros}.{row_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        micros, row_id = cursor.split(".", 1)
        at = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
        row_id = int(row_id)
    except (ValueError, OverflowError, OSError):
        return None
    # an id past the database's INTEGER would overflow in the driver: no such row
    return (at, row_id) if 0 <= row_id <= ID_MAX else None


def newest_first(stmt: Select, model, cursor: str | None, size: int | None = None,
                 at=None) -> Page:
    """Run ``stmt`` ordered by (``at``, id) descending from ``cursor`` on; ``at`` is the
    model's ``created_at`` unless given (another timestamp column, not null in ``stmt``).

    A malformed cursor starts from the beginning rather than failing.
    """
    size = size or current_app.config["PAGE_SIZE"]
    at = at if at is not None else model.created_at
    key = decode_cursor(cursor)
    if key:
        stmt = stmt.where(tuple_(at, model.id) < key)
    stmt = stmt.order_by(at.desc(), model.id.desc()).limit(size + 1)
    return keyset_page(list(db.session.scalars(stmt)), size, key is None, at.key)


def keyset_page(rows: list, size: int, is_first: bool, at: str = "created_at") -> Page:
    """The page of ``size + 1`` rows read newest first (by ``at``, id): the extra row
    only says that there is more."""
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor(getattr(rows[-1], at), rows[-1].id) if more else None
    return Page(items=rows, next_cursor=next_cursor, is_first=is_first)
