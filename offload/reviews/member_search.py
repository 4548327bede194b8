"""Member search: by skill, rating, completed projects, availability and account type.

Best rated first (the same exact rating key offers are ranked by: a member without a
review has the prior), then the newest member; keyset pages on (rating key, -id).
Unconfirmed and suspended members aren't listed.

It lives here, not in ``profiles`` (whose page shows it), because it ranks by the rating
reviews keep: reviews sit above profiles (a review names its author's profile), so the
read that joins both sits above both.

Query-string keys: ``q`` (words in the member's username or display name, all of
them, in any case), ``skill`` (a name or slug), ``rating`` (at least this many stars,
1–5, halves allowed; members with no review yet don't match), ``completed`` (at least
this many projects completed as the performer), ``availability`` (``available`` or
``busy``), ``type`` (``individual`` or ``organization``), ``work`` (``take_on`` or
``pass_on``: members who mainly do that, and those who do both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, tuple_

from offload.accounts.models import AccountType, User, WorkRole
from offload.core.db import db
from offload.core.forms import arg_text
from offload.core.pagination import Page
from offload.profiles.models import MemberSkill, Profile, Skill, skill_slug
from offload.profiles.queries import LISTED, skills_by_member

from .models import MemberRating
from .queries import Rating
from .ranking import MICRO, rated_at_least, rating_key

AVAILABILITY = ("available", "busy")
QUERY_MAX = 60
COMPLETED_MAX = 100_000
# the ``work`` filter: who counts as taking on (or passing on) work
WORK_FILTERS = {WorkRole.TAKE_ON.value: (WorkRole.TAKE_ON.value, WorkRole.BOTH.value),
                WorkRole.PASS_ON.value: (WorkRole.PASS_ON.value, WorkRole.BOTH.value)}


@dataclass(frozen=True)
class MemberFilters:
    q: str = ""  # words, each in the username or the display name
    skill: str = ""  # as typed; matched by slug
    min_rating: Decimal | None = None
    min_completed: int | None = None
    availability: str = ""  # "", "available" or "busy"
    account_type: str = ""  # "", "individual" or "organization"
    work: str = ""  # "", "take_on" or "pass_on"

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> tuple[MemberFilters, dict[str, str]]:
        """Filters from a query string and the problems found (that filter is left out)."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {"q": " ".join(arg_text(args, "q").split())[:QUERY_MAX],
                                  "skill": " ".join(arg_text(args, "skill").split())[:60]}
        raw = arg_text(args, "rating").strip()
        if raw:
            try:
                stars = Decimal(raw)
                if not (1 <= stars <= 5) or (stars * 2) % 1:
                    raise InvalidOperation
                values["min_rating"] = stars
            except InvalidOperation:
                errors["rating"] = "Choose a rating from 1 to 5 stars (halves allowed, e.g. 4.5)."
        raw = arg_text(args, "completed").strip()
        if raw:
            if raw.isascii() and raw.isdigit() and len(raw) <= 6 and int(raw) <= COMPLETED_MAX:
                values["min_completed"] = int(raw)
            else:
                errors["completed"] = "Enter a whole number of completed projects, e.g. 3."
        for key, name, allowed, label in (
                ("availability", "availability", AVAILABILITY, "available or busy"),
                ("type", "account_type", tuple(t.value for t in AccountType),
                 "individual or organization"),
                ("work", "work", tuple(WORK_FILTERS), "members who take on work or who pass "
                                                      "it on")):
            raw = arg_text(args, key).strip().lower()
            if raw in allowed:
                values[name] = raw
            elif raw:
                errors[key] = f"Choose {label}."
        return cls(**values), errors

    def to_args(self) -> dict[str, str]:
        args = {"q": self.q, "skill": self.skill,
                "rating": f"{self.min_rating.normalize():f}" if self.min_rating else "",
                "completed": str(self.min_completed) if self.min_completed is not None else "",
                "availability": self.availability, "type": self.account_type,
                "work": self.work}
        return {k: v for k, v in args.items() if v}

    @property
    def is_filtered(self) -> bool:
        return self != MemberFilters()


@dataclass
class MemberResult:
    user: User
    profile: Profile | None
    skills: list[Skill]
    rating: Rating

    @property
    def available(self) -> bool:
        return self.profile is None or self.profile.available


def search_members(filters: MemberFilters, cursor: str | None = None, *,
                   size: int | None = None) -> Page:
    """A page of ``MemberResult``s for ``filters``, best rated first; two queries."""
    size = size or current_app.config["PAGE_SIZE"]
    key = rating_key()
    stmt = (select(User, Profile, MemberRating, key.label("rank_key"))
            .outerjoin(Profile, Profile.user_id == User.id)
            .outerjoin(MemberRating, MemberRating.member_id == User.id)
            .where(LISTED))
    for word in filters.q.lower().split():
        stmt = stmt.where(or_(User.username.contains(word, autoescape=True),
                              func.lower(User.display_name).contains(word, autoescape=True)))
    if filters.skill:
        stmt = stmt.where(User.id.in_(
            select(MemberSkill.user_id).join(Skill, Skill.id == MemberSkill.skill_id)
            .where(Skill.slug == skill_slug(filters.skill))))
    if filters.min_rating is not None:
        stmt = stmt.where(rated_at_least(int(filters.min_rating * MICRO)))
    if filters.min_completed:
        stmt = stmt.where(User.projects_completed >= filters.min_completed)
    if filters.availability:
        stmt = stmt.where(func.coalesce(Profile.available, True)
                          == (filters.availability == "available"))
    if filters.account_type:
        stmt = stmt.where(User.account_type == filters.account_type)
    if filters.work:
        stmt = stmt.where(User.work_role.in_(WORK_FILTERS[filters.work]))
    after = _decode(cursor)
    newest = -User.id  # equal ratings: the newest member first
    if after:
        stmt = stmt.where(tuple_(key, newest) > (after[0], -after[1]))
    rows = db.session.execute(stmt.order_by(key, newest).limit(size + 1)).all()
    more = len(rows) > size
    rows = rows[:size]
    skills = skills_by_member([user.id for user, *_ in rows])
    items = [MemberResult(user, profile, skills.get(user.id, []), Rating.of(rating))
             for user, profile, rating, _ in rows]
    next_cursor = f"{rows[-1].rank_key}.{rows[-1][0].id}" if more else None
    return Page(items=items, next_cursor=next_cursor, is_first=after is None)


def _decode(cursor: str | None) -> tuple[int, int] | None:
    """(rating key, member id) from a cursor; None (start over) unless both are numbers
    the database's columns can hold."""
    try:
        rank, member_id = (int(part) for part in (cursor or "").rsplit(".", 1))
    except ValueError:
        return None
    return (rank, member_id) if abs(rank) < 2**63 and 0 < member_id < 2**31 else None
