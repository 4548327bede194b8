"""Writing a member's archive: the zip of everything the site keeps about them.

Called by ``services.build_due_exports`` outside any transaction (it reads, and writes
one file). Where a member may have many rows it reads a page at a time (CSV_PAGE_SIZE
rows, by keyset) and writes each page before reading the next: messages (each
conversation's), notifications and the wallet statement. The other files (profile,
gigs, offers, projects, reviews, invites) are each read whole and written at once.
Everything comes from ``queries`` (and the wallet statement from ``wallet.queries``,
written by the wallet's own CSV row), so what is in the archive is what the member sees
on the site. The zip is written beside its final name and renamed into place, so a
build that dies leaves no half archive under a name a download could find. Its size is
checked after each entry (and each statement line, message and notification): once it
is over EXPORT_MAX_BYTES the build stops there, raising ``ArchiveTooLarge``, rather than
filling the disk first.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import Row
from werkzeug.utils import secure_filename

from offload.core.csv_export import csv_lines, keyset_items
from offload.core.db import utcnow
from offload.core.images import photo_path
from offload.core.uploads import stored_path
from offload.wallet.queries import HISTORY_CSV_HEADER, history_csv_row, wallet_history_page

from . import queries

README = """\
Your data on {site}, exported for {username} on {day} (UTC).

profile.json        your account (username, name, e-mail address, account type, what
                    you mainly do), your profile (headline, bio, location, skills,
                    education, portfolio, documents), who invited you, and your
                    settings (notification preferences).
gigs.json           the gigs you posted, with their client details (referrals), their
                    files and the questions asked on them with your answers.
offers.json         "made": the offers you made on others' gigs; "received": the offers
                    made on your gigs, as you see them on the gig page.
projects.json       your projects, as poster or performer, with their milestones and
                    their whole timeline.
messages.json       the conversations you are part of: your messages and the other
                    side's, as you see them on the site.
reviews.json        the reviews you gave, and the published reviews of you, with replies.
notifications.json  every notification we showed you.
invites.json        the invites you sent. An accepted invite names the member who joined
                    by username: their e-mail address is theirs, not part of your data.
statement.csv       your wallet statement, the same as the CSV on your wallet page
                    (amounts in {currency}, newest first).
files/              the files you uploaded: documents/, gig-files/, message-files/,
                    delivered-files/ and photo.jpg; each named "<id>-<its name>".

Amounts in the JSON files are in minor units (cents) with their currency; times are
ISO 8601 in UTC. Other members appear only by the username and name the site shows
beside what they wrote.
"""


class ArchiveTooLarge(Exception):
    """The archive went over EXPORT_MAX_BYTES; ``written`` bytes when it stopped."""

    def __init__(self, written: int):
        super().__init__(f"the archive went over its limit at {written} bytes")
        self.written = written


def write_archive(member_id: int, path: Path) -> int:
    """Write the member's archive to ``path``; returns its size in bytes.

    Raises: ``ArchiveTooLarge`` as soon as it is over EXPORT_MAX_BYTES (nothing is left
    on the disk then).
    """
    partial = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            _fill(_Capped(zipped, current_app.config["EXPORT_MAX_BYTES"]), member_id)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path.stat().st_size


class _Capped:
    """The zip being written, stopping the build once it is over ``limit`` bytes."""

    def __init__(self, zipped: zipfile.ZipFile, limit: int):
        self.zipped = zipped
        self.limit = limit

    def check(self) -> None:
        written = self.zipped.fp.tell()
        if written > self.limit:
            raise ArchiveTooLarge(written)

    def writestr(self, name: str, data: str) -> None:
        self.zipped.writestr(name, data)
        self.check()

    def write(self, source: Path, name: str) -> None:
        self.zipped.write(source, name)
        self.check()

    def open(self, name: str, mode: str):
        return self.zipped.open(name, mode)


def _fill(archive: _Capped, member_id: int) -> None:
    member = queries.member_data(member_id)
    files = _Files(archive)
    _json(archive, "profile.json", _profile(member, files))
    _json(archive, "gigs.json", _gigs(member_id, files))
    _json(archive, "offers.json", {
        "made": [_plain(row) for row in queries.offers_made_by(member_id)],
        "received": [_plain(row) for row in queries.offers_received_by(member_id)]})
    _json(archive, "projects.json", _projects(member_id, files))
    _messages(archive, member_id, files)
    _json(archive, "reviews.json", {
        direction: [_plain(row, "direction") for row in queries.reviews_of(member_id)
                    if row.direction == direction] for direction in ("given", "received")})
    with _JsonArray(archive, "notifications.json") as add:
        for page in queries.notifications_of(member_id, _page_size()):
            for row in page:
                add(_plain(row, "id"))
    _json(archive, "invites.json", [_plain(row) for row in queries.invites_sent_by(member_id)])
    _statement(archive, member_id)
    config = current_app.config
    archive.writestr("README.txt", README.format(
        site=config["SITE_NAME"], username=member.account.username,
        day=utcnow().date().isoformat(), currency=config["CURRENCY"]))


def _profile(member: queries.MemberData, files: _Files) -> dict:
    account = _plain(member.account, "id", "invited_by_id")
    profile = _plain(member.profile) if member.profile else {}
    version = profile.pop("photo_version", None)
    if version:
        largest = max(current_app.config["PHOTO_SIZES"])
        files.add_path(photo_path(version, largest), "files/photo.jpg")
    return {
        "account": account,
        "invited_by": member.invited_by,
        "profile": profile,
        "skills": list(member.skills),
        "education": [_plain(row) for row in member.education],
        "portfolio": [_plain(row) for row in member.portfolio],
        "documents": [{**_plain(doc, "stored_name"),
                       "file": files.add(doc, "documents")} for doc in member.documents],
        "settings": {"notification_preferences": {
            row.kind: row.channel for row in member.notification_preferences}},
    }


def _gigs(member_id: int, files: _Files) -> list[dict]:
    gigs = queries.gigs_posted_by(member_id)
    ids = [gig.id for gig in gigs]
    clients = queries.client_details_of(ids)
    attachments = _by(queries.gig_attachments_of(ids), "gig_id")
    questions = _by(queries.questions_on(ids), "gig_id")
    return [{**_plain(gig),
             "client": _plain(clients[gig.id], "gig_id") if gig.id in clients else None,
             "files": [files.add(row, "gig-files") for row in attachments.get(gig.id, ())],
             "questions": [_plain(q, "gig_id") for q in questions.get(gig.id, ())]}
            for gig in gigs]


def _projects(member_id: int, files: _Files) -> list[dict]:
    projects = queries.projects_of(member_id)
    ids = [project.id for project in projects]
    milestones = _by(queries.milestones_of(ids), "project_id")
    events = _by(queries.timeline_of(ids), "project_id")
    event_files = _by(queries.timeline_files_of(ids), "event_id")

    return [{**_plain(project),
             "milestones": [_plain(m, "project_id") for m in milestones.get(project.id, ())],
             "timeline": [{**_plain(e, "id", "project_id"), "files": files.of(
                 event_files.get(e.id, ()), member_id, "delivered-files")}
                 for e in events.get(project.id, ())]}
            for project in projects]


def _messages(archive: _Capped, member_id: int, files: _Files) -> None:
    """messages.json: each conversation, its messages a page at a time. The member's
    files sent with them are copied once the JSON is written (a zip takes one entry at
    a time)."""
    files.hold()
    with _JsonArray(archive, "messages.json") as add_conversation:
        for conversation in queries.conversations_of(member_id):
            with add_conversation.nested(_plain(conversation), "messages") as add:
                for page in queries.messages_in(conversation.offer_id, _page_size()):
                    attached = _by(queries.message_files_of([m.id for m in page]),
                                   "message_id")
                    for m in page:
                        add({**_plain(m, "id", "offer_id", "sender_id"), "files": files.of(
                            attached.get(m.id, ()), member_id, "message-files")})
    files.release()


def _page_size() -> int:
    return current_app.config["CSV_PAGE_SIZE"]


class _JsonArray:
    """A JSON array written into the archive an item at a time (``add(item)``), the
    archive's size checked after each; ``nested(head, key)`` writes an object ``head``
    whose ``key`` is an array added to the same way."""

    def __init__(self, archive: _Capped, name: str):
        self.archive = archive
        self.name = name

    def __enter__(self) -> _JsonArray:
        self.out = io.TextIOWrapper(self.archive.open(self.name, "w"), encoding="utf-8")
        self.count = 0
        self.out.write("[")
        return self

    def __call__(self, item: Any) -> None:
        self._next()
        self.out.write(_dumps(item))
        self.archive.check()

    def nested(self, head: dict, key: str) -> _JsonArray:
        self._next()
        opened = _dumps(head)[:-1]
        self.out.write(f'{opened}{", " if head else ""}{_dumps(key)}: [')
        return _Nested(self)

    def _next(self) -> None:
        self.out.write(",\n" if self.count else "\n")
        self.count += 1

    def __exit__(self, *exc) -> None:
        self.out.write("\n]\n")
        self.out.close()


class _Nested(_JsonArray):
    """The array inside an item of an outer ``_JsonArray``."""

    def __init__(self, outer: _JsonArray):
        self.archive, self.out, self.count = outer.archive, outer.out, 0

    def __enter__(self) -> _JsonArray:
        return self

    def __exit__(self, *exc) -> None:
        self.out.write("]}")


def _statement(archive: _Capped, member_id: int) -> None:
    size = current_app.config["CSV_PAGE_SIZE"]
    lines = keyset_items(lambda cursor: wallet_history_page(member_id, cursor, size))
    with archive.open("statement.csv", "w") as raw, io.TextIOWrapper(
            raw, encoding="utf-8", newline="") as out:
        for line in csv_lines(HISTORY_CSV_HEADER, (history_csv_row(x) for x in lines)):
            out.write(line)
            archive.check()


class _Files:
    """The member's uploads copied into ``files/``, each under a safe, unique name."""

    def __init__(self, archive: _Capped):
        self.archive = archive
        self.held: list[tuple[Path, str]] | None = None

    def hold(self) -> None:
        """Name the files added from now on, and copy them at ``release()``: while a
        JSON file is being written the zip takes no other entry."""
        self.held = []

    def release(self) -> None:
        held, self.held = self.held or [], None
        for source, name in held:
            self.archive.write(source, name)

    def add(self, row: Row, folder: str) -> str | None:
        """Copy the stored upload of ``row`` (id, original_name, stored_name); its path
        in the archive, or None when the file is gone from the disk."""
        name = secure_filename(row.original_name) or "file"
        return self.add_path(stored_path(row.stored_name), f"files/{folder}/{row.id}-{name}")

    def of(self, rows: Iterable[Row], member_id: int, folder: str) -> list[str | None]:
        """The files sent with a message or a timeline event: the member's own copied
        (their path here), the other side's only named (theirs to take away, not this
        member's)."""
        return [self.add(row, folder) if row.uploaded_by_id == member_id
                else row.original_name for row in rows]

    def add_path(self, source: Path, name: str) -> str | None:
        if not source.is_file():
            return None
        if self.held is not None:
            self.held.append((source, name))
        else:
            self.archive.write(source, name)
        return name


def _by(rows: Iterable[Row], key: str) -> dict[Any, list[Row]]:
    grouped: dict[Any, list[Row]] = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


def _plain(row: Row, *leave_out: str) -> dict[str, Any]:
    return {key: value for key, value in row._asdict().items() if key not in leave_out}


def _json(archive: _Capped, name: str, data: Any) -> None:
    archive.writestr(name, json.dumps(data, indent=2, ensure_ascii=False, default=_value))


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=_value)


def _value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"not JSON: {type(value).__name__}")
