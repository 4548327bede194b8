"""Reviews after a completed project, and the ratings they add up to.

Design note
- Each side of a completed project reviews the other once (``Review``, unique per
  project and author) within REVIEW_WINDOW_DAYS of completion: 1–5 stars and text; the
  poster's review of the performer also gives 1–5 stars for each skill of the gig
  (``ReviewSkillStars``).
- Double-blind: a review is hidden (``published_at`` is NULL) until both are in (the
  second one publishes both, in its transaction) or the window closes (a job
  publishes what is there). Only then does anyone but its author see it. Published
  reviews are never edited; the reviewed member may post one public reply.
- Ratings are kept as sums on publication (``MemberRating``, ``MemberSkillRating``):
  a count and a sum of stars, so the Bayesian average — (prior × weight + sum) /
  (weight + count), RATING_PRIOR and RATING_PRIOR_WEIGHT in config — is arithmetic on
  one row, and ordering by it is an expression on indexed columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Text, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow

BODY_MAX = 4000
REPLY_MAX = 2000


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),
        CheckConstraint("author_id <> subject_id", name="not_oneself"),
        UniqueConstraint("project_id", "author_id", name="uq_reviews_project_author"),
        # a member's published reviews, newest first
        Index("ix_reviews_subject_published", "subject_id", "published_at", "id"),
        # the job: hidden reviews, oldest first
        Index("ix_reviews_hidden", "submitted_at", sqlite_where=text("published_at IS NULL"),
              postgresql_where=text("published_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    subject_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    stars: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    published_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    subject: Mapped[User] = relationship(foreign_keys=[subject_id], lazy="raise")

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class ReviewSkillStars(db.Model):
    __tablename__ = "review_skill_stars"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars"),)

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    stars: Mapped[int]


class ReviewReply(db.Model):
    __tablename__ = "review_replies"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class MemberRating(db.Model):
    """The published reviews of a member, summed."""

    __tablename__ = "member_ratings"

    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    reviews: Mapped[int] = mapped_column(default=0)
    stars_sum: Mapped[int] = mapped_column(default=0)


class MemberSkillRating(db.Model):
    """The published per-skill stars of a member, summed per skill."""

    __tablename__ = "member_skill_ratings"

    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    reviews: Mapped[int] = mapped_column(default=0)
    stars_sum: Mapped[int] = mapped_column(default=0)


def bayesian(stars_sum: int, reviews: int, prior: float, weight: float) -> float:
    """The rating: the prior counts as ``weight`` reviews of ``prior`` stars, so a
    single five-star review doesn't outrank a long record of fours."""
    return (prior * weight + stars_sum) / (weight + reviews)
