"""What the gig tests read back: the gigs the full-text index holds, the open gigs."""

from __future__ import annotations

from sqlalchemy import text

from offload.core.db import db


def indexed_ids() -> set[int]:
    """The gigs the full-text index holds (FTS5: its docsize shadow table has a row per
    indexed document; PostgreSQL: a non-null search_vector)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('integrity-check')"))
        return set(db.session.scalars(text("SELECT id FROM gig_search_docsize")))
    return set(db.session.scalars(text("SELECT id FROM gigs WHERE search_vector IS NOT NULL")))


def open_ids() -> set[int]:
    return set(db.session.scalars(text("SELECT id FROM gigs WHERE state = 'open'")))
