"""The one place a project's state changes, and the timeline's automatic events; shared
by the project services and the settlement services (commissions, later escrow). They
join the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.transitions import move_row

from .models import PROJECT_TRANSITIONS, EventKind, Project, ProjectEvent, ProjectState


def lock_project(project: Project) -> None:
    """Wait for a concurrent change of this project, then reload it (a PostgreSQL row
    lock; SQLite's BEGIN IMMEDIATE already serialises writers)."""
    db.session.execute(select(Project.id).where(Project.id == project.id).with_for_update())
    db.session.refresh(project)


def move_project(project: Project, to: ProjectState) -> None:
    """Move ``project`` along ``PROJECT_TRANSITIONS`` with an UPDATE guarded by its state;
    a completed project counts on its performer's record (``projects_completed``).

    Refuses (Conflict) a move the table lacks or a project changed meanwhile.
    """
    move_row(project, to, PROJECT_TRANSITIONS,
             not_allowed=lambda frm: f"This project is {frm.value}; it can't become {to.value}.",
             refused="This project changed while you were working on it. Reload it.",
             state_changed_at=utcnow())
    if to == ProjectState.COMPLETED:
        db.session.execute(
            update(User).where(User.id == project.performer_id)
            .values(projects_completed=User.projects_completed + 1)
            .execution_options(synchronize_session=False))


def record_event(project: Project, kind: EventKind, *, actor_id: int | None,
                 note: str = "") -> ProjectEvent:
    """Add an event to the project's timeline; the project's news is now."""
    now = utcnow()
    event = ProjectEvent(project_id=project.id, kind=kind, actor_id=actor_id, note=note,
                         created_at=now)
    db.session.add(event)
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(last_event_at=now).execution_options(synchronize_session=False))
    set_committed_value(project, "last_event_at", now)
    db.session.flush()
    return event
