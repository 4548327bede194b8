"""Reading gigs for pages. Each function runs a fixed number of queries, whatever the
number of gigs, skills or questions; relationships are ``lazy="raise"``, so a template
reaching for something not loaded here fails in tests instead of querying per row.

Nothing here reads ``ClientDetails`` except ``client_details_for`` (and ``gig_page``
through it), both behind ``policies.can_see_client_details``.

``board_page`` (and ``BoardPage``) live in ``board.py`` and are importable from here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import Select, bindparam, func, select, union_all
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.accounts.names import MemberName
from offload.core.db import db, utcnow
from offload.core.pagination import Page, newest_first
from offload.profiles.models import MemberSkill, Skill

from .board import (  # noqa: F401  (re-exported: the reads are here)
    LIST_COLUMNS,
    LIST_LOAD,
    SKILLS_OF_GIGS,
    BoardPage,
    GigListItem,
    SkillTag,
    board_page,
    list_items,
)
from .models import OPEN, ClientDetails, Gig, GigAttachment, GigSkill, GigState, Question
from .policies import can_see_client_details, can_view_gig


def gig_for(viewer: User, gig_id: int) -> Gig:
    """The gig, if ``viewer`` may see it; else NotFound, the 404 a missing gig and
    another member's draft both answer."""
    gig = db.session.get(Gig, gig_id)
    if gig is None or not can_view_gig(gig, viewer):
        raise NotFound()
    return gig


@dataclass(frozen=True, slots=True)
class GigDetail(GigListItem):
    """A gig as its page shows it: its list columns and the rest, plain values for the
    template and the JSON API. The policies (``why_cannot_*``) read it as they read a
    ``Gig``; ``fragment_key`` also names its rendered description."""

    description: str  # markdown source
    category: str
    commission_bps: int
    platform_commission_bps: int
    cancel_reason: str | None
    performer_id: int | None

    @property
    def referrer_commission_bps(self) -> int:
        return self.commission_bps - self.platform_commission_bps


class QuestionItem(NamedTuple):
    id: int
    body: str
    answer: str | None
    answered_at: datetime | None
    created_at: datetime
    asker: MemberName


class AttachmentItem(NamedTuple):
    id: int
    original_name: str
    size_bytes: int


class ClientDetailsItem(NamedTuple):
    client_name: str
    contact: str
    notes: str


class GigPage(NamedTuple):
    gig: GigDetail
    questions: tuple[QuestionItem, ...]  # oldest first
    attachments: tuple[AttachmentItem, ...]
    client_details: ClientDetailsItem | None  # only for those allowed to see them
    can_see_client_details: bool


class EditableGig(NamedTuple):
    """What the edit form starts from: the entity the service changes (skills loaded)
    and its client details."""

    gig: Gig
    client_details: ClientDetails | None


class MemberMatch(NamedTuple):
    user: MemberName
    shared_skills: tuple[SkillTag, ...]  # the gig's skills this member has


_gigs, _users = Gig.__table__, User.__table__
_questions, _attachments = Question.__table__, GigAttachment.__table__
_details = ClientDetails.__table__

# built once; each runs with bound parameters
_GIG = (select(*LIST_COLUMNS, _gigs.c.description, _gigs.c.category,
               _gigs.c.commission_bps, _gigs.c.platform_commission_bps,
               _gigs.c.cancel_reason, _gigs.c.performer_id)
        .join(_users, _users.c.id == _gigs.c.poster_id)
        .where(_gigs.c.id == bindparam("gig_id")))
_QUESTIONS = (select(_questions.c.id, _questions.c.body, _questions.c.answer,
                     _questions.c.answered_at, _questions.c.created_at, _questions.c.asker_id,
                     _users.c.username, _users.c.display_name)
              .join(_users, _users.c.id == _questions.c.asker_id)
              .where(_questions.c.gig_id == bindparam("gig_id"))
              .order_by(_questions.c.created_at, _questions.c.id))
_ATTACHMENTS = (select(_attachments.c.id, _attachments.c.original_name,
                       _attachments.c.size_bytes)
                .where(_attachments.c.gig_id == bindparam("gig_id"))
                .order_by(_attachments.c.created_at, _attachments.c.id))
_CLIENT_DETAILS = (select(_details.c.client_name, _details.c.contact, _details.c.notes)
                   .where(_details.c.gig_id == bindparam("gig_id")))


# --- one gig ----------------------------------------------------------------------------

def gig_page(gig_id: int, viewer: User | None) -> GigPage | None:
    """Everything the gig page shows, as read models, in four statements (five for
    those who see the client details); None when there is no such gig or the viewer
    may not see it (drafts)."""
    connection = db.session.connection()
    params = {"gig_id": gig_id}
    row = connection.execute(_GIG, params).first()
    if row is None:
        return None
    skills = tuple(SkillTag(*skill) for _, *skill in connection.execute(
        SKILLS_OF_GIGS, {"gig_ids": [gig_id]}))
    gig = GigDetail(*row[:11], MemberName(*row[11:14]), skills, *row[14:])
    if not can_view_gig(gig, viewer):
        return None
    questions = tuple(QuestionItem(*q[:5], MemberName(*q[5:8]))
                      for q in connection.execute(_QUESTIONS, params))
    attachments = tuple(AttachmentItem(*a) for a in connection.execute(_ATTACHMENTS, params))
    allowed = can_see_client_details(gig, viewer)
    details = None
    if allowed:
        found = connection.execute(_CLIENT_DETAILS, params).first()
        details = ClientDetailsItem(*found) if found else None
    return GigPage(gig=gig, questions=questions, attachments=attachments,
                   client_details=details, can_see_client_details=allowed)


def gig_for_edit(gig_id: int, viewer: User) -> EditableGig | None:
    """The gig (skills loaded) and its client details for the edit form, or None when
    there is no such gig or the viewer may not see it. Two or three queries."""
    gig = db.session.scalar(select(Gig).where(Gig.id == gig_id)
                            .options(selectinload(Gig.skills)))
    if gig is None or not can_view_gig(gig, viewer):
        return None
    return EditableGig(gig, client_details_for(gig, viewer))


def client_details_for(gig: Gig, viewer: User | None) -> ClientDetails | None:
    """The referral's client details, if ``viewer`` may see them (else None, no query)."""
    if not can_see_client_details(gig, viewer):
        return None
    return db.session.get(ClientDetails, gig.id)


def my_gigs(member_id: int, state: GigState | None = None, cursor: str | None = None) -> Page:
    """The gigs a member posted, any state or one, newest first (skills loaded); 2 queries."""
    stmt = select(Gig).where(Gig.poster_id == member_id).options(selectinload(Gig.skills))
    if state:
        stmt = stmt.where(Gig.state == state)
    return newest_first(stmt, Gig, cursor)


# --- matching ---------------------------------------------------------------------------

def matching_gigs_for(member_id: int, limit: int = 10, *,
                      today: date | None = None) -> list[GigListItem]:
    """Open gigs needing any of the member's skills, newest posted first, not their own,
    as the board lists them (``GigListItem``).

    Three statements, each bounded whatever the number of gigs: the member's skills,
    then for each skill its ``limit`` newest open gigs (walking the skill's index
    backwards) merged and cut to ``limit``, then those gigs' skills. Ordered by posting
    (id).
    """
    connection = db.session.connection()
    skill_ids = list(connection.execute(_MEMBER_SKILLS, {"member_id": member_id}).scalars())
    if not skill_ids:
        return []
    params = {f"skill_{n}": skill_id for n, skill_id in enumerate(skill_ids)}
    rows = connection.execute(_matching_gigs_statement(len(skill_ids), limit),
                              {**params, "member_id": member_id,
                               "today": today or utcnow().date()}).all()
    return list_items(connection, rows)


_MEMBER_SKILLS = select(MemberSkill.skill_id).where(MemberSkill.user_id == bindparam("member_id"))


@lru_cache(maxsize=64)
def _matching_gigs_statement(skills: int, limit: int) -> Select:
    # Built once per number of skills: putting the union of subqueries together cost
    # more than running it. Parameters: skill_0 … skill_{n-1}, member_id, today.
    per_skill = [
        select(GigSkill.gig_id)
        .join(Gig, Gig.id == GigSkill.gig_id)
        .where(GigSkill.skill_id == bindparam(f"skill_{n}"), GigSkill.is_open,
               Gig.state == OPEN, Gig.deadline >= bindparam("today"),
               Gig.poster_id != bindparam("member_id"))
        .order_by(GigSkill.gig_id.desc()).limit(limit).subquery().select()
        for n in range(skills)]
    found = union_all(*per_skill).subquery() if skills > 1 else per_skill[0].subquery()
    ids = select(found.c.gig_id).distinct().order_by(found.c.gig_id.desc()).limit(limit)
    return (select(*LIST_COLUMNS).join_from(_gigs, _users, _users.c.id == _gigs.c.poster_id)
            .where(_gigs.c.id.in_(ids)).order_by(_gigs.c.id.desc()))


def matching_members_for(gig: GigDetail, limit: int = 10) -> list[MemberMatch]:
    """Confirmed members with the gig's skills, most shared skills first, not the poster.

    Ranked among the newest ``MEMBER_MATCH_CANDIDATES`` members with each of the gig's
    skills (walking each skill's index backwards), so a gig needing a skill thousands of
    members have costs what one needing a rare skill does. Equal counts: newest first.
    Two statements: the ranking, then the members' names and shared skills.
    """
    skill_ids = [skill.id for skill in gig.skills]
    if not skill_ids:
        return []
    statement = _matching_members_statement(
        len(skill_ids), current_app.config["MEMBER_MATCH_CANDIDATES"], limit)
    params = {f"skill_{n}": skill_id for n, skill_id in enumerate(skill_ids)}
    connection = db.session.connection()
    ids = list(connection.execute(statement, {**params, "poster_id": gig.poster_id})
               .scalars())
    if not ids:
        return []
    names: dict[int, MemberName] = {}
    skills: dict[int, list[SkillTag]] = defaultdict(list)
    for user_id, username, display_name, *skill in connection.execute(
            _SHARED_SKILLS, {"user_ids": ids, "skill_ids": skill_ids}):
        names[user_id] = MemberName(user_id, username, display_name)
        skills[user_id].append(SkillTag(*skill))
    return [MemberMatch(names[i], tuple(skills[i])) for i in ids]


# the members' names and the gig's skills they have, in one statement (built once)
_SHARED_SKILLS = (
    select(_users.c.id, _users.c.username, _users.c.display_name, Skill.id, Skill.slug,
           Skill.name)
    .join(MemberSkill, MemberSkill.user_id == _users.c.id)
    .join(Skill, Skill.id == MemberSkill.skill_id)
    .where(_users.c.id.in_(bindparam("user_ids", expanding=True)),
           MemberSkill.skill_id.in_(bindparam("skill_ids", expanding=True)))
    .order_by(_users.c.id, Skill.slug))


@lru_cache(maxsize=64)
def _matching_members_statement(skills: int, cap: int, limit: int) -> Select:
    # Built once per number of skills (see _matching_gigs_statement); the ranked member
    # ids. Parameters: skill_0 … skill_{n-1}, poster_id.
    per_skill = [
        select(MemberSkill.user_id)
        .where(MemberSkill.skill_id == bindparam(f"skill_{n}"),
               MemberSkill.user_id != bindparam("poster_id"))
        .order_by(MemberSkill.user_id.desc()).limit(cap).subquery().select()
        for n in range(skills)]
    found = union_all(*per_skill).subquery() if skills > 1 else per_skill[0].subquery()
    shared = func.count().label("shared")
    return (select(found.c.user_id)
            .join(User, User.id == found.c.user_id)
            .where(User.email_confirmed_at.is_not(None))
            .group_by(found.c.user_id)
            .order_by(shared.desc(), found.c.user_id.desc()).limit(limit))


def gig_title(gig_id: int) -> str | None:
    """What a notification linking to the gig is about (notifications.subjects)."""
    return db.session.scalar(select(Gig.title).where(Gig.id == gig_id))
