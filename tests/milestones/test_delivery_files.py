"""Files handed over with a milestone delivery: kept on the "delivered" timeline event,
shown on the milestone, the timeline and the admin's dispute page, downloadable by the
two sides and admins only; a refused delivery keeps nothing, not even a file on disk."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.datastructures import FileStorage

from offload.core.db import db, utcnow
from offload.core.errors import InvalidField
from offload.milestones import disputes
from offload.milestones import services as ms
from offload.milestones.models import Milestone, MilestoneState
from offload.notifications.models import Notification
from offload.projects.models import EVENT_FILES_MAX, EventKind, ProjectEvent, ProjectEventFile
from tests.support.factories import fresh

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082")


def upload(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def stored_files(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def event_files() -> list[ProjectEventFile]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEventFile).order_by(ProjectEventFile.id)))


def delivered_events(project) -> list[ProjectEvent]:
    db.session.rollback()
    return list(db.session.scalars(select(ProjectEvent).where(
        ProjectEvent.project_id == project.id, ProjectEvent.kind == EventKind.DELIVERED)))


def milestone_notes(member) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == member.id, Notification.kind == "milestone"))


@pytest.fixture
def task(start_project, referrer, performer, fund):
    """A running task project: the referrer is the customer, with $500 in the wallet."""
    fund(performer, 1_00)  # the prepaid click of the offer
    fund(referrer, 500_00)
    return start_project(kind="task")


@pytest.fixture
def funded(task, referrer):
    m = ms.add_milestone(task, actor=referrer, title="Exports", amount_minor=200_00,
                         due_on=utcnow().date() + timedelta(days=5))
    ms.fund_milestone(m, actor=referrer, idempotency_key=f"fund-{m.id}")
    return fresh(Milestone, m.id)


@pytest.fixture
def admin(make_member):
    return make_member("judge", admin=True)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def assert_nothing_delivered(app, task, milestone, files_before: set[str]) -> None:
    assert fresh(Milestone, milestone.id).state == MilestoneState.FUNDED
    assert not fresh(Milestone, milestone.id).delivery_note
    assert delivered_events(task) == []
    assert event_files() == []
    assert stored_files(app) == files_before


# --- the service ---------------------------------------------------------------------------

def test_a_delivery_keeps_its_files_on_the_delivered_event(app, task, funded, performer):
    before = stored_files(app)
    ms.deliver_milestone(funded, actor=performer, note="On staging",
                         files=[upload(PDF, "report.pdf"), upload(PNG, "screen.png")])
    (event,) = delivered_events(task)
    files = event_files()
    assert [(f.event_id, f.milestone_id, f.original_name, f.content_type, f.size_bytes)
            for f in files] == [(event.id, funded.id, "report.pdf", "application/pdf", len(PDF)),
                                (event.id, funded.id, "screen.png", "image/png", len(PNG))]
    assert stored_files(app) - before == {f.stored_name for f in files}
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert [(folder / f.stored_name).read_bytes() for f in files] == [PDF, PNG]
    assert fresh(Milestone, funded.id).state == MilestoneState.DELIVERED


def test_five_files_are_accepted_and_empty_file_inputs_are_ignored(app, task, funded,
                                                                   performer):
    empty = [FileStorage(stream=io.BytesIO(b""), filename="") for _ in range(3)]
    ms.deliver_milestone(funded, actor=performer, note="All of it",
                         files=[upload(PDF, f"part{i}.pdf") for i in range(EVENT_FILES_MAX)]
                         + empty + [None])
    assert [f.original_name for f in event_files()] == [f"part{i}.pdf" for i in range(5)]


def test_six_files_are_refused_and_nothing_is_kept(app, task, funded, performer, referrer):
    before = stored_files(app)
    notes = milestone_notes(referrer)
    with pytest.raises(InvalidField, match="at most 5 files") as refused:
        ms.deliver_milestone(funded, actor=performer, note="Too much",
                             files=[upload(PDF, f"part{i}.pdf") for i in range(6)])
    assert refused.value.field == "files"
    assert_nothing_delivered(app, task, funded, before)
    assert milestone_notes(referrer) == notes


@pytest.mark.parametrize(("bad", "message"), [
    ((b"just some text", "notes.pdf"), "not a PDF"),
    ((PDF, "tool.exe"), "Only these file types"),
    ((b"", "empty.png"), "empty"),
    ((PNG, "photo.pdf"), "not a PDF"),
])
def test_one_bad_file_among_good_ones_keeps_nothing(app, task, funded, performer, referrer,
                                                    bad, message):
    before = stored_files(app)
    notes = milestone_notes(referrer)
    with pytest.raises(InvalidField, match=message) as refused:
        # the good files come first: they are written before the bad one is seen
        ms.deliver_milestone(funded, actor=performer, note="Here you go",
                             files=[upload(PDF, "report.pdf"), upload(PNG, "screen.png"),
                                    upload(*bad), upload(PDF, "after.pdf")])
    assert refused.value.field == "files"
    assert_nothing_delivered(app, task, funded, before)
    assert milestone_notes(referrer) == notes


def test_a_file_over_the_size_limit_keeps_nothing(app, task, funded, performer, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", len(PDF))
    before = stored_files(app)
    with pytest.raises(InvalidField, match="larger than the limit"):
        ms.deliver_milestone(funded, actor=performer, note="Big",
                             files=[upload(PDF, "small.pdf"), upload(PDF + b"x" * 10, "big.pdf")])
    assert_nothing_delivered(app, task, funded, before)


class _Retryable(Exception):
    sqlstate = "40001"  # a serialization failure: transactional() runs the call again


def test_a_re_run_delivery_stores_each_file_once_and_whole(app, task, funded, performer,
                                                           monkeypatch):
    from offload.milestones import services

    real_tell, calls = services._tell, []

    def tell_failing_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("UPDATE ...", {}, _Retryable("could not serialize"))
        return real_tell(*args, **kwargs)

    monkeypatch.setattr(services, "_tell", tell_failing_once)
    before = stored_files(app)
    ms.deliver_milestone(funded, actor=performer, note="Second try",
                         files=[upload(PDF, "report.pdf"), upload(PNG, "screen.png")])
    assert len(calls) == 2
    files = event_files()
    assert [(f.original_name, f.size_bytes) for f in files] == [("report.pdf", len(PDF)),
                                                               ("screen.png", len(PNG))]
    # the first attempt's files went with its rollback; the second read the uploads again
    assert stored_files(app) - before == {f.stored_name for f in files}
    folder = Path(app.config["UPLOAD_FOLDER"])
    assert [(folder / f.stored_name).read_bytes() for f in files] == [PDF, PNG]
    assert len(delivered_events(task)) == 1


# --- the pages -------------------------------------------------------------------------------

def deliver_form(milestone_id: int, note: str, files) -> dict:
    return {f"deliver-{milestone_id}-note": note, f"deliver-{milestone_id}-files": files}


def section(text: str, element_id: str, end: str) -> str:
    start = text.index(f'id="{element_id}"')
    return text[start:text.index(end, start)]


def test_delivered_files_on_the_page_and_downloads_for_the_parties_only(
        app, client, login, task, funded, referrer, performer, admin, make_member):
    before = stored_files(app)
    login(performer)
    response = client.post(f"/milestones/{funded.id}/deliver", data=deliver_form(
        funded.id, "On staging", [(io.BytesIO(PDF), "report.pdf"),
                                  (io.BytesIO(PNG), "screen.png")]),
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{task.id}#milestones"
    files = event_files()
    assert [f.original_name for f in files] == ["report.pdf", "screen.png"]
    assert len(stored_files(app) - before) == 2
    (event,) = delivered_events(task)
    for viewer in (referrer, performer):
        login(viewer)
        text = page(client, f"/projects/{task.id}")
        card = section(text, f"milestone-{funded.id}", "</li>")
        timeline = section(text, f"event-{event.id}", "</li>")
        for f in files:
            link = f'href="/projects/files/{f.id}" download>{f.original_name}</a>'
            assert link in card and link in timeline
    for viewer, expected in ((referrer, PDF), (performer, PDF), (admin, PDF)):
        login(viewer)
        download = client.get(f"/projects/files/{files[0].id}")
        assert download.status_code == 200 and download.data == expected
        assert download.mimetype == "application/pdf"
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        disposition = download.headers["Content-Disposition"]
        assert disposition.startswith("attachment") and "report.pdf" in disposition
    assert client.get(f"/projects/files/{files[1].id}").data == PNG
    assert client.get("/projects/files/999999").status_code == 404
    login(make_member("nosy"))
    for f in files:
        assert client.get(f"/projects/files/{f.id}").status_code == 404
    client.post("/logout")
    for f in files:
        assert client.get(f"/projects/files/{f.id}").status_code == 404


def test_six_files_keep_the_note_and_say_what_is_wrong(app, client, login, task, funded,
                                                        performer):
    before = stored_files(app)
    login(performer)
    response = client.post(f"/milestones/{funded.id}/deliver", data=deliver_form(
        funded.id, "Keep this note", [(io.BytesIO(PDF), f"part{i}.pdf") for i in range(6)]),
        content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Attach at most 5 files to a delivery." in text
    assert re.search(rf'<textarea[^>]*name="deliver-{funded.id}-note"[^>]*>\s*Keep this note',
                     text)
    assert_nothing_delivered(app, task, funded, before)


def test_a_bad_file_among_good_ones_keeps_the_note_and_nothing_else(app, client, login, task,
                                                                     funded, performer):
    before = stored_files(app)
    login(performer)
    response = client.post(f"/milestones/{funded.id}/deliver", data=deliver_form(
        funded.id, "Keep this note", [(io.BytesIO(PDF), "report.pdf"),
                                      (io.BytesIO(b"MZ\x90\x00"), "report2.pdf"),
                                      (io.BytesIO(PNG), "screen.png")]),
        content_type="multipart/form-data")
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "content is not a PDF file." in text
    assert re.search(rf'<textarea[^>]*name="deliver-{funded.id}-note"[^>]*>\s*Keep this note',
                     text)
    assert f'action="/milestones/{funded.id}/deliver"' in text  # still to deliver
    assert_nothing_delivered(app, task, funded, before)


def test_every_delivery_lists_its_files_and_the_page_runs_the_same_queries(
        client, login, task, funded, referrer, performer, count_queries):
    ms.deliver_milestone(funded, actor=performer, note="v1", files=[upload(PDF, "v1.pdf")])
    login(referrer)
    with count_queries() as few:
        page(client, f"/projects/{task.id}")
    for n in (2, 3):
        ms.ask_for_revision(fresh(Milestone, funded.id), actor=referrer, note="Again")
        ms.deliver_milestone(fresh(Milestone, funded.id), actor=performer, note=f"v{n}",
                             files=[upload(PDF, f"v{n}-{i}.pdf") for i in range(5)])
    with count_queries() as many:
        text = page(client, f"/projects/{task.id}")
    assert len(many) == len(few)
    card = section(text, f"milestone-{funded.id}", "</li>")
    names = re.findall(r'download>([^<]+)</a>', card)
    assert names == ["v1.pdf"] + [f"v{n}-{i}.pdf" for n in (2, 3) for i in range(5)]


def test_the_admins_dispute_page_lists_the_delivered_files(client, login, task, funded,
                                                           referrer, performer, admin):
    ms.deliver_milestone(funded, actor=performer, note="Done",
                         files=[upload(PDF, "report.pdf"), upload(PNG, "screen.png")])
    dispute = disputes.open_dispute(fresh(Milestone, funded.id), actor=referrer,
                                    statement="It doesn't work")
    files = event_files()
    login(admin)
    text = page(client, f"/admin/disputes/{dispute.id}")
    timeline = text[text.index("The whole timeline"):text.index("The whole conversation")]
    for f in files:
        assert f'href="/projects/files/{f.id}" download>{f.original_name}</a>' in timeline
    assert client.get(f"/projects/files/{files[1].id}").data == PNG


def test_files_within_the_stated_limits_are_not_refused_for_the_requests_size(
        app, client, login, task, funded, performer):
    big = PDF + b"0" * (7 * 1024 * 1024)
    assert len(big) <= app.config["DOCUMENT_MAX_BYTES"]
    login(performer)
    response = client.post(f"/milestones/{funded.id}/deliver", data=deliver_form(
        funded.id, "Two big files", [(io.BytesIO(big), "a.pdf"), (io.BytesIO(big), "b.pdf")]),
        content_type="multipart/form-data")
    assert response.status_code == 302, response.status_code
    assert [f.size_bytes for f in event_files()] == [len(big), len(big)]


def _csrf_client(app, tmp_path, username: str):
    """A client of an app with CSRF on (as in production), logged in through the form."""
    from tests.support.app import make_app
    from tests.support.factories import PASSWORD

    csrf_app = make_app(tmp_path, WTF_CSRF_ENABLED=True,
                        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"login": username, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    page = client.get("/dashboard").get_data(as_text=True)  # the log-in renewed the session
    return client, re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_the_larger_delivery_limit_holds_with_csrf_on_and_only_there(
        app, tmp_path, task, funded, performer):
    # CSRFProtect parses the body before any view runs: the endpoint's limit must be set first
    client, token = _csrf_client(app, tmp_path, performer.username)
    big = PDF + b"0" * (7 * 1024 * 1024)
    form = deliver_form(funded.id, "Two big files",
                        [(io.BytesIO(big), "a.pdf"), (io.BytesIO(big), "b.pdf")])
    response = client.post(f"/milestones/{funded.id}/deliver", data={**form, "csrf_token": token},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert len(event_files()) == 2
    # elsewhere the ordinary limit (MAX_CONTENT_LENGTH) still answers 413
    response = client.post(f"/projects/{task.id}/messages", data={
        "csrf_token": token, "message-body": "Too big",
        "message-file": (io.BytesIO(PDF + b"0" * app.config["MAX_CONTENT_LENGTH"]), "c.pdf")},
        content_type="multipart/form-data")
    assert response.status_code == 413


def test_a_delivery_over_its_endpoint_limit_is_413(app, client, login, funded, performer):
    limit = app.config["MAX_CONTENT_LENGTH_BY_ENDPOINT"]["milestones.deliver"]
    login(performer)
    response = client.post(f"/milestones/{funded.id}/deliver", data=deliver_form(
        funded.id, "Too much", [(io.BytesIO(PDF + b"0" * limit), "a.pdf")]),
        content_type="multipart/form-data")
    assert response.status_code == 413
    assert event_files() == []
