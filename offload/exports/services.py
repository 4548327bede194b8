"""Asking for an export, building it, expiring it, and erasing a member's exports."""

from __future__ import annotations

import logging
import math
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.accounts.passwords import verify_password
from offload.accounts.queries import SignedIn, member_row
from offload.core.db import atomic, db, on_commit, utcnow
from offload.core.errors import Conflict, InvalidField
from offload.core.links import external_url
from offload.core.tokens import hash_token, new_token
from offload.core.transitions import insert_once, update_row
from offload.core.uploads import upload_dir
from offload.notifications.services import queue_email

from . import builder
from .models import EXPORT_TRANSITIONS, DataExport, ExportState
from .policies import RUNNING, why_cannot_request_export
from .queries import next_export_to_build

log = logging.getLogger("offload.exports")

def export_path(file_name: str) -> Path:
    """Where an export's zip lives: ``UPLOAD_FOLDER/exports/<generated name>``."""
    if "/" in file_name or "\\" in file_name or file_name.startswith("."):
        raise ValueError("bad export file name")
    return upload_dir() / "exports" / file_name


def request_export(*, actor: User | SignedIn, password: str) -> DataExport:
    """Ask for an export of the actor's data, after their password; the job worker
    builds it (``build_due_exports``).

    State: a new export, requested.
    Refuses: a wrong password (InvalidField "password"); an export of theirs still
    requested or being built (Conflict); one asked for less than EXPORT_EVERY_MINUTES
    ago, failed ones aside (Conflict, saying when they may ask again).
    """
    user = member_row(actor)
    if not verify_password(user.password_hash, password or ""):
        raise InvalidField("password", "Your password is not correct.")
    with atomic() as session:
        # the member's row locked: two requests at once check the limit one after the other
        session.execute(select(User.id).where(User.id == user.id).with_for_update())
        refusal = why_cannot_request_export(user.id)
        if refusal:
            raise Conflict(refusal)
        now = utcnow()
        export = DataExport(user_id=user.id, state=ExportState.REQUESTED, requested_at=now,
                            state_changed_at=now)
        insert_once(export, refused=RUNNING)
    log.info("data export requested", extra={"user_id": user.id, "export_id": export.id})
    return export


def build_due_exports(*, limit: int | None = None) -> int:
    """Build the exports waiting (oldest first, at most ``limit``, default
    EXPORT_BUILDS_PER_RUN); returns how many were built.

    Each is claimed first in a transaction of its own (requested → building, a guarded
    UPDATE), so of two workers only one builds it; one whose worker died (building
    longer than EXPORT_BUILD_LEASE_MINUTES) is claimed again. The zip is written
    outside any transaction, then a second transaction marks it ready if this worker
    still holds it. A worker that lost its lease (another took the export over) marks
    nothing, deletes its own zip and goes on to the next export, built or failed.
    State: requested → building → ready (expires EXPORT_LINK_HOURS later), or failed
    when writing it raised or the zip went over EXPORT_MAX_BYTES (then with the size it
    stopped at); the member's earlier ready exports → expired.
    Files: the earlier exports' zips deleted after the commit.
    Mails: the member, a link to download it (the token's hash stored).
    """
    limit = limit or current_app.config["EXPORT_BUILDS_PER_RUN"]
    built = 0
    for _ in range(limit):
        claim = _claim_next()
        if claim is None:
            break
        if _build(*claim):
            built += 1
    return built


def _claim_next() -> tuple[int, int, datetime] | None:
    """The next export to build, claimed by this worker: its id, its member's and the
    lease's start; None when none is waiting."""
    stale = timedelta(minutes=current_app.config["EXPORT_BUILD_LEASE_MINUTES"])
    while True:
        with atomic() as session:
            now = utcnow()
            row = next_export_to_build(now - stale)
            if row is None:
                return None
            export = session.get(DataExport, row.id)
            if row.state == ExportState.REQUESTED:
                claimed = update_row(export, DataExport.state == ExportState.REQUESTED,
                                     refused=None, state=ExportState.BUILDING.value,
                                     started_at=now, state_changed_at=now)
            else:  # a dead worker's: take over its lease
                claimed = update_row(export, DataExport.state == ExportState.BUILDING,
                                     DataExport.started_at == row.started_at, refused=None,
                                     started_at=now)
            if claimed:
                return export.id, export.user_id, now
        # another worker claimed it first: look for the next


def _build(export_id: int, member_id: int, lease: datetime) -> bool:
    """Write the zip of a claimed export and mark it ready (or failed); True when built."""
    file_name = f"export-{export_id}-{secrets.token_hex(12)}.zip"
    path = export_path(file_name)
    try:
        size = builder.write_archive(member_id, path)
    except builder.ArchiveTooLarge as too_large:
        log.warning("data export %s: over EXPORT_MAX_BYTES", export_id,
                    extra={"user_id": member_id, "export_id": export_id})
        db.session.rollback()
        path.unlink(missing_ok=True)
        with atomic():  # how far it got tells the page why it failed
            _finish(export_id, lease, ExportState.FAILED, size_bytes=too_large.written)
        return False
    except Exception:
        log.exception("data export %s failed", export_id)
        db.session.rollback()
        path.unlink(missing_ok=True)  # our own name: nobody else's zip
        with atomic():
            if not _finish(export_id, lease, ExportState.FAILED):
                log.info("data export %s: lost its lease, left to the worker that took "
                         "it over", export_id)
        return False
    token = new_token()
    hours = current_app.config["EXPORT_LINK_HOURS"]
    with atomic() as session:
        now = utcnow()
        export = _finish(export_id, lease, ExportState.READY, ready_at=now,
                         expires_at=now + timedelta(hours=hours), file_name=file_name,
                         size_bytes=size, token_hash=hash_token(token))
        if export is None:  # erased meanwhile, or another worker took it over (our lease ran out)
            on_commit(lambda: path.unlink(missing_ok=True))
            return False
        # one zip per member on the disk: the new one replaces the links mailed before
        _expire(session.scalars(select(DataExport).where(
            DataExport.user_id == member_id, DataExport.id != export_id,
            DataExport.state == ExportState.READY)).all())
        _mail_link(session.get(User, member_id), export, token)
    log.info("data export built", extra={"user_id": member_id, "export_id": export_id})
    return True


def resend_export_link(export_id: int, *, actor: User | SignedIn) -> None:
    """Mail the member a new link to their ready export, for one who lost the mail.

    State: the export's token replaced (a new one, stored hashed): the link mailed
    before stops working. Its expiry stays.
    Mails: the member, the new link.
    Refuses: another member's export, or one never ready (NotFound); one whose time is
    up (Conflict).
    """
    user = member_row(actor)
    with atomic() as session:
        export = session.scalars(select(DataExport).where(
            DataExport.id == export_id, DataExport.user_id == user.id)).first()
        if export is None or export.state not in (ExportState.READY, ExportState.EXPIRED):
            raise NotFound()
        now = utcnow()
        token = new_token()
        if export.state == ExportState.EXPIRED or export.expires_at <= now:
            raise Conflict(EXPIRED)
        update_row(export, DataExport.state == ExportState.READY.value,
                   DataExport.expires_at > now, refused=EXPIRED, token_hash=hash_token(token))
        _mail_link(user, export, token)
    log.info("data export link sent again", extra={"user_id": user.id, "export_id": export_id})


EXPIRED = ("This export has expired and its file is deleted. You can ask for a new export "
           "below.")


def _mail_link(user: User, export: DataExport, token: str) -> None:
    """Queue the mail with the link to a ready export (its token in the clear, only
    there), saying how long it still works."""
    hours = math.ceil((export.expires_at - utcnow()).total_seconds() / 3600)
    queue_email(user.email, "export_ready", user=user, member=user,
                link=external_url("exports.download", export_id=export.id, token=token),
                expires_at=export.expires_at, hours=hours)


def _finish(export_id: int, lease: datetime, to: ExportState,
            **values) -> DataExport | None:
    """End this worker's build (building → ``to``) while it still holds the lease that
    began at ``lease``; the export, or None when it no longer does: erased, or taken over
    by another worker, which may have finished it already. Whatever state it is in then
    is the other worker's to settle, so this is no error."""
    assert to in EXPORT_TRANSITIONS[ExportState.BUILDING]
    export = db.session.get(DataExport, export_id)
    if export is None or not update_row(
            export, DataExport.state == ExportState.BUILDING.value,
            DataExport.started_at == lease, refused=None, state=to.value,
            state_changed_at=utcnow(), **values):
        return None
    return export


def _move(export: DataExport, to: ExportState, *, guard=(), **values) -> bool:
    """Move the export along ``EXPORT_TRANSITIONS`` while ``guard`` holds; False when it
    no longer does (someone else moved it first)."""
    frm = ExportState(export.state)
    if to not in EXPORT_TRANSITIONS[frm]:
        raise Conflict(f"A {frm.value} export can't become {to.value}.")
    return update_row(export, DataExport.state == frm.value, *guard, refused=None,
                      state=to.value, state_changed_at=utcnow(), **values)


def expire_exports() -> int:
    """Expire the ready exports whose link's time is up; returns how many.

    State: ready → expired. Files: each zip deleted after the commit.
    """
    with atomic() as session:
        return _expire(session.scalars(select(DataExport).where(
            DataExport.state == ExportState.READY, DataExport.expires_at <= utcnow())).all())


def _expire(exports: list[DataExport]) -> int:
    """Move these ready exports to expired, in the caller's transaction, and delete their
    zips after it commits; how many moved."""
    expired = 0
    for export in exports:
        file_name = export.file_name
        if _move(export, ExportState.EXPIRED):
            expired += 1
            on_commit(lambda name=file_name: export_path(name).unlink(missing_ok=True))
    return expired


def erase_member_exports(member_id: int) -> int:
    """Delete every export of the member and their zips (for account deletion); returns
    how many. Joins the caller's transaction; the files go after it commits.

    A build under way for them finds its row gone and deletes the zip it wrote.
    """
    with atomic() as session:
        names = [name for name in session.scalars(
            select(DataExport.file_name).where(DataExport.user_id == member_id)) if name]
        erased = session.execute(delete(DataExport).where(DataExport.user_id == member_id)
                                 .execution_options(synchronize_session=False)).rowcount
        for name in names:
            on_commit(lambda name=name: export_path(name).unlink(missing_ok=True))
    return erased
