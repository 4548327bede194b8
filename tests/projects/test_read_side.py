"""The project page's long lists: the timeline and the conversation come from read
models (a fixed number of statements however long they are), and each event's and
message's HTML is cached by id without ever showing something stale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select, update

from offload.accounts.models import User
from offload.conversations.models import OfferMessage, OfferMessageAttachment
from offload.core.db import db, utcnow
from offload.core.money import format_money
from offload.milestones import disputes
from offload.milestones import services as ms
from offload.milestones.models import Milestone
from offload.projects.models import (
    EVENT_NOTE_MAX,
    Project,
    ProjectEvent,
    ProjectEventFile,
)
from tests.support.factories import fresh
from tests.support.milestones import add, key

# the member with the top bar's counts, the project with its gig, offer and parties, the
# timeline and its files, the conversation and its files, the read mark, the milestones
# and the pending price proposal (a task project without milestones reads no files or
# disputes)
PROJECT_PAGE_STATEMENTS = 9


def _add(project: Project, events: int, messages: int, *, start: int = 0) -> None:
    """``events`` timeline events and ``messages`` messages written straight to the
    tables, a minute apart, every third with a file; actors and senders alternate."""
    base = utcnow() - timedelta(days=30)
    parties = (project.poster_id, project.performer_id)
    for n in range(start, start + events):
        at = base + timedelta(minutes=n)
        event_id = db.session.execute(insert(ProjectEvent).values(
            project_id=project.id, kind="update", actor_id=parties[n % 2] if n % 5 else None,
            note=f"Event note {n}", created_at=at).returning(ProjectEvent.id)).scalar_one()
        if n % 3 == 0:
            db.session.execute(insert(ProjectEventFile).values(
                event_id=event_id, stored_name=f"event-{project.id}-{n}",
                original_name=f"event-{n}.pdf", content_type="application/pdf",
                size_bytes=1000 + n, created_at=at))
    for n in range(start, start + messages):
        at = base + timedelta(minutes=n, seconds=30)
        message_id = db.session.execute(insert(OfferMessage).values(
            offer_id=project.offer_id, sender_id=parties[n % 2], body=f"Message body {n}",
            created_at=at).returning(OfferMessage.id)).scalar_one()
        if n % 3 == 0:
            db.session.execute(insert(OfferMessageAttachment).values(
                message_id=message_id, stored_name=f"message-{project.id}-{n}",
                original_name=f"message-{n}.pdf", content_type="application/pdf",
                size_bytes=2000 + n, created_at=at))
    db.session.commit()


@pytest.fixture
def task_project(start_project, performer, fund) -> Project:
    fund(performer, 1_00)  # the offer's fee
    return start_project(kind="task")


@pytest.fixture
def viewed(task_project, login):
    """``viewed(member, events, messages)``: the task project with that many events and
    messages, ``member`` logged in; the page's URL."""

    def view(member: User, events: int, messages: int) -> str:
        _add(task_project, events, messages)
        login(member)
        return f"/projects/{task_project.id}"

    return view


def _statements(client, count_queries, url: str) -> tuple[int, str]:
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    # (SQLite's driver is sent a BEGIN of its own; PostgreSQL's begins by itself)
    return (len([s for s in statements if s.strip().upper() != "BEGIN"]),
            response.get_data(as_text=True))


@pytest.mark.parametrize("viewer", ["poster", "performer"])
def test_the_project_page_runs_the_same_statements_for_10_and_500_events(
        client, login, task_project, referrer, performer, count_queries, viewer):
    project = task_project
    _add(project, 10, 10)
    login({"poster": referrer, "performer": performer}[viewer])
    url = f"/projects/{project.id}"
    few, html = _statements(client, count_queries, url)
    assert few == PROJECT_PAGE_STATEMENTS
    assert "Event note 9" in html and "Message body 9" in html
    _add(project, 490, 490, start=10)
    many, html = _statements(client, count_queries, url)
    assert many == PROJECT_PAGE_STATEMENTS
    assert "Event note 499" in html and "Message body 499" in html
    assert 'href="/projects/files/' in html and 'href="/conversations/files/' in html
    older = re.search(r'href="(/projects/\d+\?before=[^"#]+)#timeline"', html).group(1)
    deeper, html = _statements(client, count_queries, older.replace("&amp;", "&"))
    assert deeper == PROJECT_PAGE_STATEMENTS
    # the first page held the two automatic events (award, acceptance) and 499 to 482
    assert "Event note 481" in html and "Event note 482" not in html


def test_a_new_name_shows_on_the_next_request_in_cached_events_and_messages(
        client, viewed, referrer, performer):
    url = viewed(referrer, 4, 4)
    name = performer.name
    first = client.get(url).get_data(as_text=True)
    assert f"by {name}," in first and f"<strong>{name}</strong>" in first
    db.session.execute(update(User).where(User.id == performer.id)
                       .values(display_name="Renamed Performer"))
    db.session.commit()
    again = client.get(url).get_data(as_text=True)
    assert f"by {name}," not in again and f"<strong>{name}</strong>" not in again
    assert "by Renamed Performer," in again and "<strong>Renamed Performer</strong>" in again
    # the cached bodies are the same either way
    assert again.count("Message body") == first.count("Message body") == 4


def test_a_reused_id_never_shows_the_deleted_rows_cached_html(
        client, viewed, task_project, referrer, performer):
    project = task_project
    url = viewed(performer, 3, 3)
    assert "Message body 2" in client.get(url).get_data(as_text=True)
    # the newest rows go; SQLite hands their ids out again to the next rows
    event_id = db.session.scalar(select(func.max(ProjectEvent.id)))
    message_id = db.session.scalar(select(func.max(OfferMessage.id)))
    db.session.execute(delete(OfferMessageAttachment)
                       .where(OfferMessageAttachment.message_id == message_id))
    db.session.execute(delete(OfferMessage).where(OfferMessage.id == message_id))
    db.session.execute(delete(ProjectEventFile).where(ProjectEventFile.event_id == event_id))
    db.session.execute(delete(ProjectEvent).where(ProjectEvent.id == event_id))
    db.session.commit()
    later = utcnow()
    new_event_id = db.session.execute(insert(ProjectEvent).values(
        project_id=project.id, kind="update", actor_id=referrer.id, note="A different note",
        created_at=later).returning(ProjectEvent.id)).scalar_one()
    new_message_id = db.session.execute(insert(OfferMessage).values(
        offer_id=project.offer_id, sender_id=referrer.id, body="A different body",
        created_at=later).returning(OfferMessage.id)).scalar_one()
    db.session.commit()
    if db.engine.dialect.name == "sqlite":  # PostgreSQL's sequences never go back
        assert (new_event_id, new_message_id) == (event_id, message_id)
    html = client.get(url).get_data(as_text=True)
    assert "A different note" in html and "A different body" in html
    assert "Message body 2" not in html and "Event note 2" not in html


def test_only_the_reader_sees_a_cached_message_as_new(
        client, login, viewed, referrer, performer):
    url = viewed(referrer, 0, 2)  # message 0 from the poster, message 1 from the performer
    poster_view = client.get(url).get_data(as_text=True)
    login(performer)
    performer_view = client.get(url).get_data(as_text=True)
    new = re.compile(r'<li id="message-(\d+)" class="message unread"')
    ids = [int(i) for i in re.findall(r'<li id="message-(\d+)"', poster_view)]
    assert [int(i) for i in new.findall(poster_view)] == [ids[1]]
    assert [int(i) for i in new.findall(performer_view)] == [ids[0]]
    assert performer_view.count("Message body") == poster_view.count("Message body") == 2



def test_a_refused_form_shows_what_was_typed_and_the_next_page_a_fresh_one(
        client, viewed, performer):
    url = viewed(performer, 0, 0)
    blank = client.get(url).get_data(as_text=True)  # the fresh fields, now cached
    assert "Write a message." not in blank
    note = "x" * (EVENT_NOTE_MAX + 1)  # over the limit: refused, with what was typed
    refused = client.post(f"{url}/events", data={"event-kind": "update", "event-note": note})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert note in html and 'aria-invalid="true"' in html
    refused = client.post(f"{url}/messages", data={"message-body": ""})
    assert refused.status_code == 422 and "Write a message." in refused.get_data(as_text=True)
    again = client.get(url).get_data(as_text=True)
    assert note not in again and "Write a message." not in again
    assert 'aria-invalid="true"' not in again
    assert again.count('name="event-note"') == again.count('name="message-body"') == 1


def test_the_price_forms_cached_fields_follow_the_price(
        app, client, viewed, task_project, referrer):
    url = viewed(referrer, 0, 0)
    price = task_project.price_minor

    def hint(minor: int) -> str:
        return f" and {format_money(minor, app.config['CURRENCY'])}."

    assert hint(price) in client.get(url).get_data(as_text=True)
    db.session.execute(update(Project).where(Project.id == task_project.id)
                       .values(price_minor=price - 100))
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert hint(price - 100) in html and hint(price) not in html


def test_the_plan_runs_the_same_statements_for_one_milestone_and_many(
        client, login, task_project, referrer, count_queries, fund):
    fund(referrer, 500_00)
    _add(task_project, 3, 3)
    first = add(task_project, referrer, 50_00)
    ms.fund_milestone(first, actor=referrer, idempotency_key=key())
    disputes.open_dispute(fresh(Milestone, first.id), actor=referrer, statement="Not yet")
    login(referrer)
    url = f"/projects/{task_project.id}"
    # a plan with milestones also reads their delivered files; their disputes come with
    # them
    one, html = _statements(client, count_queries, url)
    assert one == PROJECT_PAGE_STATEMENTS + 1 and "Not yet" in html
    for n in range(3):
        add(task_project, referrer, 10_00, title=f"Step {n}")
    many, html = _statements(client, count_queries, url)
    assert many == one and "Step 2" in html and "Not yet" in html
