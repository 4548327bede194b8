"""The two operations: ``create_backup`` and ``restore_backup``.

Neither runs inside ``atomic()``: a backup reads through SQLite's backup API or
``pg_dump`` (each a consistent snapshot of its own), a restore writes through SQLite's
backup API or ``pg_restore --single-transaction``. What each leaves behind on failure
is stated in its docstring.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from importlib import metadata
from pathlib import Path

from flask import current_app

from . import databases
from .archive import (
    DUMP_NAMES,
    UPLOADS,
    BackupError,
    Manifest,
    checksums_of,
    unpack_archive,
    upload_members,
    write_archive,
)


def _app_version() -> str:
    try:
        return metadata.version("offload")
    except metadata.PackageNotFoundError:
        return "unknown"


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


@dataclass(frozen=True)
class BackupMade:
    path: Path
    manifest: Manifest
    size_bytes: int


def create_backup(path: Path, *, now: datetime | None = None) -> BackupMade:
    """Write the database and the uploaded files to a new archive at ``path`` (or, when
    ``path`` is a directory, to ``offload-backup-<UTC time>.tar.gz`` in it).

    Safe while the site runs. The archive is built under a temporary name beside it and
    linked to its name only once read back and checked, and only if the name is still
    free, so a failure leaves no archive (and no temporary files) and never replaces one.
    Raises: ``BackupError`` (the path is taken, even meanwhile, or its folder missing,
    the database cannot be copied, a file changed while it was copied).
    """
    now = now or datetime.now(UTC)
    target = Path(path)
    if target.is_dir():
        target = target / f"offload-backup-{now:%Y%m%dT%H%M%SZ}.tar.gz"
    if target.exists():
        raise BackupError(f"{target} already exists: give a new file name (backups are "
                          "never overwritten).")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    dialect = databases.dialect_name()
    revision = databases.current_revision()
    with tempfile.TemporaryDirectory(prefix=".offload-backup-", dir=target.parent) as work:
        dump = Path(work) / DUMP_NAMES[dialect]
        source = databases.dump_database(dump)
        members = {dump.name: dump, **upload_members(_upload_folder())}
        manifest = Manifest(created_at=now.isoformat(timespec="seconds"), dialect=dialect,
                            alembic_revision=revision, app_version=_app_version(),
                            database=source, checksums=checksums_of(members))
        partial = Path(work) / "archive.tar.gz"
        write_archive(partial, manifest, members)
        _link_new(partial, target)
    return BackupMade(path=target, manifest=manifest, size_bytes=target.stat().st_size)


def _link_new(partial: Path, target: Path) -> None:
    """Give the finished archive its name only if nothing has it: a hard link fails
    when the name exists, where a rename would silently replace a file made since the
    check (the temporary name goes with its folder)."""
    try:
        os.link(partial, target)
    except FileExistsError:
        raise BackupError(f"{target} already exists: it was made while the backup ran. "
                          "Give a new file name (backups are never overwritten).") from None


class Revision(StrEnum):
    AT_HEAD = "at head"
    BEHIND = "behind"  # run flask db upgrade
    UNSTAMPED = "unstamped"  # the database records no Alembic revision


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    revision: Revision
    head: str | None


def restore_backup(path: Path, *, force: bool = False) -> Restored:
    """Restore the database and the uploaded files from the archive at ``path``.

    Refuses, before changing anything: a database that has tables, or an upload folder
    that has files, unless ``force``; an archive whose manifest or any checksum is wrong;
    one of another database kind, or at an Alembic revision this code does not know
    (a newer Offload made it); a pg_restore or server too old for the dump.
    Then the database is restored in one transaction, then the files, unpacked beside
    the upload folder, replace it by a rename. Stop the site and its workers first.
    """
    archive = Path(path)
    uploads = _upload_folder()
    if not force:
        _refuse_unless_empty(uploads)
    uploads.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{uploads.name}-restore-", dir=uploads.parent))
    try:
        manifest = unpack_archive(archive, staging)
        _refuse_unless_fits(manifest)
        databases.restore_database(staging / manifest.dump_name, manifest)
        _put_files_in_place(staging / UPLOADS, uploads)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    head = databases.head_revision()
    revision = databases.current_revision()
    state = (Revision.UNSTAMPED if revision is None
             else Revision.AT_HEAD if revision == head else Revision.BEHIND)
    return Restored(manifest=manifest, revision=state, head=head)


def _refuse_unless_empty(uploads: Path) -> None:
    tables = databases.table_names()
    if tables:
        raise BackupError(
            f"The configured database is not empty ({len(tables)} tables, e.g. {tables[0]!r}):"
            " restore into a new, empty database, or give --force to replace what it holds.")
    files = upload_members(uploads)
    if files:
        raise BackupError(f"The upload folder {uploads} already holds {len(files)} file(s): "
                          "empty it, or give --force to replace them.")


def _refuse_unless_fits(manifest: Manifest) -> None:
    dialect = databases.dialect_name()
    if manifest.dialect != dialect:
        raise BackupError(f"The archive holds a {manifest.dialect} database; the configured "
                          f"one is {dialect}. Point DATABASE_URL at a {manifest.dialect} "
                          "database to restore it.")
    revision = manifest.alembic_revision
    if revision is not None and not databases.is_known_revision(revision):
        raise BackupError(
            f"The archive's database is at migration {revision}, which this code does not "
            f"have: it was made by a newer Offload ({manifest.app_version}). Restore it with "
            "that version's code.")


def _put_files_in_place(staged: Path, uploads: Path) -> None:
    """Swap the staged folder in for the upload folder by renames (same file system);
    the old folder, if any, is removed only once the new one is in place."""
    staged.mkdir(exist_ok=True)  # an archive without files still empties the folder
    old = None
    if uploads.exists():
        old = uploads.with_name(f".{uploads.name}-replaced-{secrets.token_hex(4)}")
        os.rename(uploads, old)
    try:
        os.rename(staged, uploads)
    except OSError:
        if old is not None:
            os.rename(old, uploads)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
