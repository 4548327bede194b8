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
from tests.support.factories import in_days
from tests.support.gigs import indexed_ids, open_ids


def found(q: str, **filters) -> list[int]:
    page = board_page(BoardFilters(q=q, **filters), size=100)
    return [g.id for g in page.items]


# --- parsing ------------------------------------------------------------------------------

def test_parse_search_keeps_words_only():
    # the last word is a prefix (what a member types while looking for a word)
    assert parse_search("  Django REST  api ").words == (("django", False), ("rest", False),
                                                        ("api", True))
    assert parse_search("node.js, C++ & C#").fts5() == '"node" "js" "c"'
    assert parse_search("pyth* go* a*").words == (("pyth", True), ("go", True), ("a", False))
    assert parse_search("django Django DJANGO").words == (("django", True),)
    assert parse_search("go* go").words == (("go", True),)
    assert parse_search("go go*").words == (("go", False), ("go", True))
    assert parse_search("foo_bar").words == (("foo", False), ("bar", True))
    assert parse_search("Zürich café").words == (("zürich", False), ("café", True))
    assert parse_search("api x").words == (("api", False), ("x", False))  # too short
    assert parse_search(" ".join(f"w{i}" for i in range(20))).words[-1] == ("w7", True)
    for nothing in (None, "", "   ", '"*:()-', "* * *", "___"):
        assert parse_search(nothing) is None


def test_queries_are_quoted_words_for_both_engines():
    q = parse_search('"a" OR bb*) NEAR(c) x:y \'e\'')
    assert q.fts5() == '"a" "or" "bb"* "near" "c" "x" "y" "e"'
    assert q.tsquery() == "'a' & 'or' & 'bb':* & 'near' & 'c' & 'x' & 'y' & 'e'"
    assert str(q) == "a or bb* near c x y e"
    # the prefix on the last word is ours, around a word of letters and digits only
    q = parse_search('physio" OR x:* (NEAR)*')
    assert q.fts5() == '"physio" "or" "x" "near"*'
    assert q.tsquery() == "'physio' & 'or' & 'x' & 'near':*"


# --- finding ------------------------------------------------------------------------------

def test_search_finds_by_title_description_and_skill(make_gig):
    by_title = make_gig(title="Kubernetes migration", description="Move the cluster.")
    by_text = make_gig(title="Shop", description="Migrate payments to Stripe and Kubernetes.")
    by_skill = make_gig(title="Dashboard", description="Charts.", skill_names=["Elixir"])
    make_gig(title="Unrelated", description="Nothing here.")
    assert found("kubernetes") == [by_title.id, by_text.id]  # the title weighs more
    assert found("kubernetes", sort=BoardSort.NEWEST) == [by_text.id, by_title.id]
    assert found("stripe") == [by_text.id]
    assert found("elixir") == [by_skill.id]
    assert found("kubernetes payments") == [by_text.id]
    assert found("zeppelin") == []


def test_search_stems_and_matches_prefixes(make_gig):
    gig = make_gig(title="Developers wanted", description="Testing a Kubernetes cluster.")
    assert found("developer") == [gig.id]
    assert found("tests") == [gig.id]
    assert found("kuber*") == [gig.id]
    assert found("kuber") == [gig.id]  # the last word is a prefix
    assert found("kuber cluster") == []  # the others are whole words
    assert found("developers kuber") == [gig.id]
    assert found("testing clust") == [gig.id]


def test_the_last_word_finds_longer_words(make_gig):
    physio = make_gig(title="Physiotherapy clinic booking", description="Appointments.")
    make_gig(title="Physics engine", description="A game.")
    assert found("physio") == [physio.id]
    assert found("physiotherapy") == [physio.id]
    assert found("clinic physio") == [physio.id]
    assert found("physio clinic") == []  # only the last word is a prefix
    assert found("phys") == sorted(found("phys"), reverse=True) and len(found("phys")) == 2


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


# --- relevance ----------------------------------------------------------------------------

def test_with_words_the_board_sorts_by_relevance_and_newest_is_one_choice_away(make_gig):
    in_title = make_gig(title="Physiotherapy clinic booking", description="Calendar app.")
    twice = make_gig(title="Booking site", description="For a physiotherapist and a "
                     "physiotherapy practice.")
    in_text = make_gig(title="Calendar", description="Bookings for a physiotherapy clinic.")
    make_gig(title="Unrelated", description="Nothing here.")
    assert BoardFilters(q="physio").sort == BoardSort.RELEVANCE
    assert BoardFilters(q="").sort == BoardSort.NEWEST
    assert BoardFilters(q="", sort="relevance").sort == BoardSort.NEWEST  # nothing to rank
    assert found("physio") == [in_title.id, twice.id, in_text.id]
    assert found("physio", sort=BoardSort.NEWEST) == [in_text.id, twice.id, in_title.id]
    # the default sort stays out of the URL, the other one is kept
    assert BoardFilters(q="physio").to_args() == {"q": "physio"}
    assert BoardFilters(q="physio", sort="newest").to_args() == {"q": "physio",
                                                                "sort": "newest"}
    assert BoardFilters(sort="newest").to_args() == {}


@pytest.mark.parametrize("size", [1, 2, 3, 5, 50])
def test_relevance_pages_without_gaps_or_repeats_also_on_equal_ranks(make_gig, size):
    # equal texts rank equally: the id (newest first) orders them, across page breaks
    same = [make_gig(title="Rust service", description="Plain text.") for _ in range(4)]
    best = make_gig(title="Rust rust rust", description="Rust.")
    worst = make_gig(title="Service", description="Also some rust, in a long description "
                     "of many words that dilute it: " + "lorem ipsum " * 20)
    whole = found("rust")
    assert whole[0] == best.id and whole[-1] == worst.id
    assert whole[1:5] == [g.id for g in reversed(same)]
    seen, cursor = [], None
    while True:
        page = board_page(BoardFilters(q="rust"), cursor, size=size)
        seen += [g.id for g in page.items]
        if not page.next_cursor:
            break
        assert page.next_cursor.startswith("r")
        cursor = page.next_cursor
    assert seen == whole


def test_a_relevance_cursor_is_exact_and_a_bad_one_starts_over(make_gig):
    gigs = [make_gig(title=f"Haskell {'job ' * n}", description="x") for n in range(3)]
    first = board_page(BoardFilters(q="haskell"), size=1)
    for cursor in ("rnan.1", "rinf.1", "r-inf.5", "r.1", "r1e999.1", "rx.1", "n5.1"):
        page = board_page(BoardFilters(q="haskell"), cursor, size=1)
        assert page.is_first and [g.id for g in page.items] == [g.id for g in first.items]
    assert len(found("haskell")) == len(gigs)


@pytest.mark.parametrize("q", ['"', "*", ":", "&|!()", "NEAR", "OR", "physio OR", "physio:*",
                               "physio*", '"physio', "physio NEAR", "(physio)", "!physio",
                               "physio & clinic |", "physio\\"])
def test_hostile_input_is_words_by_relevance_too(make_gig, q):
    gig = make_gig(title="Physiotherapy clinic near or", description="Booking.")
    for sort in BoardSort:
        result = found(q, sort=sort)  # never an error
        if parse_search(q) is None:
            assert result == [gig.id]
    assert found(q + " physio") in ([gig.id], [])


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
