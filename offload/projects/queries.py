"""Reading projects: load-and-authorize, the member's lists, titles for notifications.

The project page's read model is ``projects.page``, which composes these with the
reads of the packages above projects."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.pagination import Page, newest_first
from offload.gigs.models import Gig

from .models import Project, ProjectState
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
                cursor: str | None = None) -> Page:
    """The member's projects as performer or poster, newest first, in one state or any."""
    stmt = _mine(member_id)
    if state:
        stmt = stmt.where(Project.state == state)
    return newest_first(stmt, Project, cursor)


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
