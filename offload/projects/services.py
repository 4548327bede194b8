"""Starting a project, its timeline, and the stalling job. Each public function is one
transaction (``atomic()``; called inside another, it joins it)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from offload.accounts.models import User
from offload.core.db import atomic, db, on_commit, utcnow
from offload.core.errors import InvalidField, refuse
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.notifications.services import notify

from .lifecycle import record_event
from .models import (
    EVENT_NOTE_MAX,
    POSTED_KINDS,
    EventKind,
    Project,
    ProjectEvent,
    ProjectState,
)
from .policies import why_cannot_post_event

log = logging.getLogger("offload.projects")


def start_project(*, gig_id: int, offer_id: int, poster_id: int, performer_id: int,
                  kind: str, price_minor: int, currency: str, days_to_deliver: int,
                  awarded_at: datetime) -> Project:
    """Record the project of an accepted award, with the terms agreed on the offer.

    Writes: the project, active, due ``days_to_deliver`` days from today (UTC); its
    first timeline events (awarded, by the poster at ``awarded_at``; accepted, by the
    performer now). The unique gig and offer columns refuse a second project for either.
    """
    with atomic():
        now = utcnow()
        project = Project(gig_id=gig_id, offer_id=offer_id, poster_id=poster_id,
                          performer_id=performer_id, kind=kind, state=ProjectState.ACTIVE,
                          price_minor=price_minor, currency=currency,
                          days_to_deliver=days_to_deliver,
                          due_on=now.date() + timedelta(days=days_to_deliver),
                          created_at=now, state_changed_at=now, last_event_at=now)
        db.session.add(project)
        db.session.flush()
        db.session.add_all([
            ProjectEvent(project_id=project.id, kind=EventKind.AWARDED, actor_id=poster_id,
                         created_at=min(awarded_at, now)),
            ProjectEvent(project_id=project.id, kind=EventKind.ACCEPTED,
                         actor_id=performer_id, created_at=now)])
        db.session.flush()
    return project


def post_project_event(project: Project, *, actor: User, kind: str, note: str
                       ) -> ProjectEvent:
    """Post an event with a note on the project's timeline (a party, while it runs).

    Writes: the event; the project's ``last_event_at`` (a stall ends).
    Notifies: the other party (project_event).
    """
    with atomic():
        refuse(why_cannot_post_event(project, actor), actor_may=project.is_party(actor))
        try:
            kind = EventKind(kind)
        except ValueError:
            kind = None
        if kind not in POSTED_KINDS:
            raise InvalidField("kind", "Choose what kind of event this is.")
        note = clean_text("note", note, EVENT_NOTE_MAX, "The note", required=True,
                          multiline=True)
        event = record_event(project, kind, actor_id=actor.id, note=note)
        notify(db.session.get(User, project.other_party_id(actor)), "project_event",
               title=f"{actor.name} posted “{kind.label.lower()}” on a project",
               link=site_path("projects.show", project_id=project.id,
                             _anchor=f"event-{event.id}"))
    return event


def flag_stalling_projects(*, now: datetime | None = None) -> int:
    """The job: tell the referrer (the gig's poster) of each active project with no
    timeline event for PROJECT_STALL_DAYS, once per stall; how many were told.

    Writes: ``stall_notified_at`` with a guarded UPDATE (a stall already told, or told
    by a runner at the same moment, is skipped). Notifies: the poster (stalling_project).
    """
    now = now or utcnow()
    quiet_since = now - timedelta(days=current_app.config["PROJECT_STALL_DAYS"])
    with atomic():
        told = db.session.execute(
            update(Project).where(
                Project.state == ProjectState.ACTIVE, Project.last_event_at < quiet_since,
                or_(Project.stall_notified_at.is_(None),
                    Project.stall_notified_at < Project.last_event_at))
            .values(stall_notified_at=now)
            .returning(Project.id, Project.poster_id)
            .execution_options(synchronize_session=False)).all()
        posters = {u.id: u for u in db.session.scalars(
            select(User).where(User.id.in_({r.poster_id for r in told})))}
        days = current_app.config["PROJECT_STALL_DAYS"]
        for r in told:
            notify(posters[r.poster_id], "stalling_project",
                   title=f"A project has had no news for {days} days: check in with "
                         "your client and the performer",
                   link=site_path("projects.show", project_id=r.id))
        if told:
            on_commit(lambda: log.info("stalling projects flagged",
                                       extra={"count": len(told)}))
    return len(told)
