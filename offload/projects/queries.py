"""Reading projects for pages; each function runs a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload, selectinload

from offload.accounts.models import NAME_COLUMNS, User
from offload.core.db import db, utcnow
from offload.core.pagination import Page, newest_first
from offload.gigs.models import ClientDetails, Gig
from offload.gigs.queries import client_details_for

from .models import Project, ProjectEvent, ProjectState
from .policies import can_view_project, is_stalling

STALLING_SHOWN = 20


@dataclass
class ProjectPage:
    project: Project  # with gig, poster and performer loaded
    events: Page  # newest first, actors loaded
    client_details: ClientDetails | None  # referral projects, for those allowed
    is_stalling: bool


def project_page(project_id: int, viewer: User, cursor: str | None = None
                 ) -> ProjectPage | None:
    """The project page in four queries (five with client details); None when there
    is no such project or the viewer is neither party nor an admin."""
    project = db.session.scalar(
        select(Project).where(Project.id == project_id)
        .options(joinedload(Project.gig, innerjoin=True),
                 joinedload(Project.poster, innerjoin=True),
                 joinedload(Project.performer, innerjoin=True)))
    if project is None or not can_view_project(project, viewer):
        return None
    events = newest_first(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id)
        .options(joinedload(ProjectEvent.actor).load_only(*NAME_COLUMNS),
                 selectinload(ProjectEvent.files)),
        ProjectEvent, cursor)
    return ProjectPage(project=project, events=events,
                       client_details=client_details_for(project.gig, viewer),
                       is_stalling=is_stalling(project, utcnow()))


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
