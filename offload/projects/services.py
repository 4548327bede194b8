"""Starting a project. Each public function is one transaction (``atomic()``; called
inside another, it joins it)."""

from __future__ import annotations

from datetime import timedelta

from offload.core.db import atomic, db, utcnow

from .models import Project, ProjectState


def start_project(*, gig_id: int, offer_id: int, poster_id: int, performer_id: int,
                  kind: str, price_minor: int, currency: str, days_to_deliver: int
                  ) -> Project:
    """Record the project of an accepted award, with the terms agreed on the offer.

    Writes: the project, active, due ``days_to_deliver`` days from today (UTC). The
    unique gig and offer columns refuse a second project for either.
    """
    with atomic():
        now = utcnow()
        project = Project(gig_id=gig_id, offer_id=offer_id, poster_id=poster_id,
                          performer_id=performer_id, kind=kind, state=ProjectState.ACTIVE,
                          price_minor=price_minor, currency=currency,
                          days_to_deliver=days_to_deliver,
                          due_on=now.date() + timedelta(days=days_to_deliver),
                          created_at=now, state_changed_at=now)
        db.session.add(project)
        db.session.flush()
    return project
