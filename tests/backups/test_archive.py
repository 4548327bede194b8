"""The archive's format: what ``unpack_archive`` refuses before anything is written
outside its staging folder."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest

from offload.backups.archive import BackupError, Manifest, unpack_archive, verify_archive

DUMP = b"SQLite format 3\x00 pretend pages"


def _manifest(checksums: dict[str, str], **overrides) -> bytes:
    manifest = Manifest(created_at="2026-12-03T09:00:00+00:00", dialect="sqlite",
                        alembic_revision="5327c9c58162", app_version="0.1.0",
                        database={}, checksums=checksums)
    data = json.loads(manifest.to_json())
    data.update(overrides)
    return json.dumps(data).encode()


def _archive(path, members: dict[str, bytes], manifest: bytes | None = None,
             links: dict[str, str] | None = None):
    if manifest is None:
        manifest = _manifest({name: hashlib.sha256(data).hexdigest()
                              for name, data in members.items()})
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {"manifest.json": manifest, **members}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def test_a_sound_archive_unpacks_under_the_staging_folder(tmp_path):
    archive = _archive(tmp_path / "a.tar.gz", {"database.sqlite3": DUMP,
                                               "uploads/ab.pdf": b"%PDF-1.4"})

    manifest = unpack_archive(archive, tmp_path / "staging")

    assert manifest.file_count == 1 and manifest.dump_name == "database.sqlite3"
    assert (tmp_path / "staging" / "database.sqlite3").read_bytes() == DUMP
    assert (tmp_path / "staging" / "uploads" / "ab.pdf").read_bytes() == b"%PDF-1.4"


def test_a_member_outside_the_staging_folder_is_refused_though_listed(tmp_path):
    members = {"database.sqlite3": DUMP, "uploads/../../escaped.txt": b"x"}
    archive = _archive(tmp_path / "a.tar.gz", members)

    with pytest.raises(BackupError, match="a path that leads out of its folder"):
        unpack_archive(archive, tmp_path / "staging" / "deep")

    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "staging" / "escaped.txt").exists()


def test_a_link_is_refused(tmp_path):
    checksums = {"database.sqlite3": hashlib.sha256(DUMP).hexdigest(),
                 "uploads/passwd": hashlib.sha256(b"").hexdigest()}
    archive = _archive(tmp_path / "a.tar.gz", {"database.sqlite3": DUMP},
                       manifest=_manifest(checksums), links={"uploads/passwd": "/etc/passwd"})

    with pytest.raises(BackupError, match="'uploads/passwd' is not a plain file"):
        verify_archive(archive)


@pytest.mark.parametrize(("manifest", "message"), [
    (b"{not json", "The archive's manifest.json is not valid JSON"),
    (b'{"format": "something-else"}', "This is not an Offload backup"),
    (None, "The archive has no manifest.json"),
])
def test_a_missing_or_foreign_manifest_is_refused(tmp_path, manifest, message):
    path = tmp_path / "a.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        if manifest is not None:
            info = tarfile.TarInfo("manifest.json")
            info.size = len(manifest)
            tar.addfile(info, io.BytesIO(manifest))

    with pytest.raises(BackupError, match=message):
        verify_archive(path)


def test_a_file_count_that_disagrees_with_the_files_is_refused(tmp_path):
    checksums = {"database.sqlite3": hashlib.sha256(DUMP).hexdigest()}
    archive = _archive(tmp_path / "a.tar.gz", {"database.sqlite3": DUMP},
                       manifest=_manifest(checksums, file_count=3))

    with pytest.raises(BackupError, match="its file count does not match"):
        verify_archive(archive)


def test_something_that_is_not_a_tar_gz_is_refused(tmp_path):
    path = tmp_path / "a.tar.gz"
    path.write_bytes(b"PK\x03\x04 a zip, say")

    with pytest.raises(BackupError, match="is not a readable .tar.gz archive"):
        verify_archive(path)
