"""The board: open gigs, filtered, searched, sorted, one keyset page at a time.

- Open gigs whose deadline day hasn't passed, in one of three orders, each ending in
  ``id`` so equal keys still have one order: newest (published_at, id) descending,
  budget (budget_max_minor, id) descending, deadline (deadline, id) ascending. Pages
  are cut with a row-value comparison from the cursor (``(key, id) < (:key, :id)``),
  never OFFSET, so page 500 costs what page 1 costs.
- Without words or skills, the page walks the partial index of its order
  (``WHERE state = 'open'``) and checks kind, category, budget and deadline filters on
  the way.
- With words, or skills, the page is cut from a **bounded candidate set** instead:
  the ``GIG_SEARCH_CANDIDATES`` newest (by id) open gigs that match the words
  (``search.matching_ids``), or, without words, that have any of the skills (the
  newest per skill, walking each skill's index backwards, merged). Reading the
  candidates costs at most that many index entries whatever the word or skill; the
  narrow candidate rows are then filtered, sorted and cut (a sort of at most that
  many rows), and only the page's gigs are loaded. A word found in half the gigs thus
  costs what a rare one costs. The price: an older match beyond the newest
  ``GIG_SEARCH_CANDIDATES`` is not found; ``BoardPage.capped`` says so, and more
  words narrow the set. With both words and skills, the words choose the candidates
  and the skills filter them.
- Relevance (the default with words): the candidates carry their relevance
  (``search.matching_ids(ranked=True)``, a double, lower = better) and the page is
  cut from them in (relevance, id descending) order with a cursor on that pair:
  ``relevance > :r OR (relevance = :r AND id < :id)``. The relevance is compared
  exactly as the database computed it (the cursor carries the double's shortest
  exact text; PostgreSQL's real is cast to double before it leaves the database), so
  equal ranks neither skip nor repeat a gig; there is no index to walk, but the
  candidates are at most ``GIG_SEARCH_CANDIDATES`` rows either way. Why not OFFSET
  within that window: it is as cheap here, but a cursor also holds when gigs close
  between pages. What neither can promise: ranks depend on the whole index (bm25's
  document frequencies and average length), so a gig posted or closed between two
  pages can move the others' ranks a little, as an edited budget moves a gig on the
  budget sort.
- Queries: one for the page (posters joined; with words or skills it also counts
  the candidates, up to one more than it uses, to learn ``capped``), one for the
  page's skills, and for a first page that comes out empty one to count candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union,
)
from sqlalchemy.orm import joinedload, load_only, selectinload

from offload.accounts.models import User
from offload.accounts.names import MemberName
from offload.core.db import db, is_postgresql, utcnow
from offload.core.pagination import Page
from offload.profiles.models import Skill

from .filters import BoardFilters, BoardSort, decode_cursor, encode_cursor
from .models import OPEN, BudgetRange, Gig, GigSkill
from .search import matching_ids, search_parameter, search_value

SEARCH_CANDIDATES = 1000  # default of GIG_SEARCH_CANDIDATES

# what a list of gigs shows (gigs/_gig_item.html, alert mail): only those columns are
# loaded (the description is most of a gig's row; converting unused dates costs too)
LIST_LOAD = (
    load_only(Gig.id, Gig.poster_id, Gig.kind, Gig.state, Gig.title, Gig.budget_min_minor,
              Gig.budget_max_minor, Gig.currency, Gig.deadline, Gig.published_at),
    joinedload(Gig.poster, innerjoin=True).load_only(User.id, User.username,
                                                      User.display_name),
    selectinload(Gig.skills).load_only(Skill.id, Skill.slug, Skill.name),
)

_SORT_COLUMN = {BoardSort.NEWEST: "published_at", BoardSort.BUDGET: "budget_max_minor",
                BoardSort.DEADLINE: "deadline", BoardSort.RELEVANCE: "relevance"}

# what filters and sorts read, carried by the candidate rows
_CANDIDATE_COLUMNS = (Gig.id, Gig.published_at, Gig.budget_min_minor, Gig.budget_max_minor,
                      Gig.deadline, Gig.kind, Gig.category)


class SkillTag(NamedTuple):
    """A skill as a list shows it."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class GigListItem(BudgetRange):
    """A gig as the board and a search show it (``gigs/_gig_item.html``): plain values,
    for the template and the JSON API alike.

    ``fragment_key`` names the cached HTML of its row: it changes whenever anything
    the row shows changes (the gig's ``version``, bumped by every UPDATE; the poster's
    name), and holds ``created_at`` so a reused id (SQLite, after a delete) is a new key.
    """

    id: int
    kind: str
    state: str
    title: str
    budget_min_minor: int
    budget_max_minor: int
    currency: str
    deadline: date
    published_at: datetime | None
    created_at: datetime
    version: int
    poster: MemberName
    skills: tuple[SkillTag, ...]

    @property
    def poster_id(self) -> int:
        return self.poster.id

    @property
    def fragment_key(self) -> str:
        return f"{self.id}.{self.created_at.isoformat()}.{self.version}.{self.poster.stamp}"


@dataclass
class BoardPage(Page):
    capped: bool = False  # more gigs matched than the search looks at (the newest ones)


_gigs, _users = Gig.__table__, User.__table__
_gig_skills, _skills = GigSkill.__table__, Skill.__table__

# a row of the board: the gig's list columns (GigListItem's order) and its poster's name
LIST_COLUMNS = (_gigs.c.id, _gigs.c.kind, _gigs.c.state, _gigs.c.title,
                _gigs.c.budget_min_minor, _gigs.c.budget_max_minor, _gigs.c.currency,
                _gigs.c.deadline, _gigs.c.published_at, _gigs.c.created_at, _gigs.c.version,
                _gigs.c.poster_id, _users.c.username, _users.c.display_name)

# the skills of a page's gigs, in one statement (built once)
SKILLS_OF_GIGS = (
    select(_gig_skills.c.gig_id, _skills.c.id, _skills.c.slug, _skills.c.name)
    .join(_skills, _skills.c.id == _gig_skills.c.skill_id)
    .where(_gig_skills.c.gig_id.in_(bindparam("gig_ids", expanding=True)))
    .order_by(_gig_skills.c.gig_id, _skills.c.slug))


def board_page(filters: BoardFilters, cursor: str | None = None, *,
               size: int | None = None, today: date | None = None) -> BoardPage:
    """A page of open gigs (``GigListItem``, poster and skills included) for these
    filters, from ``cursor``.

    A cursor that is malformed or made for another sort starts from the beginning.
    The statements are built once per shape of the filters (which of them are set, the
    sort, the kind of cursor) with bound parameters, and run on the session's
    connection: no ORM entity is made.
    """
    size = size or current_app.config["PAGE_SIZE"]
    key = decode_cursor(filters.sort, cursor)
    today = today or utcnow().date()
    cap = current_app.config.get("GIG_SEARCH_CANDIDATES", SEARCH_CANDIDATES)
    shape = _Shape.of(filters, key, today, cap)
    params = _params(filters, shape, key, today, size + 1)
    connection = db.session.connection()
    rows = connection.execute(_page_statement(shape), params).all()
    capped = bool(rows) and rows[0].found > cap
    if shape.searched and not rows and key is None:
        # nothing on the first page: whether the words matched more is still worth saying
        capped = connection.execute(_count_statement(shape), params).scalar() > cap
    items = list_items(connection, rows[:size])
    next_cursor = None
    if len(rows) > size:
        last = items[-1]
        # a relevance is not a column of the gig: the page's row carries it
        sort_key = (rows[size - 1].sort_key if filters.sort == BoardSort.RELEVANCE
                    else getattr(last, _SORT_COLUMN[filters.sort]))
        next_cursor = encode_cursor(filters.sort, sort_key, last.id)
    return BoardPage(items=items, next_cursor=next_cursor, is_first=key is None,
                     capped=capped)


def list_items(connection, rows) -> list[GigListItem]:
    """``GigListItem``s of rows of ``LIST_COLUMNS``, their skills read in one statement."""
    if not rows:
        return []
    skills: dict[int, list[SkillTag]] = {}
    for gig_id, *skill in connection.execute(SKILLS_OF_GIGS,
                                             {"gig_ids": [row.id for row in rows]}):
        skills.setdefault(gig_id, []).append(SkillTag(*skill))
    return [GigListItem(*row[:11], MemberName(*row[11:14]), tuple(skills.get(row[0], ())))
            for row in rows]


def alert_matches(filters: BoardFilters, *, published_after: datetime,
                  published_until: datetime, limit: int, not_posted_by: int,
                  not_among: Select | None = None, today: date | None = None) -> list[Gig]:
    """The first ``limit`` gigs, in the board's order, that the board shows for ``filters``
    and that were published in (``published_after``, ``published_until``], leaving out
    the member's own and the ids ``not_among`` selects: what a keyword alert reports.

    The board's own query with those conditions added, so an alert finds exactly what
    the same search on the board would show (less what it leaves out)."""

    def window(cols) -> list:
        conditions = [cols.published_at > published_after,
                      cols.published_at <= published_until]
        if not_among is not None:
            conditions.append(cols.id.not_in(not_among))
        return conditions

    today = today or utcnow().date()
    cap = current_app.config.get("GIG_SEARCH_CANDIDATES", SEARCH_CANDIDATES)
    shape = _Shape.of(filters, None, today, cap)
    stmt = _build(shape, window, [Gig.poster_id != not_posted_by], entity=True)
    params = _params(filters, shape, None, today, limit)
    return [row[0] for row in db.session.execute(stmt, params).all()]


class _Shape(NamedTuple):
    """What the board's statement depends on besides values (those are bound)."""

    sort: BoardSort
    kind: bool
    category: bool
    budget_min: bool
    budget_max: bool
    due_by: bool
    skills: int  # how many
    searched: bool  # with words or skills: cut from a bounded candidate set
    words: bool
    cursor: str | None  # None, "after" (ascending), "before" (descending), "relevance"
    cap: int
    postgresql: bool

    @classmethod
    def of(cls, filters: BoardFilters, key: tuple | None, today: date, cap: int) -> _Shape:
        sort = filters.sort
        if key is None:
            cursor = None
        elif sort == BoardSort.RELEVANCE:
            cursor = "relevance"
        elif sort == BoardSort.DEADLINE:
            # a deadline cursor from before today starts over at today
            cursor = "after" if key[0] >= today else None
        else:
            cursor = "before"
        return cls(sort, bool(filters.kind), bool(filters.category),
                   filters.budget_min_minor is not None, filters.budget_max_minor is not None,
                   bool(filters.due_by), len(filters.skills),
                   bool(filters.search or filters.skills), bool(filters.search), cursor, cap,
                   is_postgresql())


def _params(filters: BoardFilters, shape: _Shape, key: tuple | None, today: date,
            limit: int) -> dict:
    params = {"today": today, "limit": limit}
    if shape.kind:
        params["kind"] = filters.kind.value
    if shape.category:
        params["category"] = filters.category.value
    if shape.budget_min:
        params["budget_min"] = filters.budget_min_minor
    if shape.budget_max:
        params["budget_max"] = filters.budget_max_minor
    if shape.due_by:
        params["due_by"] = filters.due_by
    if filters.search:
        params[search_parameter()] = search_value(filters.search)
    for n, slug in enumerate(filters.skills):
        params[f"skill_{n}"] = slug
    if filters.search and filters.skills:
        params["skill_slugs"] = list(filters.skills)
    if shape.cursor:
        params["after_key"], params["after_id"] = key
    return params


@lru_cache(maxsize=256)
def _page_statement(shape: _Shape) -> Select:
    return _build(shape)


@lru_cache(maxsize=64)
def _count_statement(shape: _Shape) -> Select:
    return select(func.count()).select_from(_candidate_ids(shape).subquery())


def _build(shape: _Shape, extra=None, gig_conditions: list | None = None, *,
           entity: bool = False) -> Select:
    """The board's statement for ``shape``: rows of ``LIST_COLUMNS`` and ``found`` (how
    many candidates there were; 0 without a candidate set), by relevance also
    ``sort_key``; with ``entity``, (Gig, found) rows with the list's columns loaded.

    ``extra(cols)``: more conditions on the candidate columns; ``gig_conditions``: on
    other columns of the gig (they cost a row read per candidate).
    """
    gig_conditions = gig_conditions or []
    ranked = shape.sort == BoardSort.RELEVANCE  # (only ever with words)
    ids = _candidate_ids(shape)
    cols = (_candidates(ids.subquery("ids"), shape.cap, gig_conditions, ranked).c
            if ids is not None else _gigs.c)
    sort_key = getattr(cols, _SORT_COLUMN[shape.sort])
    conditions = _conditions(shape, cols) + (extra(cols) if extra else [])
    if ids is None:
        conditions += gig_conditions
    after_key = bindparam("after_key", type_=sort_key.type)
    after_id = bindparam("after_id", type_=Integer)
    if shape.cursor == "after":
        # the cursor already starts after today: a second lower bound on the index's
        # first column would make SQLite seek by the wrong one and scan
        conditions.append(tuple_(sort_key, cols.id) > tuple_(after_key, after_id))
    else:
        conditions.append(cols.deadline >= bindparam("today", type_=Date))
        if shape.cursor == "before":
            conditions.append(tuple_(sort_key, cols.id) < tuple_(after_key, after_id))
        elif shape.cursor == "relevance":
            # most relevant first (lowest), then newest; the two go opposite ways, so
            # the cursor's comparison is spelled out instead of a row value
            conditions.append(or_(sort_key > after_key,
                                  and_(sort_key == after_key, cols.id < after_id)))
    limit = bindparam("limit", type_=Integer)
    order = _order(shape, sort_key, cols.id)
    if ids is None:
        if entity:
            return (select(Gig, literal(0)).where(Gig.state == OPEN, *conditions)
                    .order_by(*order).limit(limit).options(*LIST_LOAD))
        return (select(*LIST_COLUMNS, literal(0).label("found"))
                .join_from(_gigs, _users, _users.c.id == _gigs.c.poster_id)
                .where(_gigs.c.state == OPEN, *conditions).order_by(*order).limit(limit))
    # sort and cut the narrow candidate rows first; load only the page's gigs
    page = (select(cols.id, sort_key.label("sort_key"), cols.found).where(*conditions)
            .order_by(*order).limit(limit).subquery("page"))
    page_order = _order(shape, page.c.sort_key, page.c.id)
    if entity:
        return (select(Gig, page.c.found).join(page, page.c.id == Gig.id)
                .order_by(*page_order).options(*LIST_LOAD))
    return (select(*LIST_COLUMNS, page.c.found, page.c.sort_key)
            .select_from(page).join(_gigs, _gigs.c.id == page.c.id)
            .join(_users, _users.c.id == _gigs.c.poster_id).order_by(*page_order))


def _candidates(ids: Subquery, cap: int, gig_conditions: list, ranked: bool) -> Subquery:
    """The first ``cap`` of ``ids`` (highest first) with the columns filters and sorts
    read, and ``found``: how many ``ids`` there were; ``gig_conditions`` leave some out
    after the cut (so they never bring in a candidate the board doesn't have). When
    ``ranked``, each one's ``relevance`` too."""
    carried = [ids.c.relevance] if ranked else []
    numbered = select(ids.c.id, *carried, func.count().over().label("found"),
                      func.row_number().over(order_by=ids.c.id.desc()).label("n")
                      ).subquery("numbered")
    carried = [numbered.c.relevance] if ranked else []
    return (select(*_CANDIDATE_COLUMNS, *carried, numbered.c.found)
            .join(numbered, numbered.c.id == Gig.id)
            .where(numbered.c.n <= cap, Gig.state == OPEN, *gig_conditions)
            .subquery("candidates"))


def _candidate_ids(shape: _Shape) -> Select | None:
    """The ``cap`` + 1 newest ids the page is cut from (with their relevance when by
    relevance; one more than it uses, to learn ``capped``), or None to walk the whole
    board."""
    if shape.words:
        return matching_ids(shape.cap + 1, ranked=shape.sort == BoardSort.RELEVANCE)
    if shape.skills:
        return _ids_with_skills(shape.skills, shape.cap + 1)
    return None


def _ids_with_skills(skills: int, limit: int) -> Select:
    """The ``limit`` highest ids of open gigs with any of ``skills`` skills (bound as
    ``skill_0`` …).

    Each skill's newest ``limit`` come from walking its part of the small
    ``ix_gig_skills_open`` index backwards; the overall newest ``limit`` are among them.
    """
    # the skill's id as a scalar subquery, not a join, so that PostgreSQL knows the
    # index range is one skill's and reads it in order instead of sorting all of it
    per_skill = [
        select(GigSkill.gig_id.label("id"))
        .where(GigSkill.skill_id == select(Skill.id).where(
            Skill.slug == bindparam(f"skill_{n}")).scalar_subquery(), GigSkill.is_open)
        .order_by(GigSkill.gig_id.desc()).limit(limit)
        for n in range(skills)]
    if len(per_skill) == 1:
        return per_skill[0]
    merged = union(*(s.subquery().select() for s in per_skill)).subquery()
    return select(merged.c.id).order_by(merged.c.id.desc()).limit(limit)


def _conditions(shape: _Shape, cols) -> list:
    conditions = []
    if shape.kind:
        conditions.append(cols.kind == bindparam("kind"))
    if shape.category:
        conditions.append(cols.category == bindparam("category"))
    if shape.budget_min:  # the ranges overlap
        conditions.append(cols.budget_max_minor >= bindparam("budget_min", type_=BigInteger))
    if shape.budget_max:
        conditions.append(cols.budget_min_minor <= bindparam("budget_max", type_=BigInteger))
    if shape.due_by:
        conditions.append(_not_selective(shape, cols.deadline <= bindparam("due_by",
                                                                          type_=Date)))
    if shape.skills and shape.words:
        # checked per candidate (a few index probes each), never by listing every
        # gig with a popular skill
        conditions.append(exists().where(
            GigSkill.gig_id == cols.id, GigSkill.skill_id == Skill.id,
            Skill.slug.in_(bindparam("skill_slugs", expanding=True))))
    return conditions


def _not_selective(shape: _Shape, condition):
    """``condition``, telling SQLite it keeps most rows. SQLite keeps no statistics of
    value ranges, so it takes a due-by bound for a narrow one, reads the deadline index
    and sorts everything due by then; this way it walks the sort's own index and checks
    the bound on the way, as it does for every other filter. (PostgreSQL knows.)"""
    return condition if shape.postgresql else func.likelihood(condition, literal_column("0.9"))


def _order(shape: _Shape, key, row_id) -> tuple:
    if shape.sort == BoardSort.RELEVANCE:  # most relevant (lowest) first, then newest
        return key.asc(), row_id.desc()
    if shape.sort == BoardSort.DEADLINE:
        return key.asc(), row_id.asc()
    return key.desc(), row_id.desc()
