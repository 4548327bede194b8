"""Reading projects: load-and-authorize, the member's lists, titles for notifications.

The project page's read model is ``projects.page``, which composes these with the
reads of the packages above projects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import Integer, Select, bindparam, or_, select, tuple_
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.core.cache import NeverEdited
from offload.core.db import db, utcnow
from offload.core.pagination import Page, decode_cursor, keyset_page, newest_first
from offload.core.uploads import FileLine, file_lines_of
from offload.gigs.models import Gig

from .models import EventKind, Project, ProjectEvent, ProjectEventFile, ProjectState
from .policies import can_view_project

STALLING_SHOWN = 20


def project_for(viewer: User, project_id: int) -> Project:
    """The project, if ``viewer`` may see it (a party or an admin); else NotFound, the
    404 a project answers to everyone else."""
    project = db.session.get(Project, project_id)
    if project is None or not can_view_project(project, viewer):
        raise NotFound()
    return project


def _mine(member_id: int):
    return (select(Project)
            .where(or_(Project.poster_id == member_id, Project.performer_id == member_id))
            .options(joinedload(Project.gig, innerjoin=True),
                     joinedload(Project.poster, innerjoin=True),
                     joinedload(Project.performer, innerjoin=True)))


def my_projects(member_id: int, state: ProjectState | None = None,
                cursor: str | None = None, size: int | None = None) -> Page:
    """The member's projects as performer or poster, newest first, in one state or any."""
    stmt = _mine(member_id)
    if state:
        stmt = stmt.where(Project.state == state)
    return newest_first(stmt, Project, cursor, size=size)


def my_stalling_projects(member_id: int) -> list[Project]:
    """The member's active projects with no news for PROJECT_STALL_DAYS, quietest first."""
    quiet_since = utcnow() - timedelta(days=current_app.config["PROJECT_STALL_DAYS"])
    return list(db.session.scalars(
        _mine(member_id).where(Project.state == ProjectState.ACTIVE,
                               Project.last_event_at < quiet_since)
        .order_by(Project.last_event_at, Project.id).limit(STALLING_SHOWN)))


def project_of_gig(gig: Gig) -> int | None:
    return db.session.scalar(select(Project.id).where(Project.gig_id == gig.id))


def gig_title_of_project(project_id: int) -> str | None:
    """What a notification linking to the project is about: its gig
    (notifications.subjects)."""
    return db.session.scalar(select(Gig.title).join(Project, Project.gig_id == Gig.id)
                             .where(Project.id == project_id))


# --- the timeline -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TimelineEvent(NeverEdited):
    """One event of a project's timeline, as the page shows it and the API sends it."""

    id: int
    kind: str
    label: str
    actor_id: int | None  # None: the site
    actor_name: str | None
    note: str
    created_at: datetime
    files: tuple[FileLine, ...]  # oldest first


_TIMELINE_COLUMNS = (ProjectEvent.id, ProjectEvent.kind, ProjectEvent.actor_id, User.username,
                     User.display_name, ProjectEvent.note, ProjectEvent.created_at)


@lru_cache(maxsize=2)
def _timeline_statement(paged: bool) -> Select:
    """A page of the project's events with their actors' names, newest first, built
    once. Parameters: project_id, limit, and before_at, before_id when ``paged``."""
    stmt = (select(*_TIMELINE_COLUMNS).outerjoin(User, User.id == ProjectEvent.actor_id)
            .where(ProjectEvent.project_id == bindparam("project_id", type_=Integer)))
    if paged:
        stmt = stmt.where(tuple_(ProjectEvent.created_at, ProjectEvent.id) < tuple_(
            bindparam("before_at", type_=ProjectEvent.created_at.type),
            bindparam("before_id", type_=Integer)))
    return (stmt.order_by(ProjectEvent.created_at.desc(), ProjectEvent.id.desc())
            .limit(bindparam("limit", type_=Integer)))


_LABELS = {kind.value: kind.label for kind in EventKind}


def timeline_page(project_id: int, cursor: str | None) -> Page:
    """A page of the project's TimelineEvents, newest first; two queries (one when the
    timeline is empty)."""
    size = current_app.config["PAGE_SIZE"]
    key = decode_cursor(cursor)
    params = {"project_id": project_id, "limit": size + 1}
    if key:
        params.update(before_at=key[0], before_id=key[1])
    return keyset_page(_events(_timeline_statement(key is not None), params), size,
                       key is None)


@lru_cache(maxsize=1)
def _timeline_after_statement() -> Select:
    """The project's events recorded after one, in the order they were recorded (their
    ids), built once. Parameters: project_id, after_id, limit."""
    return (select(*_TIMELINE_COLUMNS).outerjoin(User, User.id == ProjectEvent.actor_id)
            .where(ProjectEvent.project_id == bindparam("project_id", type_=Integer),
                   ProjectEvent.id > bindparam("after_id", type_=Integer))
            .order_by(ProjectEvent.id).limit(bindparam("limit", type_=Integer)))


def timeline_after(project_id: int, after_id: int, limit: int) -> list[TimelineEvent]:
    """The project's TimelineEvents recorded after event ``after_id`` (0: all), oldest
    first, at most ``limit``: the API's feed a script polls. Two queries (one when none)."""
    return _events(_timeline_after_statement(),
                   {"project_id": project_id, "after_id": after_id, "limit": limit})


def _events(statement: Select, params: dict) -> list[TimelineEvent]:
    rows = db.session.execute(statement, params).all()
    files = (file_lines_of(ProjectEventFile, "event_id", [row[0] for row in rows])
             if rows else {})
    return [TimelineEvent(id_, kind, _LABELS[kind], actor_id,
                          (display_name or username) if actor_id is not None else None,
                          note, at, files.get(id_, ()))
            for id_, kind, actor_id, username, display_name, note, at in rows]
