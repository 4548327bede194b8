"""Full-text search: what it finds, that typed syntax is only ever text, and that the
index follows the gigs on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update

from offload.core.db import atomic, db
from offload.gigs import services
from offload.gigs.filters import BoardFilters, BoardSort
from offload.gigs.models import Gig
from offload.gigs.queries import board_page
from offload.gigs.search import parse_search, rebuild_search_index
from offload.gigs.search_ddl import (
    DROP_SEARCH_DDL,
    SEARCH_DDL,
    is_search_schema_object,
)

from .conftest import in_days, indexed_ids, open_ids


def found(q: str, **filters) -> list[int]:
    page = board_page(BoardFilters(q=q, **filters), size=100)
    return [g.id for g in page.items]


# --- parsing ------------------------------------------------------------------------------

def test_parse_search_keeps_words_only():
    assert parse_search("  Django REST  api ").words == (("django", False), ("rest", False),
                                                        ("api", False))
    assert parse_search("node.js, C++ & C#").fts5() == '"node" "js" "c"'
    assert parse_search("pyth* go* a*").words == (("pyth", True), ("go", True), ("a", False))
    assert parse_search("django Django DJANGO").words == (("django", False),)
    assert parse_search("foo_bar").words == (("foo", False), ("bar", False))
    assert parse_search("Zürich café").words == (("zürich", False), ("café", False))
    assert parse_search(" ".join(f"w{i}" for i in range(20))).words[-1] == ("w7", False)
    for nothing in (None, "", "   ", '"*:()-', "* * *", "___"):
        assert parse_search(nothing) is None


def test_queries_are_quoted_words_for_both_engines():
    q = parse_search('"a" OR bb*) NEAR(c) x:y \'e\'')
    assert q.fts5() == '"a" "or" "bb"* "near" "c" "x" "y" "e"'
    assert q.tsquery() == "'a' & 'or' & 'bb':* & 'near' & 'c' & 'x' & 'y' & 'e'"
    assert str(q) == "a or bb* near c x y e"


# --- finding ------------------------------------------------------------------------------

def test_search_finds_by_title_description_and_skill(make_gig):
    by_title = make_gig(title="Kubernetes migration", description="Move the cluster.")
    by_text = make_gig(title="Shop", description="Migrate payments to Stripe and Kubernetes.")
    by_skill = make_gig(title="Dashboard", description="Charts.", skill_names=["Elixir"])
    make_gig(title="Unrelated", description="Nothing here.")
    assert found("kubernetes") == [by_text.id, by_title.id]
    assert found("stripe") == [by_text.id]
    assert found("elixir") == [by_skill.id]
    assert found("kubernetes payments") == [by_text.id]
    assert found("zeppelin") == []


def test_search_stems_and_matches_prefixes(make_gig):
    gig = make_gig(title="Developers wanted", description="Testing a Kubernetes cluster.")
    assert found("developer") == [gig.id]
    assert found("tests") == [gig.id]
    assert found("kuber*") == [gig.id]
    assert found("kuber") == []


def test_search_splits_punctuated_names_the_same_way_everywhere(make_gig):
    gig = make_gig(title="Node.js and C# backend", description="Uses foo_bar and e-mail.")
    for q in ("node.js", "node js", "js", "foo_bar", "foo", "e-mail", "mail"):
        assert found(q) == [gig.id], q


@pytest.mark.parametrize("q", [
    '"', '""', '"unterminated', "*", "pyth**", "AND", "OR", "NOT", "NEAR", "a AND", "AND b",
    "title:kubernetes", ":", "::", "'", "O'Reilly", "'single'", "-", "-kubernetes",
    "kubernetes -", "(", ")", "(kubernetes", "kubernetes)", "a & b", "a | b", "!a", "a <-> b",
    "\\", "%", "_", "^", "{x}", "[x]", "a:*", "kubernetes:*", "NEAR(a b)", "a + b", "\x00",
    "😀", "'; DROP TABLE gigs; --",
])
def test_typed_syntax_is_only_ever_text(make_gig, q):
    gig = make_gig(title="Kubernetes for O'Reilly", description="a b near and or not title")
    result = found(q)  # never an error, on either database
    words = parse_search(q)
    if words is None:
        assert result == [gig.id]  # nothing to search for: the whole board
    assert found(q + " kubernetes") in ([gig.id], [])


def test_syntax_words_are_searched_as_words(make_gig):
    gig = make_gig(title="Write a NEAR real-time OR tool and more", description="plain")
    make_gig(title="Other", description="plain")
    assert found("near") == [gig.id]
    assert found("near real") == [gig.id]
    assert found('"real" AND time') == [gig.id]  # and/or/near/quotes are just words


def test_search_combines_with_filters_and_sorts(make_gig):
    cheap = make_gig(title="Rust job", kind="task", budget_min_minor=100, budget_max_minor=100)
    dear = make_gig(title="Rust job", budget_min_minor=900, budget_max_minor=900,
                    deadline=in_days(3))
    make_gig(title="Go job")
    assert found("rust", sort=BoardSort.BUDGET) == [dear.id, cheap.id]
    assert found("rust", sort=BoardSort.DEADLINE) == [dear.id, cheap.id]
    assert found("rust", kind="task") == [cheap.id]
    assert found("rust", skills=("python",)) == [dear.id, cheap.id]
    assert found("rust", skills=("go",)) == []


# --- the index follows the gigs -----------------------------------------------------------

def test_only_open_gigs_are_found(make_member, make_gig):
    alice = make_member()
    draft = make_gig(alice, title="Haskell draft", publish=False)
    assert found("haskell") == []
    services.publish_gig(draft, actor=alice)
    assert found("haskell") == [draft.id]
    services.cancel_gig(draft, actor=alice)
    assert found("haskell") == []
    expiring = make_gig(alice, title="Haskell again")
    db.session.execute(update(Gig).where(Gig.id == expiring.id).values(deadline=in_days(-1)))
    db.session.commit()
    assert found("haskell") == []  # past its deadline day, even before the job runs
    services.expire_gigs()
    assert found("haskell") == []
    assert indexed_ids() == open_ids() == set()


def test_an_edit_is_searchable_at_once(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, title="Fortran port", skill_names=["Fortran"])
    services.edit_gig(gig, actor=alice, title="Cobol port", description="Old code",
                      skill_names=["Cobol"], category="backend", budget_min_minor=100,
                      budget_max_minor=100, deadline=in_days(5),
                      client_details={"name": "Bank", "contact": "it@bank.example"})
    assert found("fortran") == []
    assert found("cobol") == [gig.id]


def test_a_failed_transaction_leaves_the_index_as_it_was(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, title="Erlang cluster")
    with pytest.raises(RuntimeError), atomic():
        services.cancel_gig(gig, actor=alice)
        assert found("erlang") == []
        raise RuntimeError("rolled back")
    assert found("erlang") == [gig.id]


def test_rebuild_search_index(make_member, make_gig):
    gig = make_gig(title="Prolog solver")
    make_gig(title="Prolog draft", publish=False)
    with atomic():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(text("INSERT INTO gig_search(gig_search) VALUES ('delete-all')"))
        indexed = rebuild_search_index()
    assert found("prolog") == [gig.id]
    assert indexed == (1 if db.engine.dialect.name == "sqlite" else 0)
    assert indexed_ids() == open_ids() == {gig.id}


def test_the_ddl_lists_drop_and_recreate_the_index(make_gig):
    gig = make_gig(title="Smalltalk image")
    dialect = db.engine.dialect.name
    with atomic():
        for statement in DROP_SEARCH_DDL[dialect]:
            db.session.execute(text(statement))
        for statement in SEARCH_DDL[dialect]:
            db.session.execute(text(statement))
        rebuild_search_index()
    assert found("smalltalk") == [gig.id]


def test_schema_objects_for_migrations_to_ignore():
    assert is_search_schema_object("gig_search", "table")
    assert is_search_schema_object("gig_search_data", "table")
    assert is_search_schema_object("search_vector", "column")
    assert is_search_schema_object("ix_gigs_search_vector", "index")
    assert not is_search_schema_object("gigs", "table")
    assert not is_search_schema_object("gig_skills", "table")
    assert not is_search_schema_object(None, "table")
