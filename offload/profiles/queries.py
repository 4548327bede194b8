"""Reading profiles for pages. Each function runs a fixed number of queries.

Everything a template touches is loaded here; relationships are ``lazy="raise"``, so a
template reaching for something not loaded fails in tests rather than running a
query per row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload

from offload.accounts.models import User
from offload.core.db import db

from .models import Document, EducationEntry, MemberSkill, PortfolioItem, Profile, Skill, skill_slug

# an admin at the root may have invited thousands; the admin area explores the whole tree
INVITEES_SHOWN = 50
# members others find in the directory and see with their photo: confirmed, not
# suspended and not deleted (``ProfilePage.listed`` is the same test on a loaded member)
LISTED = and_(User.email_confirmed_at.is_not(None), User.suspended_at.is_(None),
              User.deleted_at.is_(None))


@dataclass
class ProfilePage:
    user: User  # with ``invited_by`` loaded
    profile: Profile | None  # None until the member first saves their profile
    skills: list[Skill]
    education: list[EducationEntry]
    portfolio: list[PortfolioItem]
    documents: list[Document]
    invitees: list[User]  # the first INVITEES_SHOWN members this one invited, by join date
    invitee_count: int

    @property
    def listed(self) -> bool:
        """Whether others see this member in the directory and with their photo."""
        return self.user.is_confirmed and not self.user.is_suspended \
            and not self.user.is_deleted


def profile_for(username: str) -> ProfilePage | None:
    """Everything the profile page shows, in seven queries; None for an unknown username."""
    row = db.session.execute(
        select(User, Profile)
        .outerjoin(Profile, Profile.user_id == User.id)
        .where(User.username == username.lower())
        .options(joinedload(User.invited_by))
    ).one_or_none()
    if row is None:
        return None
    user, profile = row
    return ProfilePage(
        user=user,
        profile=profile,
        skills=skills_by_member([user.id]).get(user.id, []),
        education=list(db.session.scalars(
            select(EducationEntry).where(EducationEntry.user_id == user.id)
            .order_by(EducationEntry.start_year.desc(), EducationEntry.id.desc()))),
        portfolio=list(db.session.scalars(
            select(PortfolioItem).where(PortfolioItem.user_id == user.id)
            .order_by(PortfolioItem.created_at.desc(), PortfolioItem.id.desc()))),
        documents=list(db.session.scalars(
            select(Document).where(Document.user_id == user.id)
            .order_by(Document.created_at.desc(), Document.id.desc()))),
        invitees=list(db.session.scalars(
            select(User).where(User.invited_by_id == user.id)
            .order_by(User.created_at, User.id).limit(INVITEES_SHOWN))),
        invitee_count=db.session.scalar(
            select(func.count()).select_from(User).where(User.invited_by_id == user.id)),
    )


def photo_version_of(username: str, *, viewer_id: int) -> str | None:
    """The version of the member's current photo as the viewer may see it: None without
    one, for no such member, and for a member not ``LISTED`` unless it is the viewer."""
    return db.session.scalar(
        select(Profile.photo_version).join(User, User.id == Profile.user_id)
        .where(User.username == username.lower(), or_(LISTED, User.id == viewer_id)))


def skills_by_member(user_ids: list[int]) -> dict[int, list[Skill]]:
    """Each member's skills in alphabetical order, in one query."""
    if not user_ids:
        return {}
    rows = db.session.execute(
        select(MemberSkill.user_id, Skill)
        .join(Skill, Skill.id == MemberSkill.skill_id)
        .where(MemberSkill.user_id.in_(user_ids))
        .order_by(Skill.slug))
    result: dict[int, list[Skill]] = defaultdict(list)
    for user_id, skill in rows:
        result[user_id].append(skill)
    return dict(result)


def skill_named(name: str) -> Skill | None:
    """The skill called ``name`` (any case or spacing), if any member has named it."""
    return db.session.scalar(select(Skill).where(Skill.slug == skill_slug(name)))


def popular_skills(limit: int = 20) -> list[tuple[Skill, int]]:
    """The skills most members list, with how many list each."""
    members = func.count(MemberSkill.user_id).label("members")
    rows = db.session.execute(
        select(Skill, members)
        .join(MemberSkill, MemberSkill.skill_id == Skill.id)
        .group_by(Skill.id)
        .order_by(members.desc(), Skill.slug)
        .limit(limit))
    return [(skill, count) for skill, count in rows]
