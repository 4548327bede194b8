"""The archive: one gzipped tar holding ``manifest.json``, the database dump
(``database.sqlite3`` or ``database.pgdump``) and the upload folder under ``uploads/``.

The manifest lists the SHA-256 of every other member; ``unpack`` refuses an archive
with a member missing, extra, of another kind than a plain file, or whose bytes differ,
before anything is restored from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from offload.core.errors import OffloadError

FORMAT = "offload-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
UPLOADS = "uploads"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(OffloadError):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    created_at: str
    dialect: str
    alembic_revision: str | None
    app_version: str
    database: dict  # what the dump came from: server and tool versions (PostgreSQL)
    checksums: dict[str, str]  # member name -> sha256, every member but the manifest

    @property
    def dump_name(self) -> str:
        return DUMP_NAMES[self.dialect]

    @property
    def file_count(self) -> int:
        return sum(1 for name in self.checksums if name.startswith(UPLOADS + "/"))

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT, "format_version": FORMAT_VERSION,
            "created_at": self.created_at, "app_version": self.app_version,
            "database": {"dialect": self.dialect, "file": self.dump_name,
                         "alembic_revision": self.alembic_revision, **self.database},
            "file_count": self.file_count, "sha256": self.checksums,
        }, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
        except ValueError as e:
            raise BackupError(f"The archive's manifest.json is not valid JSON ({e}).") from e
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError("This is not an Offload backup: its manifest.json does not say "
                              f"format {FORMAT!r}.")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise BackupError(
                f"The archive is in backup format version {version}, made by Offload "
                f"{data.get('app_version', '?')}; this Offload reads version {FORMAT_VERSION}"
                ". Restore it with the Offload version that made it.")
        try:
            database = dict(data["database"])
            dialect = database.pop("dialect")
            database.pop("file", None)
            manifest = cls(created_at=data["created_at"], dialect=dialect,
                           alembic_revision=database.pop("alembic_revision"),
                           app_version=data["app_version"], database=database,
                           checksums=dict(data["sha256"]))
        except (KeyError, TypeError, ValueError) as e:
            raise BackupError(f"The archive's manifest.json lacks {e}.") from e
        if dialect not in DUMP_NAMES:
            raise BackupError(f"The archive holds a {dialect!r} database, which Offload "
                              "cannot restore.")
        if data.get("file_count") != manifest.file_count:
            raise BackupError("The archive's manifest.json is inconsistent: its file count "
                              "does not match the files it lists.")
        return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def upload_members(folder: Path) -> dict[str, Path]:
    """Every regular file under ``folder`` by its member name (``uploads/...``); links
    and other special files are left out (uploads are plain files we wrote)."""
    members: dict[str, Path] = {}
    if not folder.is_dir():
        return members
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if path.is_file() and not path.is_symlink():
                members[f"{UPLOADS}/{path.relative_to(folder).as_posix()}"] = path
    return members


def checksums_of(members: dict[str, Path]) -> dict[str, str]:
    return {name: sha256_of(path) for name, path in members.items()}


def write_archive(target: Path, manifest: Manifest, members: dict[str, Path]) -> None:
    """Write ``manifest`` and ``members`` (name -> file, as the manifest lists them) to
    ``target``, a new file readable by its owner only (it holds every member's data),
    then read it back in full and check every checksum: a file that changed while it
    was copied fails here, not at restore."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = manifest.to_json().encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mode = len(data), 0o600
        info.mtime = int(time.time())
        tar.addfile(info, io.BytesIO(data))
        for name, path in members.items():
            tar.add(path, arcname=name, recursive=False)
    with open(target, "rb") as written:  # on disk before it is called done
        os.fsync(written.fileno())
    verify_archive(target)


def _read_manifest(tar: tarfile.TarFile) -> Manifest:
    try:
        member = tar.getmember(MANIFEST)
    except KeyError:
        raise BackupError("The archive has no manifest.json: it is not an Offload backup, "
                          "or it is cut short.") from None
    f = tar.extractfile(member)
    if f is None:
        raise BackupError("The archive's manifest.json is not a file.")
    return Manifest.from_json(f.read().decode("utf-8", "replace"))


def _open(path: Path) -> tarfile.TarFile:
    if not path.is_file():
        raise BackupError(f"No backup archive at {path}.")
    try:
        return tarfile.open(path, mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise BackupError(f"{path} is not a readable .tar.gz archive ({e}).") from e


def _safe_name(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and not name.startswith("/") and ".." not in parts


def _check_and_unpack(path: Path, into: Path | None) -> Manifest:
    """Read every member, comparing its bytes with the manifest's checksum; with
    ``into``, write each to that directory as well. Raises ``BackupError`` on any
    difference (files already written to ``into`` are the caller's to remove)."""
    try:
        with _open(path) as tar:
            manifest = _read_manifest(tar)
            if manifest.dump_name not in manifest.checksums:
                raise BackupError("The archive's manifest lists no database dump.")
            seen: set[str] = set()
            for member in tar:
                name = member.name
                if name == MANIFEST:
                    continue
                if not _safe_name(name):
                    raise BackupError(f"The archive holds {name!r}, a path that leads out of "
                                      "its folder: refusing it.")
                if name not in manifest.checksums:
                    raise BackupError(f"The archive holds {name!r}, which its manifest does "
                                      "not list: refusing it.")
                if not member.isfile():
                    raise BackupError(f"The archive's {name!r} is not a plain file.")
                if name in seen:
                    raise BackupError(f"The archive holds {name!r} twice.")
                seen.add(name)
                digest = hashlib.sha256()
                source = tar.extractfile(member)
                out = None
                if into is not None:
                    target = into / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    out = target.open("wb")
                try:
                    for chunk in iter(lambda src=source: src.read(1 << 20), b""):
                        digest.update(chunk)
                        if out is not None:
                            out.write(chunk)
                finally:
                    if out is not None:
                        out.close()
                if digest.hexdigest() != manifest.checksums[name]:
                    raise BackupError(f"The archive is damaged: {name!r} does not match its "
                                      "checksum in the manifest. Nothing was restored.")
            missing = sorted(set(manifest.checksums) - seen)
            if missing:
                raise BackupError(f"The archive is incomplete: {len(missing)} member(s) its "
                                  f"manifest lists are missing (first: {missing[0]!r}).")
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as e:
        raise BackupError(f"The archive {path} cannot be read to the end ({e}): it is "
                          "damaged or cut short. Nothing was restored.") from e
    return manifest


def verify_archive(path: Path) -> Manifest:
    """The archive's manifest, once every member has been read and checked against it."""
    return _check_and_unpack(path, None)


def unpack_archive(path: Path, into: Path) -> Manifest:
    """Check the archive (as ``verify_archive``) while writing its members under
    ``into``; the dump is then ``into / manifest.dump_name`` and the files are under
    ``into / "uploads"``."""
    return _check_and_unpack(path, into)
