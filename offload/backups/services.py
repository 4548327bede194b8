"""The two operations: ``create_backup`` and ``restore_backup``.

Neither runs inside ``atomic()``: a backup reads through SQLite's backup API or
``pg_dump`` (each a consistent snapshot of its own), a restore writes through SQLite's
backup API or ``pg_restore --single-transaction``. What each leaves behind on failure
is stated in its docstring.
"""

from __future__ import annotations

import errno
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
    leftover: str | None = None  # replaced files that could not be removed, and why


def restore_backup(path: Path, *, force: bool = False) -> Restored:
    """Restore the database and the uploaded files from the archive at ``path``.

    Refuses, before changing anything: a database that has tables, or an upload folder
    that has files, unless ``force``; an archive whose manifest or any checksum is wrong;
    one of another database kind, or at an Alembic revision this code does not know
    (a newer Offload made it); a pg_restore or server too old for the dump; an upload
    folder the files cannot be put in. The files are moved into a hidden folder inside
    the upload folder first (a link or a mount point is written through, never
    replaced), then the database is restored in one transaction, then the folder's
    contents are exchanged by renames inside it. Stop the site and its workers first.
    """
    archive = Path(path)
    uploads = _upload_folder()
    if not force:
        _refuse_unless_empty(uploads)
    folder = _real_folder(uploads)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{uploads.name}-restore-", dir=uploads.parent))
    swap: _Swap | None = None
    try:
        manifest = unpack_archive(archive, staging)
        _refuse_unless_fits(manifest)
        swap = _prepare_files(staging / UPLOADS, folder)
        databases.restore_database(staging / manifest.dump_name, manifest)
        leftover = swap.exchange()
        swap = None
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # our own copies, nowhere else
        if swap is not None:
            swap.abandon()
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    head = databases.head_revision()
    revision = databases.current_revision()
    state = (Revision.UNSTAMPED if revision is None
             else Revision.AT_HEAD if revision == head else Revision.BEHIND)
    return Restored(manifest=manifest, revision=state, head=head, leftover=leftover)


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


def _real_folder(uploads: Path) -> Path:
    """The directory the upload folder is, through any link: its contents are what a
    restore replaces, so a link or a mount point stays as the operator set it up."""
    folder = uploads.resolve()
    if folder.exists() and not folder.is_dir():
        raise BackupError(f"The upload folder {uploads} is not a folder. Nothing was "
                          "restored.")
    return folder


@dataclass
class _Swap:
    """The backup's files, in ``incoming`` inside the upload folder ``folder``, and an
    empty ``old`` beside them there to take the folder's current entries: what is left
    to do after the database is only renames inside one folder."""

    folder: Path
    incoming: Path
    old: Path

    def exchange(self) -> str | None:
        """Move the folder's entries into ``old`` and the backup's in; on a failure put
        everything back. Answers what could not be removed afterwards, if anything."""
        keep = {self.incoming.name, self.old.name}
        moved_out: list[str] = []
        moved_in: list[str] = []
        try:
            for name in sorted(os.listdir(self.folder)):
                if name not in keep:
                    os.rename(self.folder / name, self.old / name)
                    moved_out.append(name)
            for name in sorted(os.listdir(self.incoming)):
                os.rename(self.incoming / name, self.folder / name)
                moved_in.append(name)
        except OSError as e:
            try:
                for name in moved_in:
                    os.rename(self.folder / name, self.incoming / name)
                for name in moved_out:
                    os.rename(self.old / name, self.folder / name)
            except OSError as undo:
                message = (
                    f"The database was restored, but moving the files into {self.folder} "
                    f"failed ({e}) and so did moving the old ones back ({undo}): the "
                    f"folder's old files are in {self.old.name} inside it, the backup's in "
                    f"{self.incoming.name}. Fix the cause and restore again with --force.")
                self.incoming = self.old = self.folder  # abandon() must remove nothing
                raise BackupError(message) from e
            raise BackupError(
                f"The database was restored, but moving the files into {self.folder} "
                f"failed ({e}); the folder holds its old files. Fix the cause and restore "
                "again with --force.") from e
        os.rmdir(self.incoming)
        try:
            shutil.rmtree(self.old)
        except OSError as e:
            return f"{self.old} ({e})"
        return None

    def abandon(self) -> None:
        """Remove what ``_prepare_files`` made: the folder is as it was."""
        for made in (self.incoming, self.old):
            if made != self.folder:
                shutil.rmtree(made, ignore_errors=True)


def _prepare_files(staged: Path, folder: Path) -> _Swap:
    """Put the unpacked files in a hidden folder inside ``folder``, by a rename on the
    same file system, by a copy from another (a mount point, a link to elsewhere), so
    that whatever stops them reaching it stops the restore before the database."""
    staged.mkdir(exist_ok=True)  # an archive without files still empties the folder
    token = secrets.token_hex(4)
    swap = _Swap(folder=folder, incoming=folder / f".offload-restore-{token}",
                 old=folder / f".offload-replaced-{token}")
    try:
        os.mkdir(swap.old)
        try:
            os.rename(staged, swap.incoming)
        except OSError as e:
            if e.errno != errno.EXDEV:
                raise
            shutil.copytree(staged, swap.incoming)
    except OSError as e:
        swap.abandon()
        raise BackupError(f"The files cannot be put in the upload folder {folder} ({e}). "
                          "Nothing was restored.") from e
    return swap
