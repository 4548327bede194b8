"""Full-text search over open gigs, one interface over SQLite FTS5 and PostgreSQL.

What a member types is never handed to the database's query syntax: it is cut into
words (runs of letters and digits; everything else separates them), and each word
is quoted on its own, so ``"``, ``*``, ``AND``, ``NEAR``, ``:``, ``'``, ``-`` or ``(``
can only ever be text or a separator. All words must match (stemmed: "developers"
finds "developer"). The last word matches as a prefix ("physio" finds
"physiotherapy": members type the start of a word and look), and so does a word typed
with a ``*`` right after it (``pyth*``); the query syntax for that (FTS5's ``"w"*``,
``to_tsquery``'s ``'w':*``) is written here around a word of letters and digits,
never taken from what was typed.

Relevance (``matching_ids(..., ranked=True)``): FTS5's ``bm25()`` with the title
weighted 10, skills 4 and description 1; PostgreSQL's ``ts_rank_cd`` over a vector
whose title lexemes carry weight A (1.0), skills B (0.4) and description D (0.1),
normalized by the log of the gig's length. Both come out as one double, lower =
more relevant (FTS5's is negative already; PostgreSQL's is negated).

``matching_ids(cap)`` is the bounded candidate set the board searches in: the
``cap`` most recently created open gigs that match. It reads at most ``cap`` entries
of the index whatever the word, so a word found in half the gigs costs what a rare
one costs (``board.py`` filters, sorts and cuts the page from it).

Differences between the databases that remain: PostgreSQL's English configuration
drops stop words ("the", "and") from queries and gigs, SQLite keeps them; FTS5
matches "cafe" to "café", PostgreSQL does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import (
    Double,
    Select,
    String,
    bindparam,
    cast,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)

from offload.core.db import db, is_postgresql

from .models import OPEN, Gig
from .search_ddl import TS_CONFIG

QUERY_MAX_CHARS = 200
QUERY_MAX_WORDS = 8
PREFIX_MIN_CHARS = 2

# bm25's weight per column of gig_search, in its order: title, description, skills_text
# (PostgreSQL's weights are in the vector: search_ddl.py)
BM25_WEIGHTS = (10.0, 1.0, 4.0)
# ts_rank_cd's normalization: divide by 1 + the log of the gig's length
TS_RANK_NORMALIZATION = 1

# a word: letters and digits only (the underscore is \w but a separator to both engines)
_WORD = re.compile(r"[^\W_]+(\*?)")

# the FTS5 table; its hidden column named after the table takes the MATCH
_fts = table("gig_search", column("rowid"), column("gig_search"))


@dataclass(frozen=True)
class SearchQuery:
    """Words to find, each with whether it is a prefix; never empty."""

    words: tuple[tuple[str, bool], ...]

    def fts5(self) -> str:
        """An FTS5 query: each word a quoted string, prefixes starred, all required."""
        return " ".join(f'"{w}"' + ("*" if prefix else "") for w, prefix in self.words)

    def tsquery(self) -> str:
        """A ``to_tsquery`` argument: each word a quoted lexeme, prefixes ``:*``, all ANDed."""
        return " & ".join(f"'{w}'" + (":*" if prefix else "") for w, prefix in self.words)

    def __str__(self) -> str:
        return " ".join(w + ("*" if prefix else "") for w, prefix in self.words)


def parse_search(raw: str | None) -> SearchQuery | None:
    """The words of a member's search, or None when there is nothing to search for.

    Keeps the first ``QUERY_MAX_WORDS`` distinct words of the first
    ``QUERY_MAX_CHARS`` characters, lower-cased; the last word, and a word typed with
    a trailing ``*``, is a prefix when it has at least ``PREFIX_MIN_CHARS`` characters
    (shorter ones would match nearly everything); otherwise the star is dropped.
    """
    words: list[tuple[str, bool]] = []
    for match in _WORD.finditer((raw or "")[:QUERY_MAX_CHARS]):
        word = match.group(0).rstrip("*").lower()
        entry = (word, bool(match.group(1)) and len(word) >= PREFIX_MIN_CHARS)
        if entry not in words:
            words.append(entry)
        if len(words) == QUERY_MAX_WORDS:
            break
    if not words:
        return None
    last, prefix = words[-1]
    if not prefix and len(last) >= PREFIX_MIN_CHARS:
        words[-1] = (last, True)
        if words.count((last, True)) > 1:  # "go* go" is "go*" once
            words.pop()
    return SearchQuery(tuple(words))


def search_parameter() -> str:
    """The name of the bound parameter ``matching_ids`` reads the words from."""
    return "gig_tsquery" if is_postgresql() else "gig_fts"


def search_value(query: SearchQuery) -> str:
    """The words of ``query`` in this database's query syntax: the value of
    ``search_parameter()``."""
    return query.tsquery() if is_postgresql() else query.fts5()


def matching_ids(limit: int, *, ranked: bool = False) -> Select:
    """Ids of the ``limit`` newest (highest id) open gigs matching the words bound as
    ``search_parameter()`` (``search_value(query)``); when ``ranked``, with a
    ``relevance`` column too (a double, lower = more relevant). Built without the words,
    so one statement serves every search.

    Reads at most ``limit`` index entries whatever the word: FTS5 yields rowids in
    descending order itself and stops; PostgreSQL walks the primary key backwards for
    a common word (stopping at ``limit``) and reads the GIN index for a rare one. The
    relevance is computed for those rows only.
    """
    if is_postgresql():
        vector = literal_column("gigs.search_vector")
        tsquery = func.to_tsquery(literal_column(f"'{TS_CONFIG}'::regconfig"),
                                  bindparam("gig_tsquery", type_=String))
        columns = [Gig.id]
        if ranked:
            rank = func.ts_rank_cd(vector, tsquery,
                                   literal_column(str(TS_RANK_NORMALIZATION)))
            columns.append((-cast(rank, Double)).label("relevance"))
        return (select(*columns)
                .where(vector.bool_op("@@")(tsquery), Gig.state == OPEN)
                .order_by(Gig.id.desc()).limit(limit))
    # the FTS5 table holds open gigs only (its triggers see to that)
    columns = [_fts.c.rowid.label("id")]
    if ranked:
        columns.append(func.bm25(_fts.c.gig_search, *BM25_WEIGHTS, type_=Double)
                       .label("relevance"))
    return (select(*columns)
            .where(_fts.c.gig_search.op("MATCH")(bindparam("gig_fts", type_=String)))
            .order_by(_fts.c.rowid.desc()).limit(limit))


def rebuild_search_index() -> int:
    """Re-index every open gig from scratch (after a restore or a bulk edit in SQL).

    PostgreSQL computes the index itself, so this only applies to SQLite. Runs in the
    caller's transaction; returns the number of gigs indexed.
    """
    if is_postgresql():
        return 0
    db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('delete-all')"))
    return db.session.execute(text(
        "INSERT INTO gig_search(rowid, title, description, skills_text) "
        "SELECT id, title, description, skills_text FROM gigs WHERE state = 'open'")).rowcount
