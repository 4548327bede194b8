"""The schema of the gig full-text index, one per dialect, outside ``db.metadata``.

The index holds **open gigs only** (the board shows nothing else), built from title,
skill names and description, and the database keeps it in step with ``gigs`` by
itself, so no code path (services, bulk inserts, test clean-up) can forget it:

- SQLite: ``gig_search``, an FTS5 table over ``gigs`` (external content: the text is
  not stored twice), maintained by three triggers on ``gigs``. Tokenizer: porter
  stemming over unicode61.
- PostgreSQL: ``gigs.search_vector``, a stored generated ``tsvector`` (NULL unless the
  gig is open) with a GIN index. Punctuation is turned into spaces first, so that
  "node.js" is the words "node" and "js", as FTS5 splits it. Title, skills and
  description are weighted A, B and D for ranking (FTS5 weighs its columns at query
  time, ``search.BM25_WEIGHTS``).

``db.create_all()`` runs these statements (after ``gigs`` is created); a migration
must run the same lists: ``SEARCH_DDL[dialect]`` after creating ``gigs``, and
``DROP_SEARCH_DDL[dialect]`` before dropping it. On SQLite a batch migration that
recreates ``gigs`` drops its triggers: run ``SEARCH_DDL["sqlite"][1:]`` again after.
Never run FTS5's ``'rebuild'`` command on ``gig_search``: it would index closed gigs
too; ``search.rebuild_search_index()`` rebuilds it properly.
"""

from __future__ import annotations

from sqlalchemy import DDL, Table, event

_COLUMNS = "title, description, skills_text"

SEARCH_DDL_SQLITE = [
    "CREATE VIRTUAL TABLE gig_search USING fts5("
    f"{_COLUMNS}, content='gigs', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER gig_search_insert AFTER INSERT ON gigs WHEN new.state = 'open' BEGIN "
    f"INSERT INTO gig_search(rowid, {_COLUMNS}) "
    "VALUES (new.id, new.title, new.description, new.skills_text); END",
    "CREATE TRIGGER gig_search_delete AFTER DELETE ON gigs WHEN old.state = 'open' BEGIN "
    f"INSERT INTO gig_search(gig_search, rowid, {_COLUMNS}) "
    "VALUES ('delete', old.id, old.title, old.description, old.skills_text); END",
    "CREATE TRIGGER gig_search_update AFTER UPDATE OF state, title, description, skills_text "
    "ON gigs BEGIN "
    f"INSERT INTO gig_search(gig_search, rowid, {_COLUMNS}) "
    "SELECT 'delete', old.id, old.title, old.description, old.skills_text "
    "WHERE old.state = 'open'; "
    f"INSERT INTO gig_search(rowid, {_COLUMNS}) "
    "SELECT new.id, new.title, new.description, new.skills_text WHERE new.state = 'open'; "
    "END",
]

DROP_SEARCH_DDL_SQLITE = [
    "DROP TRIGGER IF EXISTS gig_search_update",
    "DROP TRIGGER IF EXISTS gig_search_delete",
    "DROP TRIGGER IF EXISTS gig_search_insert",
    "DROP TABLE IF EXISTS gig_search",
]

# the text search configuration; queries must name the same one
TS_CONFIG = "english"


def _weighted(column: str, weight: str) -> str:
    return (f"setweight(to_tsvector('{TS_CONFIG}'::regconfig, "
            f"regexp_replace({column}, '[^[:alnum:]]+', ' ', 'g')), '{weight}')")


SEARCH_DDL_POSTGRESQL = [
    # weights for ts_rank_cd's relevance: title A (1.0), skills B (0.4), description D (0.1)
    "ALTER TABLE gigs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    f"CASE WHEN state = 'open' THEN {_weighted('title', 'A')} || "
    f"{_weighted('skills_text', 'B')} || {_weighted('description', 'D')} END) STORED",
    "CREATE INDEX ix_gigs_search_vector ON gigs USING gin (search_vector)",
]

DROP_SEARCH_DDL_POSTGRESQL = [
    "DROP INDEX IF EXISTS ix_gigs_search_vector",
    "ALTER TABLE gigs DROP COLUMN IF EXISTS search_vector",
]

SEARCH_DDL = {"sqlite": SEARCH_DDL_SQLITE, "postgresql": SEARCH_DDL_POSTGRESQL}
DROP_SEARCH_DDL = {"sqlite": DROP_SEARCH_DDL_SQLITE, "postgresql": DROP_SEARCH_DDL_POSTGRESQL}

# What these statements add to the schema, for Alembic's autogenerate to leave alone
# (FTS5 also makes shadow tables named gig_search_*).
SEARCH_TABLE_PREFIX = "gig_search"
SEARCH_COLUMN = "search_vector"
SEARCH_INDEX = "ix_gigs_search_vector"


def is_search_schema_object(name: str | None, type_: str) -> bool:
    """True for the full-text objects, which ``db.metadata`` doesn't describe.

    Use in ``migrations/env.py``: ``include_name=lambda name, type_, parents:
    not is_search_schema_object(name, type_)``.
    """
    if name is None:
        return False
    return ((type_ == "table" and (name == SEARCH_TABLE_PREFIX
                                   or name.startswith(SEARCH_TABLE_PREFIX + "_")))
            or (type_ == "column" and name == SEARCH_COLUMN)
            or (type_ == "index" and name == SEARCH_INDEX))


def attach_search_ddl(gigs: Table) -> None:
    """Make ``create_all``/``drop_all`` create and drop the index with ``gigs``."""
    for dialect, statements in SEARCH_DDL.items():
        for statement in statements:
            event.listen(gigs, "after_create", DDL(statement).execute_if(dialect=dialect))
    for dialect, statements in DROP_SEARCH_DDL.items():
        for statement in statements:
            event.listen(gigs, "before_drop", DDL(statement).execute_if(dialect=dialect))
