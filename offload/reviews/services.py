"""Writing reviews, publishing them (both in, or the window closed) and replies.

Each public function is one transaction. ``submit_review`` locks the project row
first (PostgreSQL), so of two reviews sent at the same moment the second sees the
first and publishes both; publication is an UPDATE guarded by ``published_at IS
NULL``, so a review is counted into a rating exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from offload.accounts.models import User
from offload.core.db import atomic, db, dialect_insert, on_commit, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed, refuse
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.transitions import insert_once
from offload.gigs.models import GigSkill
from offload.notifications.services import notify
from offload.projects.lifecycle import lock_project
from offload.projects.models import Project, ProjectState

from .models import (
    BODY_MAX,
    REPLY_MAX,
    MemberRating,
    MemberSkillRating,
    Review,
    ReviewReply,
    ReviewSkillStars,
)
from .policies import why_cannot_review

log = logging.getLogger("offload.reviews")


@transactional
def submit_review(project: Project, *, actor: User, stars: int, body: str,
                  skill_stars: Mapping[int, int] | None = None) -> Review:
    """``actor`` reviews the other side of a completed project: 1–5 stars and text; the
    poster also rates the performer 1–5 in each skill of the gig (``skill_stars``:
    skill id → stars, one for each).

    Writes: the review, hidden; when the other side's review is already in, both are
    published (ratings counted, both reviewed members told). Refuses: anyone but the
    two sides; a project not completed, or its window closed; a second review
    (Conflict); stars outside 1–5, a blank text, missing or unknown skills (InvalidField).
    """
    lock_project(project)
    refuse(why_cannot_review(project, actor, utcnow()),
           actor_may=actor.id in (project.poster_id, project.performer_id))
    stars = _stars("stars", stars)
    body = clean_text("body", body, BODY_MAX, "The review", required=True, multiline=True)
    subject_id = project.other_party_id(actor)
    skills = _skill_stars(project, actor, skill_stars or {})
    review = Review(project_id=project.id, author_id=actor.id, subject_id=subject_id,
                    stars=stars, body=body)
    # the unique index settles a double submit
    insert_once(review, refused="You have reviewed this project already.")
    db.session.add_all(ReviewSkillStars(review_id=review.id, skill_id=skill_id, stars=n)
                       for skill_id, n in skills.items())
    db.session.flush()
    both = list(db.session.scalars(select(Review.id).where(Review.project_id == project.id)))
    if len(both) == 2:
        publish_reviews(both)
    return review


def publish_reviews(review_ids: list[int], *, now: datetime | None = None) -> int:
    """Publish the hidden ones among ``review_ids``: count them into the ratings, tell
    the reviewed members (review_received); how many. Joins the caller's transaction."""
    now = now or utcnow()
    with atomic():
        rows = db.session.execute(
            update(Review).where(Review.id.in_(review_ids), Review.published_at.is_(None))
            .values(published_at=now)
            .returning(Review.id, Review.subject_id, Review.stars, Review.project_id)
            .execution_options(synchronize_session=False)).all()
        for r in rows:
            _add(MemberRating, {"member_id": r.subject_id}, r.stars)
            for skill_id, stars in db.session.execute(
                    select(ReviewSkillStars.skill_id, ReviewSkillStars.stars)
                    .where(ReviewSkillStars.review_id == r.id)).all():
                _add(MemberSkillRating, {"member_id": r.subject_id, "skill_id": skill_id}, stars)
            notify(db.session.get(User, r.subject_id), "review_received",
                   title=f"A review of your work on project #{r.project_id} is published",
                   link=site_path("projects.show", project_id=r.project_id, _anchor="reviews"))
        if rows:
            on_commit(lambda: log.info("reviews published", extra={"count": len(rows)}))
        return len(rows)


def publish_due_reviews(*, now: datetime | None = None) -> int:
    """The job: reviews still hidden when their project's window closed are published
    alone (the other side didn't write one); how many."""
    now = now or utcnow()
    closed_before = now - timedelta(days=current_app.config["REVIEW_WINDOW_DAYS"])
    with atomic():
        due = list(db.session.scalars(
            select(Review.id).join(Project, Project.id == Review.project_id)
            .where(Review.published_at.is_(None), Project.state == ProjectState.COMPLETED,
                   Project.state_changed_at < closed_before)))
        return publish_reviews(due, now=now) if due else 0


@transactional
def reply_to_review(review: Review, *, actor: User, body: str) -> ReviewReply:
    """The reviewed member answers a published review, once, in public.
    Refuses: anyone else (NotAllowed); a hidden review, a second reply (Conflict)."""
    if actor.id != review.subject_id:
        raise NotAllowed("Only the member reviewed can reply.")
    db.session.refresh(review)
    if not review.is_published:
        raise Conflict("You can reply once the review is published.")
    body = clean_text("body", body, REPLY_MAX, "The reply", required=True, multiline=True)
    if db.session.get(ReviewReply, review.id) is not None:
        raise Conflict("You have replied to this review already.")
    reply = ReviewReply(review_id=review.id, author_id=actor.id, body=body)
    insert_once(reply, refused="You have replied to this review already.")
    return reply


def _add(model, key: dict[str, int], stars: int) -> None:
    """One more review of ``stars`` on the rating row ``key`` (created at the first)."""
    stmt = dialect_insert(model).values(**key, reviews=1, stars_sum=stars)
    db.session.execute(stmt.on_conflict_do_update(
        index_elements=list(key), set_={"reviews": model.reviews + 1,
                                        "stars_sum": model.stars_sum + stars}))


def _stars(field: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
        raise InvalidField(field, "Choose from 1 to 5 stars.")
    return value


def _skill_stars(project: Project, actor: User, given: Mapping[int, int]) -> dict[int, int]:
    """The poster rates each of the gig's skills; the performer rates none."""
    if actor.id != project.poster_id:
        if given:
            raise InvalidField("skills", "Only the performer is rated per skill.")
        return {}
    wanted = set(db.session.scalars(select(GigSkill.skill_id).where(
        GigSkill.gig_id == project.gig_id)))
    if set(given) != wanted:
        raise InvalidField("skills", "Rate each skill of the gig from 1 to 5 stars.")
    return {skill_id: _stars("skills", n) for skill_id, n in given.items()}

