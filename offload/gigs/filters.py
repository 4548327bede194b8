"""The board's filters and sort as they travel in the URL, and its page cursor.

``BoardFilters.from_args(request.args)`` turns a query string into filters and a
dict of field → message for anything it could not use (that filter is then left
out, so the page still shows); ``to_args()`` goes back, for links that keep the
search (``url_for("gigs.board", **filters.to_args(), cursor=page.next_cursor)``).

Query-string keys: ``q`` (words), ``kind``, ``category``, ``skills`` (comma
separated, or ``skill`` repeated), ``budget_min`` and ``budget_max`` (amounts such as
``150`` or ``99.50``; a gig matches when its budget range overlaps), ``due_by``
(``YYYY-MM-DD``: deadline on or before that day) and ``sort`` (``relevance`` = best
match first, ``newest``, ``budget`` = highest first, ``deadline`` = soonest first).
Without ``sort`` the board sorts by relevance when there are words to search for and
by newest otherwise; relevance without words is newest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app

from offload.core.errors import Invalid
from offload.core.forms import ID_MAX, arg_text
from offload.core.money import format_amount, parse_amount
from offload.profiles.models import skill_slug
from offload.profiles.services import clean_skill_names

from .models import SKILLS_MAX, GigCategory, GigKind
from .search import QUERY_MAX_CHARS, SearchQuery, parse_search


class BoardSort(StrEnum):
    RELEVANCE = "relevance"
    NEWEST = "newest"
    BUDGET = "budget"
    DEADLINE = "deadline"

    @property
    def label(self) -> str:
        return {"relevance": "Relevance", "newest": "Newest", "budget": "Highest budget",
                "deadline": "Soonest deadline"}[self.value]


@dataclass(frozen=True)
class BoardFilters:
    q: str = ""
    kind: GigKind | None = None
    category: GigCategory | None = None
    skills: tuple[str, ...] = ()  # skill slugs; a gig matches with any of them
    budget_min_minor: int | None = None
    budget_max_minor: int | None = None
    due_by: date | None = None
    # None: the default, relevance with words, newest without (relevance without words
    # is newest too); always a BoardSort after __post_init__
    sort: BoardSort | None = None
    search: SearchQuery | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # accept plain strings from code too ("task" for GigKind.TASK); raises ValueError
        for name, enum in (("kind", GigKind), ("category", GigCategory), ("sort", BoardSort)):
            value = getattr(self, name)
            if value is not None and not isinstance(value, enum):
                object.__setattr__(self, name, enum(value))
        object.__setattr__(self, "skills", tuple(self.skills))
        object.__setattr__(self, "search", parse_search(self.q))
        if self.sort is None or (self.sort == BoardSort.RELEVANCE and not self.search):
            object.__setattr__(self, "sort", self.default_sort)

    @property
    def default_sort(self) -> BoardSort:
        return BoardSort.RELEVANCE if self.search else BoardSort.NEWEST

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> tuple[BoardFilters, dict[str, str]]:
        """Filters from a query string (a MultiDict or a plain dict) and the problems found.

        Unknown keys are ignored; a value that can't be used leaves its filter out and
        adds a message for the member under its key.
        """
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        q = arg_text(args, "q").strip()
        if len(q) > QUERY_MAX_CHARS:
            errors["q"] = f"Search for at most {QUERY_MAX_CHARS} characters."
        else:
            values["q"] = q
        for key, enum, what in (("kind", GigKind, "kind of gig"),
                                ("category", GigCategory, "category"),
                                ("sort", BoardSort, "sort order")):
            raw = arg_text(args, key).strip().lower()
            if not raw:
                continue
            try:
                values[key] = enum(raw)
            except ValueError:
                choices = ", ".join(m.value for m in enum)
                errors[key] = f"“{raw[:40]}” isn't a {what} here; choose one of {choices}."
        try:
            values["skills"] = _skills(args)
        except Invalid as e:
            errors["skills"] = str(e)
        max_minor = current_app.config["MAX_AMOUNT_MINOR"]
        for key in ("budget_min", "budget_max"):
            raw = arg_text(args, key).strip()
            if raw:
                try:
                    values[f"{key}_minor"] = parse_amount(
                        raw, max_minor=max_minor, currency=current_app.config["CURRENCY"])
                except Invalid as e:
                    errors[key] = str(e)
        low, high = values.get("budget_min_minor"), values.get("budget_max_minor")
        if low is not None and high is not None and low > high:
            errors["budget_max"] = "The highest budget can't be below the lowest."
            del values["budget_max_minor"]
        raw = arg_text(args, "due_by").strip()
        if raw:
            try:
                values["due_by"] = date.fromisoformat(raw)
            except ValueError:
                errors["due_by"] = "Enter the date as YYYY-MM-DD, for example 2030-06-30."
        return cls(**values), errors

    def to_args(self) -> dict[str, str]:
        """The query-string form of these filters, without defaults (short URLs)."""
        args = {
            "q": self.q,
            "kind": self.kind.value if self.kind else "",
            "category": self.category.value if self.category else "",
            "skills": ",".join(self.skills),
            "budget_min": _amount(self.budget_min_minor),
            "budget_max": _amount(self.budget_max_minor),
            "due_by": self.due_by.isoformat() if self.due_by else "",
            "sort": self.sort.value if self.sort != self.default_sort else "",
        }
        return {k: v for k, v in args.items() if v}

    def with_sort(self, sort: BoardSort) -> BoardFilters:
        return replace(self, sort=sort)

    @property
    def is_filtered(self) -> bool:
        """True when anything narrows the board (the sort doesn't)."""
        return self.with_sort(BoardSort.NEWEST) != BoardFilters()


def _skills(args: Mapping[str, Any]) -> tuple[str, ...]:
    raw = [arg_text(args, "skills")]
    getlist = getattr(args, "getlist", None)
    raw += getlist("skill") if getlist else [arg_text(args, "skill")]
    names = clean_skill_names(part for item in raw for part in item.split(","))
    if len(names) > SKILLS_MAX:
        raise Invalid(f"Filter by at most {SKILLS_MAX} skills.")
    return tuple(skill_slug(n) for n in names)


def _amount(minor: int | None) -> str:
    if minor is None:
        return ""
    text = format_amount(minor).replace(",", "")
    return text[:-3] if text.endswith(".00") else text


# --- the cursor -------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
BIGINT_MAX = 2**63 - 1
_MICROSECOND = timedelta(microseconds=1)


def encode_cursor(sort: BoardSort, key: datetime | int | date | float, row_id: int) -> str:
    """An opaque position on the board: the sort, the last row's sort key and id.

    A relevance is a double, written as ``repr`` writes it: the shortest text that
    reads back as exactly the same double, so the next page compares with the very
    value the database computed (no rounding to skip or repeat a gig of equal rank).
    """
    if isinstance(key, float):
        number = repr(key)
    elif isinstance(key, datetime):
        number = (key - _EPOCH) // _MICROSECOND  # exact: a float could drop a microsecond
    elif isinstance(key, date):
        number = key.toordinal()
    else:
        number = key
    return f"{sort.value[0]}{number}.{row_id}"


def decode_cursor(sort: BoardSort, cursor: str | None) -> tuple[Any, int] | None:
    """The key and id in ``cursor``; None (start over) when it is missing, malformed or
    was made for another sort."""
    if not cursor or cursor[0] != sort.value[0]:
        return None
    try:
        number_text, id_text = cursor[1:].rsplit(".", 1)
        row_id = int(id_text)
        if not 0 <= row_id <= ID_MAX:  # past the database's INTEGER: no such row
            return None
        if sort == BoardSort.RELEVANCE:
            relevance = float(number_text)
            return (relevance, row_id) if math.isfinite(relevance) else None
        number = int(number_text)
        if sort == BoardSort.NEWEST:
            return _EPOCH + number * _MICROSECOND, row_id
        if sort == BoardSort.DEADLINE:
            return date.fromordinal(number), row_id
        # a budget past BIGINT would overflow in the driver: no budget is that high
        return (number, row_id) if abs(number) <= BIGINT_MAX else None
    except (ValueError, OverflowError, OSError):
        return None
