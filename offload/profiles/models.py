"""What a member tells other members about themself.

Design note
- ``Profile`` is one row per member, created on the first edit; a member without
  one simply has an empty profile. The display name and organization name stay on
  ``users`` (sign-up sets them) but are edited through the profile form.
- ``Skill`` is the shared skill list that profiles and gigs draw from. Members may
  add new skills; ``slug`` (the name with whitespace collapsed, lower-cased) is
  unique, so "Python" and " python " are one skill and the first spelling wins.
- ``MemberSkill`` links members to skills; its composite key makes a skill count
  once per member.
- Education, portfolio items and documents belong to one member each and are listed
  newest first. Document files live in ``UPLOAD_FOLDER`` under ``stored_name``; the
  row is the only way to reach them (served by an authorized route as attachments).
- The profile photo is stored re-encoded (``offload.core.images``) under
  ``photo_version``; its URL carries the version, so it may be cached for good.
- Relationships are ``lazy="raise"``: pages load what they show in explicit queries
  (``queries.py``), so a hidden N+1 fails loudly in tests instead of slowly in production.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, func, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.core.db import db, utcnow
from offload.core.uploads import StoredFileColumns

HEADLINE_MAX = 120
BIO_MAX = 10_000
LOCATION_MAX = 120
ORGANIZATION_MAX = 120
DISPLAY_NAME_MAX = 80
SKILL_NAME_MAX = 40
SKILLS_PER_MEMBER_MAX = 30
SCHOOL_MAX = 120
DEGREE_MAX = 120
TITLE_MAX = 120
URL_MAX = 500
DESCRIPTION_MAX = 2000


def skill_slug(name: str) -> str:
    """The key that makes skill names unique regardless of case and spacing."""
    return " ".join(name.split()).lower()


class DocumentKind(StrEnum):
    CERTIFICATE = "certificate"
    AWARD = "award"
    REFERENCE = "reference"
    RESUME = "resume"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"resume": "Résumé"}.get(self.value, self.value.capitalize())


class Profile(db.Model):
    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    headline: Mapped[str] = mapped_column(String(HEADLINE_MAX), default="", server_default="")
    bio: Mapped[str] = mapped_column(String(BIO_MAX), default="", server_default="")
    location: Mapped[str] = mapped_column(String(LOCATION_MAX), default="", server_default="")
    # "available for work" or busy; a member without a profile row counts as available
    available: Mapped[bool] = mapped_column(default=True, server_default=true())
    # the profile photo: files ``<photo_version>-<size>.jpg`` in UPLOAD_FOLDER (one per
    # PHOTO_SIZES); a new photo gets a new version, so its URLs never change content
    photo_version: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Skill(db.Model):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(SKILL_NAME_MAX), unique=True)
    name: Mapped[str] = mapped_column(String(SKILL_NAME_MAX))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    def __repr__(self) -> str:
        return f"<Skill {self.id} {self.slug}>"


class MemberSkill(db.Model):
    __tablename__ = "member_skills"

    # the primary key serves "skills of a member"; the index serves "members with a
    # skill", newest first (the gig page's matches walk it backwards)
    __table_args__ = (Index("ix_member_skills_skill_id_user_id", "skill_id", "user_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)

    skill: Mapped[Skill] = relationship(lazy="raise")


class EducationEntry(db.Model):
    __tablename__ = "education_entries"
    __table_args__ = (
        CheckConstraint("end_year IS NULL OR end_year >= start_year", name="years_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    school: Mapped[str] = mapped_column(String(SCHOOL_MAX))
    degree: Mapped[str] = mapped_column(String(DEGREE_MAX), default="", server_default="")
    field_of_study: Mapped[str] = mapped_column(String(DEGREE_MAX), default="",
                                                server_default="")
    start_year: Mapped[int]
    end_year: Mapped[int | None]  # None: still studying there
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class PortfolioItem(db.Model):
    __tablename__ = "portfolio_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    url: Mapped[str] = mapped_column(String(URL_MAX))  # http(s) only, checked by the service
    description: Mapped[str] = mapped_column(String(DESCRIPTION_MAX), default="",
                                             server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Document(StoredFileColumns, db.Model):
    __tablename__ = "documents"
    __table_args__ = (
        CheckConstraint("kind IN ('certificate', 'award', 'reference', 'resume', 'other')",
                        name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    @property
    def kind_label(self) -> str:
        return DocumentKind(self.kind).label
