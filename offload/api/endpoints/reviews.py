"""Reviews as the pages read and write them: a member's published reviews (their
reviews page) and a review of a completed project (the project page's form)."""

from __future__ import annotations

from werkzeug.exceptions import NotFound

from offload.accounts.models import TokenScope, User
from offload.accounts.queries import member_named
from offload.core.db import db
from offload.core.links import external_url
from offload.profiles.queries import skill_named
from offload.projects.queries import project_for
from offload.reviews.queries import member_reviews_page, replies_of
from offload.reviews.services import submit_review

from ..blueprint import (
    LINK_HEADER,
    LOCATION_HEADER,
    READ,
    Joined,
    bp,
    loaded,
    needs,
    problem_response,
)
from ..paging import paged
from ..schemas.common import CursorQuery
from ..schemas.reviews import ReviewBody, ReviewPageSchema, ReviewSchema

PROJECTS = TokenScope.PROJECTS.value


@bp.route("/members/<username>/reviews", tags=["reviews"])
@needs(READ)
@problem_response(404, "No member by that name")
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, ReviewPageSchema, headers=LINK_HEADER)
def member_reviews(member, username: str, cursor: str | None = None,
                   limit: int | None = None):
    """A member's published reviews, newest first, with their replies (their overall
    and per-skill ratings are on their profile)"""
    subject = member_named(username)
    if subject is None:
        raise NotFound()
    page = member_reviews_page(subject.id, cursor, size=limit)
    replies = replies_of([r.id for r in page.items])
    return paged([Joined(r, reply=replies.get(r.id)) for r in page.items], page.next_cursor)


@bp.route("/projects/<int:project_id>/reviews", methods=["POST"], tags=["reviews"])
@needs(PROJECTS)
@loaded("project", project_for)
@problem_response(404, "No such project, or one the member is not a side of")
@problem_response(409, "Already reviewed, or the project is not completed or its window "
                       "has closed")
@bp.arguments(ReviewBody, as_kwargs=True)
@bp.response(201, ReviewSchema, headers=LOCATION_HEADER)
def review(member, project, stars: int, body: str, skill_stars: list[dict]):
    """Review the other side of a completed project, as its page's form does: hidden
    until the other side's review is in too, or the review window closes"""
    written = submit_review(project, actor=member, stars=stars, body=body,
                            skill_stars={_skill_id(s["skill"]): s["stars"] for s in skill_stars})
    subject = db.session.get(User, written.subject_id)
    return Joined(written, author=member, reply=None), 201, {
        "Location": external_url("api.member_reviews", username=subject.username)}


def _skill_id(slug: str) -> int:
    """The id of the skill named ``slug``; 0, which no skill has, for a name no member
    uses (the service refuses ratings that aren't the gig's skills)."""
    skill = skill_named(slug)
    return skill.id if skill is not None else 0
