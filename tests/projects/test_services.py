"""The project record, its timeline and the stalling job, on the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.notifications.models import Notification
from offload.projects.models import EventKind, Project, ProjectEvent, ProjectState
from offload.projects.services import flag_stalling_projects, post_project_event
from tests.support.factories import fresh


def events_of(project) -> list[tuple[str, int | None, str]]:
    db.session.rollback()
    return [(e.kind, e.actor_id, e.note) for e in db.session.scalars(
        select(ProjectEvent).where(ProjectEvent.project_id == project.id)
        .order_by(ProjectEvent.created_at, ProjectEvent.id))]


def titles(member, kind: str) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(Notification.title).where(
        Notification.user_id == member.id, Notification.kind == kind)))


def test_accepting_an_award_starts_the_project_with_the_agreed_terms_and_two_events(
        start_project, referrer, performer):
    project = start_project()
    assert (project.poster_id, project.performer_id, project.state) == (
        referrer.id, performer.id, ProjectState.ACTIVE)
    assert project.price_minor == 400_00 and project.days_to_deliver == 10
    assert project.due_on == utcnow().date() + timedelta(days=10)
    assert events_of(project) == [(EventKind.AWARDED, referrer.id, ""),
                                  (EventKind.ACCEPTED, performer.id, "")]


def test_either_party_posts_an_event_with_a_note_and_the_other_is_told(
        start_project, referrer, performer):
    project = start_project()
    post_project_event(project, actor=performer, kind="work_started", note="Began today.")
    post_project_event(fresh(project), actor=referrer, kind="client_contacted",
                       note="Client is happy.")
    assert events_of(project)[-2:] == [
        (EventKind.WORK_STARTED, performer.id, "Began today."),
        (EventKind.CLIENT_CONTACTED, referrer.id, "Client is happy.")]
    assert titles(referrer, "project_event") == ["Pete Performer posted “work started” on a "
                                                 "project"]
    assert len(titles(performer, "project_event")) == 1


@pytest.mark.parametrize(("kind", "note", "field"), [
    ("awarded", "Sneaky", "kind"), ("nonsense", "Hi", "kind"), ("update", "   ", "note"),
    ("update", "x" * 4001, "note")])
def test_bad_events_are_refused_and_change_nothing(start_project, performer, kind, note, field):
    project = start_project()
    before = events_of(project)
    with pytest.raises(InvalidField) as refused:
        post_project_event(project, actor=performer, kind=kind, note=note)
    assert refused.value.field == field
    assert events_of(project) == before


def test_only_the_parties_post_and_only_while_the_project_runs(start_project, make_member,
                                                                performer):
    project = start_project()
    with pytest.raises(NotAllowed):
        post_project_event(project, actor=make_member("nosy"), kind="update", note="Hi")
    with pytest.raises(NotAllowed):
        post_project_event(project, actor=make_member("boss", admin=True), kind="update",
                           note="Admins read; they don't post as a party")
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(state=ProjectState.COMPLETED))
    db.session.commit()
    with pytest.raises(Conflict, match="ended"):
        post_project_event(fresh(project), actor=performer, kind="update", note="Late")


def _age(project, days: int) -> None:
    db.session.execute(update(Project).where(Project.id == project.id).values(
        last_event_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_a_quiet_project_is_flagged_to_the_referrer_once_per_stall(start_project, referrer,
                                                                  performer):
    project = start_project()
    assert flag_stalling_projects() == 0  # just started
    _age(project, 8)
    assert flag_stalling_projects() == 1
    assert flag_stalling_projects() == 0  # the same stall: told once
    assert titles(referrer, "stalling_project") == [
        "A project has had no news for 7 days: check in with your client and the performer"]
    assert titles(performer, "stalling_project") == []
    post_project_event(fresh(project), actor=performer, kind="update", note="Still going")
    assert flag_stalling_projects() == 0  # news: no longer stalling
    assert flag_stalling_projects(now=utcnow() + timedelta(days=8)) == 1  # a new stall
    assert len(titles(referrer, "stalling_project")) == 2


def test_two_stalling_jobs_at_once_tell_the_referrer_once(start_project, referrer, app):
    import threading

    project = start_project()
    _age(project, 9)
    barrier, results = threading.Barrier(2), []

    def run():
        with app.app_context():
            barrier.wait()
            results.append(flag_stalling_projects())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == [0, 1]
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "stalling_project")) == 1
