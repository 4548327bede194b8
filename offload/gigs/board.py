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

from flask import current_app
from sqlalchemy import (
    Select,
    Subquery,
    and_,
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
from offload.core.db import db, is_postgresql, utcnow
from offload.core.pagination import Page
from offload.profiles.models import Skill

from .filters import BoardFilters, BoardSort, decode_cursor, encode_cursor
from .models import OPEN, Gig, GigSkill
from .search import matching_ids

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


@dataclass
class BoardPage(Page):
    capped: bool = False  # more gigs matched than the search looks at (the newest ones)


def board_page(filters: BoardFilters, cursor: str | None = None, *,
               size: int | None = None, today: date | None = None) -> BoardPage:
    """A page of open gigs (poster and skills loaded) for these filters, from ``cursor``.

    A cursor that is malformed or made for another sort starts from the beginning.
    """
    size = size or current_app.config["PAGE_SIZE"]
    key = decode_cursor(filters.sort, cursor)
    query = _BoardQuery(filters, today or utcnow().date())
    rows = db.session.execute(query.select(key, size + 1)).all()
    gigs = [row[0] for row in rows[:size]]
    capped = bool(rows) and rows[0][1] > query.cap
    if query.ids is not None and not rows and key is None:
        # nothing on the first page: whether the words matched more is still worth saying
        capped = db.session.scalar(
            select(func.count()).select_from(query.ids.subquery())) > query.cap
    next_cursor = None
    if len(rows) > size:
        last = gigs[-1]
        # a relevance is not a column of the gig: the page's row carries it
        sort_key = (rows[size - 1].sort_key if filters.sort == BoardSort.RELEVANCE
                    else getattr(last, _SORT_COLUMN[filters.sort]))
        next_cursor = encode_cursor(filters.sort, sort_key, last.id)
    return BoardPage(items=gigs, next_cursor=next_cursor, is_first=key is None, capped=capped)


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

    query = _BoardQuery(filters, today or utcnow().date(), window,
                        [Gig.poster_id != not_posted_by])
    return [row[0] for row in db.session.execute(query.select(None, limit)).all()]


class _BoardQuery:
    """The board's statement for ``filters`` on ``today``, cut at a key and a limit."""

    def __init__(self, filters: BoardFilters, today: date, extra=None,
                 gig_conditions: list | None = None) -> None:
        # ``extra(cols)``: more conditions on the candidate columns; ``gig_conditions``:
        # on other columns of the gig (they cost a row read per candidate)
        self.filters, self.today, self.extra = filters, today, extra
        self.gig_conditions = gig_conditions or []
        self.cap = current_app.config.get("GIG_SEARCH_CANDIDATES", SEARCH_CANDIDATES)
        # one more than we use, to learn ``capped``
        self.ranked = filters.sort == BoardSort.RELEVANCE  # (only ever with words)
        self.ids = _candidate_ids(filters, self.cap + 1, ranked=self.ranked)

    def select(self, key: tuple | None, limit: int) -> Select:
        """(Gig, candidates found) rows after ``key``, at most ``limit``; by relevance,
        (Gig, candidates found, sort_key)."""
        filters, ids = self.filters, self.ids
        cols = (_candidates(ids.subquery("ids"), self.cap, self.gig_conditions,
                            self.ranked).c
                if ids is not None else Gig.__table__.c)
        sort_key = getattr(cols, _SORT_COLUMN[filters.sort])
        ascending = filters.sort == BoardSort.DEADLINE
        conditions = _conditions(filters, cols) + (self.extra(cols) if self.extra else [])
        if ids is None:
            conditions += self.gig_conditions
        if self.ranked:
            # most relevant first (lowest), then newest; the two go opposite ways, so
            # the cursor's comparison is spelled out instead of a row value
            conditions.append(cols.deadline >= self.today)
            if key:
                conditions.append(or_(sort_key > key[0],
                                      and_(sort_key == key[0], cols.id < key[1])))
            page = (select(cols.id, sort_key.label("sort_key"), cols.found).where(*conditions)
                    .order_by(sort_key.asc(), cols.id.desc()).limit(limit).subquery("page"))
            return (select(Gig, page.c.found, page.c.sort_key).join(page, page.c.id == Gig.id)
                    .order_by(page.c.sort_key.asc(), page.c.id.desc()).options(*LIST_LOAD))
        if key and ascending and key[0] >= self.today:
            # the cursor already starts after today: a second lower bound on the index's
            # first column would make SQLite seek by the wrong one and scan
            conditions.append(tuple_(sort_key, cols.id) > key)
        else:  # (a deadline cursor from before today starts over at today)
            conditions.append(cols.deadline >= self.today)
            if key and not ascending:
                conditions.append(tuple_(sort_key, cols.id) < key)
        if ids is not None:
            # sort and cut the narrow candidate rows first; load only the page's gigs
            page = (select(cols.id, sort_key.label("sort_key"), cols.found).where(*conditions)
                    .order_by(*_order(sort_key, cols.id, ascending)).limit(limit)
                    .subquery("page"))
            stmt = (select(Gig, page.c.found).join(page, page.c.id == Gig.id)
                    .order_by(*_order(page.c.sort_key, page.c.id, ascending)))
        else:
            stmt = (select(Gig, literal(0)).where(Gig.state == OPEN, *conditions)
                    .order_by(*_order(sort_key, cols.id, ascending)).limit(limit))
        return stmt.options(*LIST_LOAD)


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


def _candidate_ids(filters: BoardFilters, limit: int, *, ranked: bool = False
                   ) -> Select | None:
    """The ``limit`` newest ids the page is cut from (with their relevance when
    ``ranked``), or None to walk the whole board."""
    if filters.search:
        return matching_ids(filters.search, limit, ranked=ranked)
    if filters.skills:
        return _ids_with_skills(filters.skills, limit)
    return None


def _ids_with_skills(slugs: tuple[str, ...], limit: int) -> Select:
    """The ``limit`` highest ids of open gigs with any of these skills.

    Each skill's newest ``limit`` come from walking its part of the small
    ``ix_gig_skills_open`` index backwards; the overall newest ``limit`` are among them.
    """
    # the skill's id as a scalar subquery, not a join, so that PostgreSQL knows the
    # index range is one skill's and reads it in order instead of sorting all of it
    per_skill = [
        select(GigSkill.gig_id.label("id"))
        .where(GigSkill.skill_id == select(Skill.id).where(Skill.slug == slug)
               .scalar_subquery(), GigSkill.is_open)
        .order_by(GigSkill.gig_id.desc()).limit(limit)
        for slug in slugs]
    if len(per_skill) == 1:
        return per_skill[0]
    merged = union(*(s.subquery().select() for s in per_skill)).subquery()
    return select(merged.c.id).order_by(merged.c.id.desc()).limit(limit)


def _conditions(filters: BoardFilters, cols) -> list:
    conditions = []
    if filters.kind:
        conditions.append(cols.kind == filters.kind.value)
    if filters.category:
        conditions.append(cols.category == filters.category.value)
    if filters.budget_min_minor is not None:  # the ranges overlap
        conditions.append(cols.budget_max_minor >= filters.budget_min_minor)
    if filters.budget_max_minor is not None:
        conditions.append(cols.budget_min_minor <= filters.budget_max_minor)
    if filters.due_by:
        conditions.append(_not_selective(cols.deadline <= filters.due_by))
    if filters.skills and filters.search:
        # checked per candidate (a few index probes each), never by listing every
        # gig with a popular skill
        conditions.append(exists().where(
            GigSkill.gig_id == cols.id, GigSkill.skill_id == Skill.id,
            Skill.slug.in_(filters.skills)))
    return conditions


def _not_selective(condition):
    """``condition``, telling SQLite it keeps most rows. SQLite keeps no statistics of
    value ranges, so it takes a due-by bound for a narrow one, reads the deadline index
    and sorts everything due by then; this way it walks the sort's own index and checks
    the bound on the way, as it does for every other filter. (PostgreSQL knows.)"""
    return condition if is_postgresql() else func.likelihood(condition, literal_column("0.9"))


def _order(key, row_id, ascending: bool) -> tuple:
    return (key.asc(), row_id.asc()) if ascending else (key.desc(), row_id.desc())
