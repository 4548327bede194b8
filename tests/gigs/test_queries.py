"""Reading gigs: the board's filters, sorts and pages, the gig page, matching, my gigs,
fixed query counts, and client details that never leak."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import InvalidRequestError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.gigs import services
from offload.gigs.fake import generate_gigs
from offload.gigs.filters import BoardFilters, BoardSort, decode_cursor, encode_cursor
from offload.gigs.models import ClientDetails, Gig, GigAttachment, GigSkill, GigState, Question
from offload.gigs.queries import (
    board_page,
    client_details_for,
    gig_for,
    gig_page,
    matching_gigs_for,
    matching_members_for,
    my_gigs,
)
from offload.profiles.services import ensure_skills, set_member_skills
from tests.support.factories import in_days


def ids(page) -> list[int]:
    return [g.id for g in page.items]


def all_pages(filters: BoardFilters, size: int) -> list[int]:
    """Every gig on the board for ``filters``, walking the cursors; checks each page."""
    seen, cursor, first = [], None, True
    while True:
        page = board_page(filters, cursor, size=size)
        assert page.is_first == first and len(page.items) <= size
        seen += ids(page)
        if page.next_cursor is None:
            return seen
        assert len(page.items) == size
        cursor, first = page.next_cursor, False


def set_values(gig: Gig, **values) -> None:
    db.session.execute(update(Gig).where(Gig.id == gig.id).values(**values))
    db.session.commit()


# --- filters from the URL -----------------------------------------------------------------

def test_board_filters_from_a_query_string():
    args = MultiDict([("q", " rust  api "), ("kind", "TASK"), ("category", "web"),
                      ("skills", "Python, rust"), ("skill", "Go"), ("skill", "python"),
                      ("budget_min", "100"), ("budget_max", "1,250.50"),
                      ("due_by", "2031-01-31"), ("sort", "budget"), ("utm_source", "x")])
    filters, errors = BoardFilters.from_args(args)
    assert errors == {}
    assert (filters.q, filters.kind, filters.category, filters.skills) == (
        "rust  api", "task", "web", ("python", "rust", "go"))
    assert (filters.budget_min_minor, filters.budget_max_minor) == (10_000, 125_050)
    assert (str(filters.due_by), filters.sort) == ("2031-01-31", BoardSort.BUDGET)
    assert str(filters.search) == "rust api*"  # the last word is a prefix
    assert filters.to_args() == {"q": "rust  api", "kind": "task", "category": "web",
                                 "skills": "python,rust,go", "budget_min": "100",
                                 "budget_max": "1250.50", "due_by": "2031-01-31",
                                 "sort": "budget"}
    assert BoardFilters.from_args(filters.to_args()) == (filters, {})
    assert filters.is_filtered and not BoardFilters(sort="deadline").is_filtered


def test_bad_filter_values_are_reported_and_left_out():
    filters, errors = BoardFilters.from_args({
        "kind": "gift", "category": "<b>", "sort": "random", "skills": "<script>",
        "budget_min": "-5", "budget_max": "lots", "due_by": "next week", "q": "x" * 201})
    assert filters == BoardFilters()
    assert set(errors) == {"kind", "category", "sort", "skills", "budget_min", "budget_max",
                           "due_by", "q"}
    assert "choose one of referral, task" in errors["kind"]
    assert "newest, budget, deadline" in errors["sort"]
    assert "YYYY-MM-DD" in errors["due_by"]
    _, errors = BoardFilters.from_args({"budget_min": "500", "budget_max": "100"})
    assert errors == {"budget_max": "The highest budget can't be below the lowest."}
    _, errors = BoardFilters.from_args({"skills": ",".join(f"s{i}" for i in range(11))})
    assert "at most 10 skills" in errors["skills"]


def test_cursors_are_opaque_and_tied_to_their_sort():
    at = utcnow()
    for sort, key in ((BoardSort.NEWEST, at), (BoardSort.BUDGET, 12345),
                      (BoardSort.DEADLINE, in_days(3)),
                      (BoardSort.RELEVANCE, -1.2345678901234567e-06),
                      (BoardSort.RELEVANCE, -3.0), (BoardSort.RELEVANCE, 0.1 + 0.2)):
        cursor = encode_cursor(sort, key, 42)
        assert decode_cursor(sort, cursor) == (key, 42)  # a relevance exactly
        others = set(BoardSort) - {sort}
        assert all(decode_cursor(other, cursor) is None for other in others)
    for junk in (None, "", "n", "nx.1", "n1", "b1.x", "d99999999999.1", "zz"):
        assert decode_cursor(BoardSort.NEWEST, junk) is None
        assert decode_cursor(BoardSort.DEADLINE, junk) is None
    for junk in ("rnan.1", "rinf.1", "r-inf.1", "r1e999.1", "r.1", "r1", "rx.1"):
        assert decode_cursor(BoardSort.RELEVANCE, junk) is None
    # past what the database stores (the driver would overflow binding them)
    for sort, junk in ((BoardSort.NEWEST, f"n1.{2**63}"), (BoardSort.BUDGET, f"b1.{2**31}"),
                       (BoardSort.BUDGET, f"b{2**63}.1"), (BoardSort.RELEVANCE, "r-1.0.-1")):
        assert decode_cursor(sort, junk) is None, junk


# --- the board ----------------------------------------------------------------------------

def test_the_board_shows_open_gigs_whose_deadline_has_not_passed(make_member, make_gig):
    alice = make_member()
    shown = make_gig(alice)
    due_today = make_gig(alice)
    make_gig(alice, publish=False)
    services.cancel_gig(make_gig(alice), actor=alice)
    past = make_gig(alice)
    set_values(due_today, deadline=in_days(0))
    set_values(past, deadline=in_days(-1))
    assert ids(board_page(BoardFilters())) == [due_today.id, shown.id]


def test_each_filter(make_member, make_gig):
    alice = make_member()
    a = make_gig(alice, kind="task", category="web", skill_names=["Python"],
                 budget_min_minor=100, budget_max_minor=300, deadline=in_days(5))
    b = make_gig(alice, kind="referral", category="data", skill_names=["Rust", "Go"],
                 budget_min_minor=500, budget_max_minor=500, deadline=in_days(10))
    c = make_gig(alice, kind="referral", category="web", skill_names=["Go"],
                 budget_min_minor=1000, budget_max_minor=5000, deadline=in_days(20))

    def board(**filters):
        return set(ids(board_page(BoardFilters(**filters))))

    assert board(kind="task") == {a.id}
    assert board(kind="referral") == {b.id, c.id}
    assert board(category="web") == {a.id, c.id}
    assert board(skills=("go",)) == {b.id, c.id}
    assert board(skills=("python", "rust")) == {a.id, b.id}
    assert board(skills=("cobol",)) == set()
    assert board(budget_min_minor=400) == {b.id, c.id}  # ranges overlap
    assert board(budget_max_minor=400) == {a.id}
    assert board(budget_min_minor=300, budget_max_minor=1000) == {a.id, b.id, c.id}
    assert board(budget_min_minor=501, budget_max_minor=999) == set()
    assert board(due_by=in_days(10)) == {a.id, b.id}
    assert board(kind="referral", category="web", skills=("go",), due_by=in_days(30)) == {c.id}


@pytest.mark.parametrize("sort", [BoardSort.NEWEST, BoardSort.BUDGET, BoardSort.DEADLINE])
def test_every_sort_pages_without_gaps_or_repeats_also_on_equal_keys(make_member, make_gig,
                                                                     sort):
    alice = make_member()
    gigs = [make_gig(alice) for _ in range(7)]
    same_time = utcnow() - timedelta(hours=1)
    for n, gig in enumerate(gigs):  # three groups with equal keys
        set_values(gig, published_at=same_time + timedelta(minutes=n % 3),
                   budget_max_minor=100_000 + 1000 * (n % 3), deadline=in_days(3 + n % 3))
    by_key = {BoardSort.NEWEST: lambda g: (g.published_at, g.id),
              BoardSort.BUDGET: lambda g: (g.budget_max_minor, g.id),
              BoardSort.DEADLINE: lambda g: (g.deadline, g.id)}[sort]
    rows = [db.session.get(Gig, g.id) for g in gigs]
    expected = [g.id for g in sorted(rows, key=by_key, reverse=sort != BoardSort.DEADLINE)]
    for size in (1, 2, 3, 7, 20):
        assert all_pages(BoardFilters(sort=sort), size) == expected
        assert all_pages(BoardFilters(sort=sort, q="gig"), size) == expected
        assert all_pages(BoardFilters(sort=sort, skills=("python",)), size) == expected


def test_a_cursor_for_another_sort_or_a_bad_one_starts_over(make_member, make_gig):
    alice = make_member()
    gigs = [make_gig(alice) for _ in range(3)]
    first = board_page(BoardFilters(), size=2)
    assert ids(first) == [gigs[2].id, gigs[1].id]
    assert ids(board_page(BoardFilters(), first.next_cursor, size=2)) == [gigs[0].id]
    for cursor in ("garbage", "b5.1", first.next_cursor.replace(".", "x")):
        page = board_page(BoardFilters(), cursor, size=2)
        assert page.is_first and ids(page) == ids(first)


def test_a_deadline_cursor_from_yesterday_restarts_at_today(make_member, make_gig):
    alice = make_member()
    gigs = [make_gig(alice, deadline=in_days(n)) for n in (1, 2)]
    stale = encode_cursor(BoardSort.DEADLINE, in_days(-1), 10**6)
    page = board_page(BoardFilters(sort="deadline"), stale, size=5)
    assert ids(page) == [g.id for g in gigs]


def test_search_and_skill_filters_look_at_a_bounded_number_of_newest_matches(
        app, make_member, make_gig):
    alice = make_member()
    gigs = [make_gig(alice, title=f"Rust job {n}", skill_names=["Rust"],
                     budget_min_minor=100 * (n + 1), budget_max_minor=100 * (n + 1))
            for n in range(5)]
    app.config["GIG_SEARCH_CANDIDATES"] = 3
    try:
        for filters in (BoardFilters(q="rust", sort="budget"),
                        BoardFilters(skills=("rust",), sort="budget")):
            page = board_page(filters, size=10)
            # the 3 newest matches, then sorted: the 2 oldest (cheapest) aren't looked at
            assert ids(page) == [gigs[4].id, gigs[3].id, gigs[2].id] and page.capped
            assert all_pages(filters, 1) == ids(page)
        narrow = board_page(BoardFilters(q="rust job 1"))
        assert ids(narrow) == [gigs[1].id] and not narrow.capped
        empty = board_page(BoardFilters(q="rust", kind="task"))
        assert empty.items == [] and empty.capped  # nothing shown, but there were more
    finally:
        del app.config["GIG_SEARCH_CANDIDATES"]
    assert not board_page(BoardFilters(q="rust")).capped


def test_board_relationships_are_loaded_and_others_raise(make_member, make_gig):
    make_gig(make_member(display_name="Alice"), skill_names=["Rust", "Go"])
    gig = board_page(BoardFilters()).items[0]
    assert gig.poster.name == "Alice" and [s.name for s in gig.skills] == ["Go", "Rust"]
    db.session.expunge_all()
    plain = db.session.get(Gig, gig.id)
    with pytest.raises(InvalidRequestError):
        plain.poster  # noqa: B018  (lazy="raise": templates can't query per row)
    with pytest.raises(InvalidRequestError):
        plain.skills  # noqa: B018


# --- a fixed number of queries ------------------------------------------------------------

def statements_of(count_queries, fn, *args) -> list[str]:
    """The SQL ``fn(*args)`` runs, from an empty session (no identity-map shortcuts);
    ``args`` are ``(model, id)`` pairs loaded first, outside the count."""
    db.session.rollback()
    db.session.expunge_all()
    loaded = [db.session.get(model, pk) for model, pk in args]
    with count_queries() as statements:
        fn(*loaded)
    return [s for s in statements if s.strip().upper() != "BEGIN"]


def many_gigs(make_member, n: int) -> list[int]:
    """``n`` generated gigs, all open (so every page is full)."""
    members = [make_member() for _ in range(3)]
    skills = ensure_skills(["Python", "Rust", "Go", "Elm"], actor=members[0])
    db.session.commit()
    gig_ids = generate_gigs(n, [m.id for m in members], skills, random.Random(n))
    with atomic():
        db.session.execute(update(Gig).values(state="open", published_at=Gig.created_at,
                                              deadline=in_days(30)))
        db.session.execute(update(GigSkill).values(is_open=True))
    return gig_ids


@pytest.mark.parametrize("filters", [
    BoardFilters(), BoardFilters(sort="budget", kind="task"), BoardFilters(q="client"),
    BoardFilters(skills=("python", "go"), sort="deadline")], ids=["plain", "filtered",
                                                                 "search", "skills"])
def test_the_board_runs_the_same_queries_at_10_and_at_200_gigs(make_member, count_queries,
                                                               filters):
    counts, pages = [], []
    for n in (10, 200):
        with atomic():
            db.session.execute(delete(GigSkill))
            db.session.execute(delete(ClientDetails))
            db.session.execute(delete(Gig))
        many_gigs(make_member, n)
        statements = statements_of(count_queries, lambda: pages.append(board_page(filters)))
        counts.append(len(statements))
        assert not any("gig_client_details" in s for s in statements)
    assert counts[0] == counts[1] == 2
    assert 0 < len(pages[0].items) < len(pages[1].items) == 20


def test_the_gig_page_runs_the_same_queries_at_10_and_at_200_items(make_member, make_gig,
                                                                   count_queries):
    member_ids = [make_member().id, make_member().id, make_member(admin=True).id]
    counts = []
    for n in (10, 200):
        alice, bob, admin = (db.session.get(User, i) for i in member_ids)
        gig = make_gig(alice, skill_names=[f"skill{i}" for i in range(10)])
        now = utcnow()
        db.session.execute(insert(Question), [
            {"gig_id": gig.id, "asker_id": make_member().id if i < 3 else bob.id,
             "body": f"Question {i}?", "answer": "Yes" if i % 2 else None,
             "answered_at": now if i % 2 else None, "created_at": now} for i in range(n)])
        db.session.execute(insert(GigAttachment), [
            {"gig_id": gig.id, "stored_name": f"{gig.id}-{i}.pdf", "original_name": "a.pdf",
             "content_type": "application/pdf", "size_bytes": 10, "created_at": now}
            for i in range(n)])
        gig_id = gig.id
        db.session.commit()
        for viewer_id, expected in zip(member_ids[1:] + member_ids[:1], (4, 5, 5), strict=True):
            statements = statements_of(count_queries, _render, (Gig, gig_id),
                                       (User, viewer_id))
            counts.append((viewer_id, len(statements)))
            assert len(statements) == expected
            sees_client = any("gig_client_details" in s for s in statements)
            assert sees_client == (viewer_id != member_ids[1])
    assert counts[:3] == counts[3:]


def _render(gig: Gig, viewer: User) -> None:
    """What a template does with the gig page: touches everything it shows."""
    page = gig_page(gig.id, viewer)
    assert page.gig.poster.name and len(page.gig.skills) == 10
    assert all(q.asker.name for q in page.questions)
    assert all(a.original_name for a in page.attachments)


# --- one gig ------------------------------------------------------------------------------

def test_gig_page_shows_questions_in_order_with_askers(make_member, make_gig):
    alice, bob, carol = make_member(), make_member(), make_member()
    gig = make_gig(alice)
    first = services.ask_question(gig, actor=bob, body="First?")
    second = services.ask_question(gig, actor=carol, body="Second?")
    services.answer_question(first, actor=alice, answer="Yes")
    page = gig_page(gig.id, bob)
    assert [(q.id, q.asker.id, q.answer) for q in page.questions] == [
        (first.id, bob.id, "Yes"), (second.id, carol.id, None)]
    assert gig_page(10**6, bob) is None


def test_drafts_are_hidden_from_other_members(make_member, make_gig):
    alice, bob = make_member(), make_member()
    draft = make_gig(alice, publish=False)
    assert gig_page(draft.id, bob) is None
    assert gig_page(draft.id, None) is None
    assert gig_page(draft.id, alice).gig.id == draft.id
    assert gig_page(draft.id, make_member(admin=True)) is not None


def test_client_details_never_reach_other_members(make_member, make_gig, count_queries):
    alice, bob, admin = make_member(), make_member(), make_member(admin=True)
    set_member_skills(actor=bob, skill_names=["Python"])
    gig = make_gig(alice, title="Secret client job", skill_names=["Python"],
                   client_details={"name": "Initech", "contact": "bill@initech.example",
                                   "notes": "Do not call before noon"})
    db.session.commit()
    gig_id, alice_id, bob_id, admin_id = gig.id, alice.id, bob.id, admin.id
    reads = [
        (lambda: board_page(BoardFilters()),),
        (lambda: board_page(BoardFilters(q="secret client")),),
        (lambda: board_page(BoardFilters(q="initech")),),
        (lambda: board_page(BoardFilters(skills=("python",))),),
        (lambda g, v: gig_page(g.id, v), (Gig, gig_id), (User, bob_id)),
        (client_details_for, (Gig, gig_id), (User, bob_id)),
        (lambda: matching_gigs_for(bob_id),),
        (lambda: my_gigs(alice_id),),
    ]
    for read, *args in reads:
        statements = statements_of(count_queries, read, *args)
        assert not any("gig_client_details" in s for s in statements)
        assert not any(isinstance(o, ClientDetails) for o in db.session.identity_map.values())
    alice, bob, admin = (db.session.get(User, i) for i in (alice_id, bob_id, admin_id))
    gig = db.session.get(Gig, gig_id)
    assert board_page(BoardFilters(q="initech")).items == []
    page = gig_page(gig.id, bob)
    assert page.client_details is None and not page.can_see_client_details
    assert client_details_for(gig, bob) is None
    for allowed in (alice, admin):
        page = gig_page(gig.id, allowed)
        assert page.can_see_client_details
        assert (page.client_details.client_name, page.client_details.notes) == (
            "Initech", "Do not call before noon")


# --- matching and my gigs -----------------------------------------------------------------

def test_matching_gigs_for_a_member(make_member, make_gig):
    alice, bob = make_member(), make_member()
    set_member_skills(actor=bob, skill_names=["Python", "Rust"])
    python = make_gig(alice, skill_names=["Python"])
    rust = make_gig(alice, skill_names=["Rust", "Go"])
    both = make_gig(alice, skill_names=["Rust", "Python"])
    make_gig(alice, skill_names=["Go"])
    make_gig(bob, skill_names=["Python"])  # their own
    services.cancel_gig(make_gig(alice, skill_names=["Rust"]), actor=alice)
    make_gig(alice, skill_names=["Python"], publish=False)
    past = make_gig(alice, skill_names=["Python"])
    set_values(past, deadline=in_days(-1))
    db.session.commit()
    assert [g.id for g in matching_gigs_for(bob.id)] == [both.id, rust.id, python.id]
    assert [g.id for g in matching_gigs_for(bob.id, limit=2)] == [both.id, rust.id]
    assert matching_gigs_for(make_member().id) == []
    assert [s.name for s in matching_gigs_for(bob.id)[0].skills] == ["Python", "Rust"]


def test_matching_members_for_a_gig(make_member, make_gig):
    alice = make_member()
    set_member_skills(actor=alice, skill_names=["Python", "Rust"])
    two, one, none = make_member(), make_member(), make_member()
    unconfirmed = make_member(confirmed=False)
    set_member_skills(actor=two, skill_names=["Rust", "Python", "Go"])
    set_member_skills(actor=one, skill_names=["Rust"])
    set_member_skills(actor=none, skill_names=["Go"])
    set_member_skills(actor=unconfirmed, skill_names=["Python"])
    gig = gig_page(make_gig(alice, skill_names=["Python", "Rust"]).id, alice).gig
    matches = matching_members_for(gig)
    assert [(m.user.id, [s.name for s in m.shared_skills]) for m in matches] == [
        (two.id, ["Python", "Rust"]), (one.id, ["Rust"])]
    assert [m.user.id for m in matching_members_for(gig, limit=1)] == [two.id]


def test_matching_members_ranks_the_newest_members_with_each_skill(app, make_member, make_gig,
                                                                    monkeypatch):
    monkeypatch.setitem(app.config, "MEMBER_MATCH_CANDIDATES", 2)
    poster = make_member()
    both = make_member()  # the oldest: past the two newest with either skill
    set_member_skills(actor=both, skill_names=["Python", "Rust"])
    py_old, py_new, rust = make_member(), make_member(), make_member()
    set_member_skills(actor=py_old, skill_names=["Python"])
    set_member_skills(actor=py_new, skill_names=["Python"])
    set_member_skills(actor=rust, skill_names=["Rust", "Python"])
    gig = gig_page(make_gig(poster, skill_names=["Python", "Rust"]).id, poster).gig
    # Python's newest two: rust, py_new; Rust's: rust, both
    assert [m.user.id for m in matching_members_for(gig)] == [rust.id, py_new.id, both.id]


def test_my_gigs_by_state_newest_first(app, make_member, make_gig, monkeypatch):
    alice = make_member()
    first, second = make_gig(alice), make_gig(alice, publish=False)
    third = make_gig(alice)
    services.cancel_gig(third, actor=alice)
    make_gig(make_member())
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    page = my_gigs(alice.id)
    assert ids(page) == [third.id, second.id]
    assert ids(my_gigs(alice.id, cursor=page.next_cursor)) == [first.id]
    assert ids(my_gigs(alice.id, GigState.DRAFT)) == [second.id]
    assert [s.name for s in my_gigs(alice.id, GigState.OPEN).items[0].skills] == ["Python"]


# --- the board against a plain Python model -----------------------------------------------

WORDS = ["alpha", "bravo", "delta", "kilo", "lima", "oscar", "tango", "zulu"]
SKILLS = ["Python", "Rust", "Elm"]

gig_specs = st.lists(st.fixed_dictionaries({
    "kind": st.sampled_from(["referral", "task"]),
    "category": st.sampled_from(["web", "data"]),
    "state": st.sampled_from(["open", "open", "open", "open", "draft", "cancelled"]),
    "budget_min_minor": st.sampled_from([100, 200, 300]),
    "extra": st.sampled_from([0, 0, 100]),
    "deadline_in": st.integers(-1, 3),
    "published_in": st.integers(0, 2),
    "skills": st.sets(st.sampled_from(SKILLS), min_size=1),
    "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=2),
    "description": st.lists(st.sampled_from(WORDS), max_size=3),
}), max_size=14)

board_filters = st.fixed_dictionaries({
    "q": st.one_of(st.just(""), st.sampled_from(WORDS),
                   st.sampled_from([w[:3] + "*" for w in WORDS]),
                   st.lists(st.sampled_from(WORDS + [s.lower() for s in SKILLS]), min_size=2,
                            max_size=2).map(" ".join)),
    "kind": st.sampled_from([None, "referral", "task"]),
    "category": st.sampled_from([None, "web", "data"]),
    "skills": st.sets(st.sampled_from([s.lower() for s in SKILLS]), max_size=2).map(tuple),
    "budget_min_minor": st.sampled_from([None, 150, 250]),
    "budget_max_minor": st.sampled_from([None, 150, 250]),
    "due_by_in": st.sampled_from([None, 0, 2]),
    "sort": st.sampled_from(list(BoardSort)),
})


def _expected(rows: list[dict], f: dict, today) -> list[int]:
    def shown(r):
        words = set(re.findall(r"[^\W_]+", " ".join(
            [r["title"], r["description"], r["skills_text"]]).lower()))
        typed = f["q"].split()
        for n, w in enumerate(typed):
            if n == len(typed) - 1 and len(w) >= 2 and not w.endswith("*"):
                w += "*"  # the last word is a prefix
            if w.endswith("*"):
                if not any(t.startswith(w[:-1]) for t in words):
                    return False
            elif w not in words:
                return False
        return (r["state"] == "open" and r["deadline"] >= today
                and f["kind"] in (None, r["kind"]) and f["category"] in (None, r["category"])
                and (not f["skills"] or set(f["skills"]) & r["slugs"])
                and (f["budget_min_minor"] is None
                     or r["budget_max_minor"] >= f["budget_min_minor"])
                and (f["budget_max_minor"] is None
                     or r["budget_min_minor"] <= f["budget_max_minor"])
                and (f["due_by_in"] is None
                     or r["deadline"] <= today + timedelta(days=f["due_by_in"])))

    key = {BoardSort.NEWEST: lambda r: (r["published_at"], r["id"]),
           # (relevance: the test compares the set; without words it is newest)
           BoardSort.RELEVANCE: lambda r: (r["published_at"], r["id"]),
           BoardSort.BUDGET: lambda r: (r["budget_max_minor"], r["id"]),
           BoardSort.DEADLINE: lambda r: (r["deadline"], r["id"])}[f["sort"]]
    return [r["id"] for r in sorted(filter(shown, rows), key=key,
                                    reverse=f["sort"] != BoardSort.DEADLINE)]


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=gig_specs, f=board_filters, size=st.integers(1, 4))
def test_paging_the_board_gives_what_a_plain_filter_and_sort_gives(make_member, specs, f,
                                                                   size):
    with atomic():
        db.session.execute(delete(GigSkill))
        db.session.execute(delete(Gig))
    poster = _poster(make_member)
    skills = {s.name: s for s in ensure_skills(SKILLS, actor=poster)}
    db.session.commit()
    now, today = utcnow(), utcnow().date()
    rows = []
    for spec in specs:
        row = {
            "poster_id": poster.id, "kind": spec["kind"], "category": spec["category"],
            "title": " ".join(spec["title"]), "description": " ".join(spec["description"]),
            "skills_text": " ".join(sorted(spec["skills"])),
            "budget_min_minor": spec["budget_min_minor"],
            "budget_max_minor": spec["budget_min_minor"] + spec["extra"],
            "currency": "USD", "deadline": today + timedelta(days=spec["deadline_in"]),
            "state": spec["state"], "commission_bps": 0, "platform_commission_bps": 0,
            "created_at": now, "updated_at": now, "state_changed_at": now,
            "published_at": (None if spec["state"] == "draft"
                             else now - timedelta(minutes=spec["published_in"]))}
        with atomic():
            row["id"] = db.session.scalar(insert(Gig).returning(Gig.id), row)
            db.session.execute(insert(GigSkill), [
                {"gig_id": row["id"], "skill_id": skills[name].id,
                 "is_open": spec["state"] == "open"} for name in spec["skills"]])
        row["slugs"] = {name.lower() for name in spec["skills"]}
        rows.append(row)
    filters = BoardFilters(
        q=f["q"], kind=f["kind"], category=f["category"], skills=f["skills"],
        budget_min_minor=f["budget_min_minor"], budget_max_minor=f["budget_max_minor"],
        due_by=None if f["due_by_in"] is None else today + timedelta(days=f["due_by_in"]),
        sort=f["sort"])
    expected, paged = _expected(rows, f, today), all_pages(filters, size)
    if filters.sort == BoardSort.RELEVANCE:  # bm25 and ts_rank_cd aren't modelled here
        assert sorted(paged) == sorted(expected)
        assert paged == all_pages(filters, 100)  # pages add up to the one-page order
    else:
        assert paged == expected


def _poster(make_member):
    return db.session.scalar(select(User).where(User.username == "poster")) or make_member(
        "poster")


def test_gig_for_answers_what_the_viewer_may_see(app, make_member, make_gig):
    poster, other = make_member(), make_member()
    admin = make_member(admin=True)
    draft = make_gig(poster, publish=False)
    gig = make_gig(poster)
    assert gig_for(other, gig.id) is gig
    assert gig_for(poster, draft.id) is draft and gig_for(admin, draft.id) is draft
    for viewer, gig_id in ((other, draft.id), (other, 10**9)):
        with pytest.raises(NotFound):
            gig_for(viewer, gig_id)
