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
from datetime import date
from functools import lru_cache

from flask import current_app
from sqlalchemy import Select, bindparam, func, select, union_all
from sqlalchemy.orm import joinedload, load_only, selectinload
from werkzeug.exceptions import NotFound

from offload.accounts.models import NAME_COLUMNS, User
from offload.core.db import db, utcnow
from offload.core.pagination import Page, newest_first
from offload.profiles.models import MemberSkill, Skill

from .board import LIST_LOAD, BoardPage, board_page  # noqa: F401  (re-exported: the reads are here)
from .models import OPEN, ClientDetails, Gig, GigAttachment, GigSkill, GigState, Question
from .policies import can_see_client_details, can_view_gig


def gig_for(viewer: User, gig_id: int) -> Gig:
    """The gig, if ``viewer`` may see it; else NotFound, the 404 a missing gig and
    another member's draft both answer."""
    gig = db.session.get(Gig, gig_id)
    if gig is None or not can_view_gig(gig, viewer):
        raise NotFound()
    return gig


@dataclass
class GigPage:
    gig: Gig  # with poster and skills loaded
    questions: list[Question]  # oldest first, with askers loaded
    attachments: list[GigAttachment]
    client_details: ClientDetails | None  # only for those allowed to see them
    can_see_client_details: bool


@dataclass
class MemberMatch:
    user: User
    shared_skills: list[Skill]  # the gig's skills this member has


# --- one gig ----------------------------------------------------------------------------

def gig_page(gig_id: int, viewer: User | None) -> GigPage | None:
    """Everything the gig page shows, in four queries (five for those who see the client
    details); None when there is no such gig or the viewer may not see it (drafts)."""
    gig = db.session.scalar(
        select(Gig).where(Gig.id == gig_id)
        .options(joinedload(Gig.poster, innerjoin=True), selectinload(Gig.skills)))
    if gig is None or not can_view_gig(gig, viewer):
        return None
    questions = list(db.session.scalars(
        select(Question).where(Question.gig_id == gig.id)
        .order_by(Question.created_at, Question.id)
        .options(joinedload(Question.asker, innerjoin=True).load_only(*NAME_COLUMNS))))
    attachments = list(db.session.scalars(
        select(GigAttachment).where(GigAttachment.gig_id == gig.id)
        .order_by(GigAttachment.created_at, GigAttachment.id)))
    allowed = can_see_client_details(gig, viewer)
    return GigPage(gig=gig, questions=questions, attachments=attachments,
                   client_details=client_details_for(gig, viewer) if allowed else None,
                   can_see_client_details=allowed)


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
                      today: date | None = None) -> list[Gig]:
    """Open gigs needing any of the member's skills, newest posted first, not their own.

    Three queries, each bounded whatever the number of gigs: the member's skills, then
    for each skill its ``limit`` newest open gigs (walking the skill's index backwards)
    merged and cut to ``limit``, then those gigs' skills. Ordered by posting (id).
    """
    skill_ids = list(db.session.scalars(
        select(MemberSkill.skill_id).where(MemberSkill.user_id == member_id)))
    if not skill_ids:
        return []
    params = {f"skill_{n}": skill_id for n, skill_id in enumerate(skill_ids)}
    return list(db.session.scalars(
        _matching_gigs_statement(len(skill_ids), limit),
        {**params, "member_id": member_id, "today": today or utcnow().date()}))


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
    return select(Gig).where(Gig.id.in_(ids)).order_by(Gig.id.desc()).options(*LIST_LOAD)


def matching_members_for(gig: Gig, limit: int = 10) -> list[MemberMatch]:
    """Confirmed members with the gig's skills, most shared skills first, not the poster.

    Ranked among the newest ``MEMBER_MATCH_CANDIDATES`` members with each of the gig's
    skills (walking each skill's index backwards), so a gig needing a skill thousands of
    members have costs what one needing a rare skill does. Equal counts: newest first.
    Three queries (``gig.skills`` loaded): the ranking, the members, their shared skills.
    """
    skill_ids = [skill.id for skill in gig.skills]
    if not skill_ids:
        return []
    statement = _matching_members_statement(
        len(skill_ids), current_app.config["MEMBER_MATCH_CANDIDATES"], limit)
    params = {f"skill_{n}": skill_id for n, skill_id in enumerate(skill_ids)}
    ids = list(db.session.scalars(statement, {**params, "poster_id": gig.poster_id}))
    if not ids:
        return []
    users = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(ids)).options(load_only(*NAME_COLUMNS)))}
    skills: dict[int, list[Skill]] = defaultdict(list)
    for user_id, skill in db.session.execute(
            select(MemberSkill.user_id, Skill).join(Skill, Skill.id == MemberSkill.skill_id)
            .where(MemberSkill.user_id.in_(ids), MemberSkill.skill_id.in_(skill_ids))
            .order_by(Skill.slug)):
        skills[user_id].append(skill)
    return [MemberMatch(users[i], skills[i]) for i in ids]


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
