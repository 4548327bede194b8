"""Who may review, and until when."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from offload.accounts.models import User
from offload.projects.models import Project, ProjectState


def review_closes_at(project: Project) -> datetime | None:
    """When the project's review window closes (None until it is completed)."""
    if project.state != ProjectState.COMPLETED:
        return None
    return project.state_changed_at + timedelta(days=current_app.config["REVIEW_WINDOW_DAYS"])


def why_cannot_review(project: Project, actor: User, now: datetime) -> str | None:
    if actor.id not in (project.poster_id, project.performer_id):
        return "Only the two sides of a project review each other."
    closes = review_closes_at(project)
    if closes is None:
        return "Reviews open when the project is completed."
    if now >= closes:
        return "The review window for this project has closed."
    return None
