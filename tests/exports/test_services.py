"""Exports: asking (and each refusal), the archive's content, the build's claim, the
mail, expiry and erasure."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, InvalidField
from offload.exports import builder, services
from offload.exports.models import DataExport, ExportState
from offload.exports.services import (
    build_due_exports,
    erase_member_exports,
    expire_exports,
    export_path,
    request_export,
)
from tests.support.exports import BOB_EMAIL, PDF, member_with_everything
from tests.support.factories import PASSWORD, count, fresh


def _ready(member) -> DataExport:
    export = request_export(actor=member, password=PASSWORD)
    assert build_due_exports() == 1
    return fresh(DataExport, export.id)


def _archive(export: DataExport) -> zipfile.ZipFile:
    return zipfile.ZipFile(export_path(export.file_name))


def _set(export_id: int, **values) -> None:
    with atomic() as session:
        session.execute(update(DataExport).where(DataExport.id == export_id).values(**values))


# --- the archive ------------------------------------------------------------------------

def test_the_archive_holds_everything_of_the_member_as_they_see_it(app):
    world = member_with_everything()
    archive = _archive(_ready(world.ada))
    names = set(archive.namelist())
    assert {"README.txt", "profile.json", "gigs.json", "offers.json", "projects.json",
            "messages.json", "reviews.json", "notifications.json", "invites.json",
            "statement.csv"} <= names

    profile = json.loads(archive.read("profile.json"))
    assert profile["account"]["username"] == "ada"
    assert profile["account"]["email"] == "ada@example.com"  # their own address
    assert profile["skills"] == ["Flask", "Python"]
    [document] = profile["documents"]
    assert document["title"] == "My CV"
    assert archive.read(document["file"]) == PDF
    assert document["file"] == f"files/documents/{world.document_id}-cv.pdf"

    [gig] = json.loads(archive.read("gigs.json"))[:1]
    assert gig["title"] == "Port a shop to Flask"
    assert gig["client"]["client_name"] == "Acme Ltd"
    [gig_file] = gig["files"]
    assert archive.read(gig_file) == PDF + b"brief"

    offers = json.loads(archive.read("offers.json"))
    assert [o["gig_title"] for o in offers["made"]] == ["Review my API"]
    assert [(o["gig_title"], o["offered_by"]) for o in offers["received"]][0] == (
        "Port a shop to Flask", "bob")

    [conversation] = [c for c in json.loads(archive.read("messages.json"))
                      if c["gig_title"] == "Port a shop to Flask"]
    assert conversation["with_username"] == "bob"
    mine, theirs = conversation["messages"]
    assert (mine["sender"], mine["body"]) == ("ada", "Hello Bob, see my notes.")
    assert (theirs["sender"], theirs["body"]) == ("bob", "Hi Ada, here is my plan.")
    [my_file] = mine["files"]  # their own upload, under a safe name
    assert my_file.startswith("files/message-files/") and my_file.endswith("-my_notes_v2.pdf")
    assert archive.read(my_file) == PDF + b"notes"
    assert theirs["files"] == ["plan.pdf"]  # the other side's: named, not copied
    assert not any(name.endswith("plan.pdf") for name in names)

    [project] = json.loads(archive.read("projects.json"))
    assert (project["gig_title"], project["role"], project["other_party"]) == (
        "Build a dashboard", "poster", "bob")
    assert {"awarded", "accepted"} <= {event["kind"] for event in project["timeline"]}
    assert project["milestones"] == []

    invites = {i["vouch_note"]: i for i in json.loads(archive.read("invites.json"))}
    assert invites["Carol writes good Go"]["email"] == "carol@example.com"
    assert invites["Bob builds"]["email"] is None
    assert invites["Bob builds"]["joined_as"] == "bob"

    statement = list(csv.reader(io.StringIO(archive.read("statement.csv").decode())))
    assert statement[0][:5] == ["date", "what", "for", "memo", "amount"]
    assert [row[4] for row in statement[1:]] == ["25.00"]
    assert json.loads(archive.read("notifications.json"))  # the offer, the message...
    assert "statement.csv" in archive.read("README.txt").decode()


def test_no_other_members_address_is_anywhere_in_it(app):
    world = member_with_everything()
    archive = _archive(_ready(world.ada))
    for name in archive.namelist():
        assert BOB_EMAIL.encode() not in archive.read(name), name
    # while Bob's own archive has it
    assert BOB_EMAIL in _archive(_ready(world.bob)).read("profile.json").decode()


def test_a_review_of_them_is_in_it_only_once_published(completed, referrer, performer):
    from offload.reviews.services import submit_review

    project = completed()
    submit_review(project, actor=referrer, stars=4, body="Good work.",
                  skill_stars={s.id: 4 for s in project_skills(project)})
    reviews = json.loads(_archive(_ready(performer)).read("reviews.json"))
    assert reviews == {"given": [], "received": []}  # hidden from them until published
    mine = json.loads(_archive(_ready(referrer)).read("reviews.json"))
    assert [r["body"] for r in mine["given"]] == ["Good work."]


def project_skills(project):
    from offload.gigs.models import GigSkill
    from offload.profiles.models import Skill

    return db.session.scalars(select(Skill).join(GigSkill, GigSkill.skill_id == Skill.id)
                              .where(GigSkill.gig_id == project.gig_id)).all()


# --- asking -----------------------------------------------------------------------------

def test_a_wrong_password_is_refused(make_member):
    ada = make_member("ada")
    with pytest.raises(InvalidField, match="Your password is not correct."):
        request_export(actor=ada, password="not my password")
    assert count(DataExport) == 0


def test_one_running_at_a_time_and_one_an_hour(make_member):
    ada = make_member("ada")
    request_export(actor=ada, password=PASSWORD)
    with pytest.raises(Conflict, match="being prepared already"):
        request_export(actor=ada, password=PASSWORD)
    build_due_exports()
    with pytest.raises(Conflict, match=r"one export an hour\. You can ask for the next one "
                                       r"at \d\d:\d\d UTC"):
        request_export(actor=ada, password=PASSWORD)
    assert count(DataExport) == 1
    _set(_only(ada).id, requested_at=utcnow() - timedelta(minutes=61))
    request_export(actor=ada, password=PASSWORD)
    assert count(DataExport) == 2


def _only(member) -> DataExport:
    return db.session.scalars(select(DataExport).where(DataExport.user_id == member.id)).one()


def test_a_failed_export_does_not_count_against_the_hour(make_member, monkeypatch, outbox):
    ada = make_member("ada")
    monkeypatch.setattr(builder, "write_archive", _broken)
    export = request_export(actor=ada, password=PASSWORD)
    assert build_due_exports() == 0
    assert fresh(DataExport, export.id).state == ExportState.FAILED
    assert outbox.all() == []
    request_export(actor=ada, password=PASSWORD)  # asking again is the remedy


def _broken(member_id, path):
    raise OSError("disk full")


# --- building ---------------------------------------------------------------------------

def test_the_job_run_twice_builds_once_and_mails_once(make_member, outbox):
    ada = make_member("ada")
    export = request_export(actor=ada, password=PASSWORD)
    assert build_due_exports() == 1
    assert build_due_exports() == 0
    export = fresh(DataExport, export.id)
    assert export.state == ExportState.READY
    assert export.expires_at - export.ready_at == timedelta(hours=72)
    assert export_path(export.file_name).is_file()
    [mail] = outbox.all()
    assert mail.to_address == "ada@example.com"
    assert mail.subject == "Your Offload data export is ready"
    [link] = [x for x in outbox.links(mail) if "/settings/export/" in x]
    export_id, token = link.rsplit("/", 2)[-2:]
    assert int(export_id) == export.id
    assert export.token_hash != token and len(token) >= 40  # stored hashed
    assert "72 hours" in mail.text_body


def test_an_export_being_built_is_left_to_its_worker(make_member):
    ada = make_member("ada")
    export = request_export(actor=ada, password=PASSWORD)
    _set(export.id, state=ExportState.BUILDING.value, started_at=utcnow())
    assert build_due_exports() == 0
    assert fresh(DataExport, export.id).state == ExportState.BUILDING


def test_a_dead_workers_export_is_built_after_its_lease(make_member):
    ada = make_member("ada")
    export = request_export(actor=ada, password=PASSWORD)
    _set(export.id, state=ExportState.BUILDING.value, started_at=utcnow() - timedelta(hours=1))
    assert build_due_exports() == 1
    assert fresh(DataExport, export.id).state == ExportState.READY


def test_a_worker_that_lost_its_lease_keeps_nothing(make_member, monkeypatch, outbox):
    """Another worker took the export over while this one was writing: this one's zip
    is deleted and it marks nothing, mails nothing."""
    ada = make_member("ada")
    export = request_export(actor=ada, password=PASSWORD)
    written = []

    def slow(member_id, path):
        _set(export.id, started_at=utcnow() + timedelta(seconds=5))  # the other's claim
        written.append(path)
        return real(member_id, path)

    real = builder.write_archive
    monkeypatch.setattr(builder, "write_archive", slow)
    assert build_due_exports(limit=1) == 0
    assert not written[0].exists()
    assert fresh(DataExport, export.id).state == ExportState.BUILDING
    assert outbox.all() == []


def test_two_workers_at_once_build_it_once(make_member, race, outbox):
    ada = make_member("ada")
    request_export(actor=ada, password=PASSWORD)
    db.session.commit()
    results, errors = race(2, lambda i: build_due_exports())
    assert errors == [] and sorted(results) == [0, 1]
    assert len(outbox.all()) == 1


# --- expiry and erasure ------------------------------------------------------------------

def test_expired_exports_lose_their_zip(make_member):
    ada = make_member("ada")
    export = _ready(ada)
    path = export_path(export.file_name)
    assert expire_exports() == 0
    _set(export.id, expires_at=utcnow() - timedelta(seconds=1))
    assert expire_exports() == 1
    assert fresh(DataExport, export.id).state == ExportState.EXPIRED
    assert not path.exists()
    assert expire_exports() == 0


def test_erasing_a_members_exports_deletes_rows_and_files(make_member):
    ada, bob = make_member("ada"), make_member("bob")
    export = _ready(ada)
    path = export_path(export.file_name)
    other = _ready(bob)
    assert erase_member_exports(ada.id) == 1
    assert not path.exists()
    assert count(DataExport, DataExport.user_id == ada.id) == 0
    assert export_path(other.file_name).is_file()


def test_the_build_of_an_erased_export_marks_and_mails_nothing(make_member, monkeypatch,
                                                               outbox):
    ada = make_member("ada")
    request_export(actor=ada, password=PASSWORD)
    real = builder.write_archive
    written = []

    def erased_meanwhile(member_id, path):
        erase_member_exports(member_id)
        written.append(path)
        return real(member_id, path)

    monkeypatch.setattr(builder, "write_archive", erased_meanwhile)
    assert build_due_exports() == 0
    assert not written[0].exists() and outbox.all() == []


def test_services_module_exposes_the_erasure_for_privacy():
    assert services.erase_member_exports is erase_member_exports


def test_a_failed_build_that_lost_its_lease_gives_up_and_the_run_goes_on(
        make_member, monkeypatch, outbox):
    """Worker A's build outlives its lease; B takes over and marks the export ready;
    then A's build raises. A leaves B's export alone, deletes its own zip, and builds
    the next export of the run."""
    ada, bob = make_member("ada"), make_member("bob")
    first = request_export(actor=ada, password=PASSWORD)
    second = request_export(actor=bob, password=PASSWORD)
    real = builder.write_archive
    written = []

    def overtaken_then_broken(member_id, path):
        if member_id != ada.id:
            return real(member_id, path)
        written.append(path)
        real(member_id, path)  # A's zip is on the disk when B finishes first
        _set(first.id, state=ExportState.READY.value, ready_at=utcnow(),
             started_at=utcnow() + timedelta(seconds=5), file_name="export-b.zip",
             token_hash="b" * 64, expires_at=utcnow() + timedelta(hours=72))
        raise OSError("disk full")

    monkeypatch.setattr(builder, "write_archive", overtaken_then_broken)
    assert build_due_exports() == 1
    assert fresh(DataExport, first.id).state == ExportState.READY  # B's, untouched
    assert fresh(DataExport, first.id).file_name == "export-b.zip"
    assert not written[0].exists()
    assert fresh(DataExport, second.id).state == ExportState.READY
    assert [mail.to_address for mail in outbox.all()] == ["bob@example.com"]


def test_a_build_that_lost_its_lease_to_a_finished_worker_marks_nothing(
        make_member, monkeypatch, outbox):
    ada = make_member("ada")
    export = request_export(actor=ada, password=PASSWORD)
    real = builder.write_archive
    written = []

    def overtaken(member_id, path):
        written.append(path)
        size = real(member_id, path)
        _set(export.id, state=ExportState.READY.value, ready_at=utcnow(),
             started_at=utcnow() + timedelta(seconds=5), file_name="export-b.zip",
             token_hash="b" * 64, expires_at=utcnow() + timedelta(hours=72))
        return size

    monkeypatch.setattr(builder, "write_archive", overtaken)
    assert build_due_exports() == 0
    assert fresh(DataExport, export.id).file_name == "export-b.zip"
    assert not written[0].exists() and outbox.all() == []


def test_a_new_ready_export_expires_the_earlier_ones_and_deletes_their_zips(make_member):
    ada, bob = make_member("ada"), make_member("bob")
    bobs = _ready(bob)
    earlier = []
    for _ in range(2):
        earlier.append(_ready(ada))
        _set(earlier[-1].id, requested_at=utcnow() - timedelta(minutes=61))
    latest = fresh(DataExport, earlier[-1].id)
    first = fresh(DataExport, earlier[0].id)
    assert first.state == ExportState.EXPIRED and first.file_name == earlier[0].file_name
    assert not export_path(earlier[0].file_name).exists()
    assert latest.state == ExportState.READY and export_path(latest.file_name).is_file()
    assert fresh(DataExport, bobs.id).state == ExportState.READY  # another member's stays
    assert export_path(bobs.file_name).is_file()


def test_an_archive_over_export_max_bytes_fails_and_stops_writing(app, monkeypatch, outbox):
    world = member_with_everything()
    monkeypatch.setitem(app.config, "EXPORT_MAX_BYTES", 1)
    entries = []
    real_json = builder._json
    monkeypatch.setattr(builder, "_json", lambda archive, name, data: (
        entries.append(name), real_json(archive, name, data)))
    written = []
    real_write = builder.write_archive
    monkeypatch.setattr(builder, "write_archive", lambda member_id, path: (
        written.append(path), real_write(member_id, path))[1])
    export = request_export(actor=world.ada, password=PASSWORD)
    assert build_due_exports() == 0
    export = fresh(DataExport, export.id)
    assert export.state == ExportState.FAILED
    assert export.size_bytes > 1  # how far it got: the page tells it from another failure
    assert entries == []  # stopped at the first file over the limit, the profile's document
    [path] = written
    assert not path.exists() and not path.with_name(path.name + ".part").exists()
    assert not [m for m in outbox.all() if "data export" in m.subject]


def test_messages_and_notifications_are_read_a_page_at_a_time(app, monkeypatch):
    from sqlalchemy import event

    from offload.conversations.models import OfferMessage
    from offload.conversations.services import send_offer_message
    from offload.offers.models import Offer

    world = member_with_everything()
    offer = db.session.scalars(select(Offer).where(Offer.member_id == world.bob.id)
                               .order_by(Offer.id)).first()
    for n in range(3):
        send_offer_message(offer, actor=world.bob, body=f"More {n}")
    messages = count(OfferMessage, OfferMessage.offer_id == offer.id)
    monkeypatch.setitem(app.config, "CSV_PAGE_SIZE", 2)
    reads: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        reads.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        archive = _archive(_ready(world.ada))
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    def pages_of(table: str) -> list[str]:
        return [s for s in reads if s.lstrip().startswith(f"SELECT {table}.")]

    assert len(pages_of("offer_messages")) >= 3  # 5 messages, 2 a page
    assert all("LIMIT" in s for s in pages_of("offer_messages"))
    assert len(pages_of("notifications")) >= 2
    assert all("LIMIT" in s for s in pages_of("notifications"))
    [conversation] = [c for c in json.loads(archive.read("messages.json"))
                      if c["gig_title"] == "Port a shop to Flask"]
    assert [m["body"] for m in conversation["messages"]][2:] == ["More 0", "More 1", "More 2"]
    assert len(conversation["messages"]) == messages
    notifications = json.loads(archive.read("notifications.json"))
    assert len(notifications) >= 3 and "id" not in notifications[0]
    assert [n["created_at"] for n in notifications] == sorted(
        n["created_at"] for n in notifications)
