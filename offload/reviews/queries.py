"""Reading reviews and ratings for pages; a fixed number of queries each."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from offload.accounts.models import User
from offload.core.db import db
from offload.core.pagination import Page, newest_first
from offload.gigs.models import GigSkill
from offload.profiles.models import Skill
from offload.projects.models import Project

from .models import MemberRating, MemberSkillRating, Review, ReviewReply, ReviewSkillStars, bayesian
from .policies import review_closes_at


@dataclass(frozen=True)
class Rating:
    value: float | None  # None: no published review yet
    reviews: int

    @classmethod
    def of(cls, row: MemberRating | MemberSkillRating | None) -> Rating:
        if row is None or not row.reviews:
            return cls(None, 0)
        config = current_app.config
        return cls(round(bayesian(row.stars_sum, row.reviews, config["RATING_PRIOR"],
                                  config["RATING_PRIOR_WEIGHT"]), 2), row.reviews)


@dataclass
class ProjectReviews:
    """The reviews section of a project page, for one viewer."""

    closes_at: datetime | None  # None: not completed
    mine: Review | None
    theirs: Review | None  # only once published (or for admins)
    skills: list[Skill]  # the gig's, for the poster's form
    skill_stars: dict[int, list[tuple[Skill, int]]] = field(default_factory=dict)
    replies: dict[int, ReviewReply] = field(default_factory=dict)


def project_reviews(project: Project, viewer: User) -> ProjectReviews:
    """Both reviews of a project as ``viewer`` may see them; four queries."""
    reviews = list(db.session.scalars(select(Review).where(Review.project_id == project.id)
                                      .options(joinedload(Review.author, innerjoin=True))))
    mine = next((r for r in reviews if r.author_id == viewer.id), None)
    theirs = next((r for r in reviews if r.author_id != viewer.id
                   and (r.is_published or viewer.is_admin)), None)
    skills = list(db.session.scalars(select(Skill).join(GigSkill, GigSkill.skill_id == Skill.id)
                                     .where(GigSkill.gig_id == project.gig_id)
                                     .order_by(Skill.name)))
    shown = [r.id for r in (mine, theirs) if r is not None]
    return ProjectReviews(closes_at=review_closes_at(project), mine=mine, theirs=theirs,
                          skills=skills, skill_stars=_skill_stars(shown),
                          replies=_replies(shown))


def member_rating(member_id: int) -> tuple[Rating, list[tuple[Skill, Rating]]]:
    """A member's rating and each skill's, best first; two queries."""
    overall = Rating.of(db.session.get(MemberRating, member_id))
    skills = [(skill, Rating.of(row)) for row, skill in db.session.execute(
        select(MemberSkillRating, Skill).join(Skill, Skill.id == MemberSkillRating.skill_id)
        .where(MemberSkillRating.member_id == member_id)).all()]
    skills.sort(key=lambda pair: (-(pair[1].value or 0), pair[0].name))
    return overall, skills


def member_reviews_page(member_id: int, cursor: str | None, size: int | None = None) -> Page:
    """A member's published reviews, newest first (authors loaded)."""
    return newest_first(
        select(Review).where(Review.subject_id == member_id, Review.published_at.is_not(None))
        .options(joinedload(Review.author, innerjoin=True)), Review, cursor,
        size=size, at=Review.published_at)


def replies_of(review_ids: list[int]) -> dict[int, ReviewReply]:
    return _replies(review_ids)


def _replies(review_ids: list[int]) -> dict[int, ReviewReply]:
    if not review_ids:
        return {}
    return {r.review_id: r for r in db.session.scalars(
        select(ReviewReply).where(ReviewReply.review_id.in_(review_ids)))}


def _skill_stars(review_ids: list[int]) -> dict[int, list[tuple[Skill, int]]]:
    found: dict[int, list[tuple[Skill, int]]] = {}
    if review_ids:
        for stars, skill in db.session.execute(
                select(ReviewSkillStars, Skill).join(Skill, Skill.id == ReviewSkillStars.skill_id)
                .where(ReviewSkillStars.review_id.in_(review_ids)).order_by(Skill.name)).all():
            found.setdefault(stars.review_id, []).append((skill, stars.stars))
    return found
