"""Fixtures for the gig tests: a gig factory, a SQL statement counter, file bytes.

Importing ``offload.gigs.models`` registers the gig tables (and the full-text DDL)
before the session's ``create_all``.
"""

from __future__ import annotations

import io
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import text
from werkzeug.datastructures import FileStorage

import offload.gigs.models  # noqa: F401  (registers the tables)
from offload.core.db import db, utcnow
from offload.gigs.services import ClientInfo, post_gig

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
_titles = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_search_index(_app_context):
    """The FTS5 table is outside db.metadata: start every test with it empty too.

    (Its triggers already empty it when gigs are deleted; this guards against a test
    that left it inconsistent.)
    """
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('delete-all')"))
        db.session.commit()
    yield


def indexed_ids() -> set[int]:
    """The gigs the full-text index holds (FTS5: its docsize shadow table has a row per
    indexed document; PostgreSQL: a non-null search_vector)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('integrity-check')"))
        return set(db.session.scalars(text("SELECT id FROM gig_search_docsize")))
    return set(db.session.scalars(text("SELECT id FROM gigs WHERE search_vector IS NOT NULL")))


def open_ids() -> set[int]:
    return set(db.session.scalars(text("SELECT id FROM gigs WHERE state = 'open'")))


def upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def in_days(n: int):
    return utcnow().date() + timedelta(days=n)


@pytest.fixture
def make_gig(make_member):
    """Factory: ``make_gig(poster=..., kind="task", title=..., publish=False, ...)``.

    Posts through the real service; referral gigs get client details unless given.
    """

    def make(poster=None, **fields):
        poster = poster or make_member()
        kind = fields.pop("kind", "referral")
        values = {
            "title": f"Gig number {next(_titles)}",
            "description": "A **small** piece of work for a client.",
            "skill_names": ["Python"],
            "category": "backend",
            "budget_min_minor": 50_000,
            "budget_max_minor": 100_000,
            "deadline": in_days(30),
            "client_details": (ClientInfo("Acme Ltd", "cto@acme.example", "Prefers calls")
                               if kind == "referral" else None),
        }
        values.update(fields)
        return post_gig(actor=poster, kind=kind, **values)

    return make
