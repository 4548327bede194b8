"""Who may see and act on a project: its two parties and admins, nobody else."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from offload.accounts.models import User

from .models import Project, ProjectState


def can_view_project(project: Project, viewer: User | None) -> bool:
    """The poster (referrer or customer), the performer and admins; everyone else 404."""
    return viewer is not None and (project.is_party(viewer) or viewer.is_admin)


def why_cannot_post_event(project: Project, actor: User) -> str | None:
    if not project.is_party(actor):
        return "Only the two sides of a project can post on its timeline."
    if project.state != ProjectState.ACTIVE:
        return "This project has ended: its timeline is closed."
    return None


def is_stalling(project: Project, now: datetime) -> bool:
    """Active with no timeline event for PROJECT_STALL_DAYS."""
    days = current_app.config["PROJECT_STALL_DAYS"]
    return (project.state == ProjectState.ACTIVE
            and project.last_event_at < now - timedelta(days=days))
