"""The member the token speaks for; the member directory and a member's profile, as
their pages show them to any member."""

from __future__ import annotations

from flask import request
from flask_smorest import abort as abort_with
from werkzeug.exceptions import NotFound

from offload.accounts.models import TokenScope
from offload.profiles.queries import profile_for
from offload.reviews.member_search import MemberFilters, search_members
from offload.reviews.queries import member_rating

from ..auth import require_token
from ..blueprint import LINK_HEADER, READ, Joined, bp, needs, problem_response
from ..paging import paged
from ..schemas.members import MemberPageSchema, MemberQuery, MeSchema, ProfileSchema

_SCOPE_ORDER = [scope.value for scope in TokenScope]


@bp.route("/me", tags=["members"])
@needs(READ)
@bp.response(200, MeSchema)
def me(member):
    """The member the token speaks for"""
    return Joined(member, scopes=sorted(require_token().scopes, key=_SCOPE_ORDER.index))


@bp.route("/members", tags=["members"])
@needs(READ)
@bp.arguments(MemberQuery, location="query", as_kwargs=True)
@bp.response(200, MemberPageSchema, headers=LINK_HEADER)
def members(member, cursor: str | None = None, limit: int | None = None, **_filters):
    """The member directory: confirmed members in good standing, best rated first,
    filtered as on the directory page"""
    filters, errors = MemberFilters.from_args(request.args)
    if errors:
        abort_with(422, messages={"query": {key: [message] for key, message in errors.items()}})
    page = search_members(filters, cursor, size=limit)
    return paged([Joined(r.user, **_about(r.profile), available=r.available, skills=r.skills,
                         rating=r.rating) for r in page.items], page.next_cursor)


@bp.route("/members/<username>", tags=["members"])
@needs(READ)
@problem_response(404, "No member by that name")
@bp.response(200, ProfileSchema)
def profile(member, username: str):
    """A member's profile, with their rating overall and per skill"""
    page = profile_for(username)
    if page is None:
        raise NotFound()
    rating, skill_ratings = member_rating(page.user.id)
    available = page.profile is None or page.profile.available
    return Joined(page.user, **_about(page.profile), available=available, skills=page.skills,
                  rating=rating, joined_at=page.user.created_at,
                  invited_by=page.user.invited_by, portfolio=page.portfolio,
                  education=page.education,
                  skill_ratings=[{"skill": skill, "rating": r} for skill, r in skill_ratings])


def _about(profile) -> dict[str, str]:
    """What a member wrote about themself (empty until they first save their profile)."""
    return {key: getattr(profile, key) if profile is not None else ""
            for key in ("headline", "location", "bio")}
