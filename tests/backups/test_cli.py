"""``flask backup create`` and ``flask backup restore`` on the suite's database (SQLite,
or PostgreSQL with OFFLOAD_TEST_DATABASE_URL): data made through the services, backed
up, the site lost, restored into a new database and upload folder, then checked by the
ledger check, the file's bytes and the member's pages."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import select, text

from offload.accounts.models import User
from offload.backups import databases
from offload.conversations.models import OfferMessageAttachment
from offload.conversations.services import send_offer_message
from offload.core.db import db
from offload.offers.models import Offer
from tests.support.factories import PASSWORD, PDF, fund, new_member, new_project, upload

SPEC = PDF + b"% the client's spec, byte for byte\n" + bytes(range(256))


def _make_world(site) -> dict:
    """Members, a deposit, a project with a file sent in its conversation."""
    with site.app.app_context():
        poster = new_member("poster", display_name="Paula Poster")
        performer = new_member("performer")
        fund(poster, 750_00)
        project = new_project(poster, performer, title="Port the billing service")
        offer = db.session.get(Offer, project.offer_id)
        send_offer_message(offer, actor=poster, body="The spec is attached.",
                           file_storage=upload(SPEC, "billing-spec.pdf"))
        stored = db.session.scalar(select(OfferMessageAttachment.stored_name))
        world = {"project_id": project.id, "stored_name": stored}
        db.session.remove()
    return world


def _logged_in(site, username: str):
    client = site.app.test_client()
    response = client.post("/login", data={"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def _backup(site, path: Path) -> Path:
    result = site.cli("backup", "create", str(path))
    assert result.exit_code == 0, result.output
    return path


def _entries(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar}


def _rewrite(archive: Path, target: Path, change) -> Path:
    """A copy of ``archive`` with ``change(entries)`` applied to its members' bytes."""
    entries = _entries(archive)
    change(entries)
    with tarfile.open(target, "w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return target


def test_a_backup_restored_into_a_new_database_is_the_same_site(new_site, tmp_path):
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    source.drop()

    target = new_site("target", schema=False)
    result = target.cli("backup", "restore", str(archive))

    assert result.exit_code == 0, result.output
    assert "1 uploaded file(s)" in result.stdout
    assert "at this code's migration head" in result.stdout
    ledger = target.cli("ledger", "check")
    assert ledger.exit_code == 0, ledger.output
    assert "ledger check passed" in ledger.stdout
    assert (target.uploads / world["stored_name"]).read_bytes() == SPEC
    client = _logged_in(target, "poster")
    page = client.get(f"/projects/{world['project_id']}").get_data(as_text=True)
    assert "Port the billing service" in page
    assert "The spec is attached." in page and "billing-spec.pdf" in page
    wallet = client.get("/wallet").get_data(as_text=True)
    assert '<strong data-balance="available">$750.00</strong>' in wallet
    # the archive's staging folders are gone
    assert sorted(p.name for p in target.uploads.parent.iterdir()
                  if p.name.startswith(".")) == []


def test_the_archive_holds_a_manifest_the_dump_and_the_files(new_site, tmp_path):
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")

    entries = _entries(archive)
    manifest = json.loads(entries.pop("manifest.json"))
    dialect = "sqlite" if source.url.startswith("sqlite") else "postgresql"
    dump = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}[dialect]
    assert sorted(entries) == sorted([dump, f"uploads/{world['stored_name']}"])
    assert entries[f"uploads/{world['stored_name']}"] == SPEC
    with source.app.app_context():
        head = databases.head_revision()
    assert manifest["format_version"] == 1
    assert manifest["database"]["dialect"] == dialect
    assert manifest["database"]["alembic_revision"] == head
    assert manifest["file_count"] == 1
    assert manifest["app_version"]
    assert manifest["sha256"] == {name: hashlib.sha256(data).hexdigest()
                                  for name, data in entries.items()}
    assert archive.stat().st_mode & 0o077 == 0  # every member's data: the owner's only


def test_create_into_a_folder_names_the_archive_and_never_overwrites(new_site, tmp_path):
    source = new_site("source")
    folder = tmp_path / "backups"
    folder.mkdir()

    result = source.cli("backup", "create", str(folder))

    assert result.exit_code == 0, result.output
    (made,) = folder.iterdir()
    assert made.name.startswith("offload-backup-") and made.name.endswith(".tar.gz")
    again = source.cli("backup", "create", str(made))
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    missing = source.cli("backup", "create", str(tmp_path / "nowhere" / "b.tar.gz"))
    assert missing.exit_code == 1 and "does not exist" in missing.stderr
    assert sorted(p.name for p in folder.iterdir()) == [made.name]  # no temporary left


def test_restore_refuses_a_database_with_tables_unless_forced(new_site, tmp_path):
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = new_site("target")  # a schema: tables, though no rows
    with target.app.app_context():
        new_member("latecomer")
        db.session.remove()
    target.uploads.mkdir(parents=True, exist_ok=True)
    (target.uploads / "stray.pdf").write_bytes(PDF)

    refused = target.cli("backup", "restore", str(archive))

    assert refused.exit_code == 1
    assert "The configured database is not empty" in refused.stderr
    assert "--force" in refused.stderr
    forced = target.cli("backup", "restore", "--force", str(archive))
    assert forced.exit_code == 0, forced.output
    with target.app.app_context():
        assert sorted(db.session.scalars(select(User.username))) == ["performer", "poster"]
        db.session.remove()
    assert sorted(p.name for p in target.uploads.iterdir()) == [world["stored_name"]]
    assert target.cli("ledger", "check").exit_code == 0


def test_restore_refuses_files_in_the_upload_folder_unless_forced(new_site, tmp_path):
    archive = _backup(new_site("source"), tmp_path / "offload.tar.gz")
    target = new_site("target", schema=False)
    target.uploads.mkdir(parents=True)
    (target.uploads / "stray.pdf").write_bytes(PDF)

    refused = target.cli("backup", "restore", str(archive))

    assert refused.exit_code == 1
    assert "already holds 1 file(s)" in refused.stderr
    with target.app.app_context():
        assert databases.table_names() == []


@pytest.mark.parametrize("damage", ["a file's bytes", "the dump's bytes", "a member added",
                                    "a member removed", "cut short"])
def test_a_damaged_archive_is_refused_and_nothing_restored(new_site, tmp_path, damage):
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    file_name = f"uploads/{world['stored_name']}"
    dump = next(name for name in _entries(archive) if name.startswith("database."))
    bad = tmp_path / "bad.tar.gz"
    if damage == "cut short":
        bad.write_bytes(archive.read_bytes()[:-4096])
    else:
        changes = {
            "a file's bytes": lambda e: e.update(
                {file_name: e[file_name].replace(b"spec", b"spek")}),
            "the dump's bytes": lambda e: e.update(  # its last byte, every bit flipped
                {dump: e[dump][:-1] + bytes([~e[dump][-1] & 255])}),
            "a member added": lambda e: e.update({"uploads/extra.pdf": PDF}),
            "a member removed": lambda e: e.pop(file_name),
        }
        _rewrite(archive, bad, changes[damage])
    target = new_site("target", schema=False)

    result = target.cli("backup", "restore", str(bad))

    assert result.exit_code == 1
    expected = {"a file's bytes": "does not match its checksum",
                "the dump's bytes": "does not match its checksum",
                "a member added": "which its manifest does not list",
                "a member removed": "is incomplete",
                "cut short": "damaged or cut short"}[damage]
    assert expected in result.stderr
    with target.app.app_context():
        assert databases.table_names() == []
    assert not target.uploads.exists() or list(target.uploads.iterdir()) == []
    assert [p.name for p in target.uploads.parent.iterdir() if p.name.startswith(".")] == []


def test_an_archive_of_a_newer_format_or_migration_is_refused(new_site, tmp_path):
    archive = _backup(new_site("source"), tmp_path / "offload.tar.gz")

    def manifest_with(**changes):
        def change(entries):
            manifest = json.loads(entries["manifest.json"])
            for key, value in changes.items():
                if key == "alembic_revision":
                    manifest["database"][key] = value
                else:
                    manifest[key] = value
            entries["manifest.json"] = json.dumps(manifest).encode()
        return change

    newer_format = _rewrite(archive, tmp_path / "v2.tar.gz",
                            manifest_with(format_version=2, app_version="9.0.0"))
    newer_schema = _rewrite(archive, tmp_path / "rev.tar.gz",
                            manifest_with(alembic_revision="ffffffffffff", app_version="9.0.0"))
    target = new_site("target", schema=False)

    format_result = target.cli("backup", "restore", str(newer_format))
    schema_result = target.cli("backup", "restore", str(newer_schema))

    assert format_result.exit_code == 1
    assert ("The archive is in backup format version 2, made by Offload 9.0.0; this Offload "
            "reads version 1") in format_result.stderr
    assert schema_result.exit_code == 1
    assert ("at migration ffffffffffff, which this code does not have: it was made by a "
            "newer Offload (9.0.0)") in schema_result.stderr
    with target.app.app_context():
        assert databases.table_names() == []


def test_a_restore_behind_the_code_tells_the_operator_to_upgrade(new_site, tmp_path):
    source = new_site("source")
    with source.app.app_context():
        scripts = ScriptDirectory(source.app.extensions["migrate"].directory)
        head = scripts.get_current_head()
        before = scripts.get_revision(head).down_revision
        stamp(revision=before)  # as if made before the newest migration
        db.session.remove()
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = new_site("target", schema=False)

    result = target.cli("backup", "restore", str(archive))

    assert result.exit_code == 0, result.output
    assert (f"The database is at migration {before}, behind this code's {head}: "
            "run `flask db upgrade` before starting the site.") in result.stderr


def test_a_missing_archive_is_a_clear_failure(new_site, tmp_path):
    target = new_site("target", schema=False)

    result = target.cli("backup", "restore", str(tmp_path / "no-such.tar.gz"))

    assert result.exit_code == 1
    assert f"No backup archive at {tmp_path / 'no-such.tar.gz'}" in result.stderr


def test_a_backup_taken_while_a_write_is_open_holds_what_was_committed(new_site, tmp_path):
    """The site keeps running: a transaction open during the backup neither blocks it
    nor leaks into it."""
    source = new_site("source")
    world = _make_world(source)
    with source.app.app_context(), db.engine.connect() as conn:
        writing = conn.begin()
        conn.execute(text("UPDATE users SET display_name = 'Not Yet' WHERE username = 'poster'"))
        try:
            archive = _backup(source, tmp_path / "offload.tar.gz")
        finally:
            writing.rollback()
    target = new_site("target", schema=False)

    assert target.cli("backup", "restore", str(archive)).exit_code == 0

    with target.app.app_context():
        assert db.session.scalar(select(User.display_name).where(
            User.username == "poster")) == "Paula Poster"
        db.session.remove()
    assert (target.uploads / world["stored_name"]).read_bytes() == SPEC


def test_a_dump_the_database_cannot_take_leaves_the_files_out_too(new_site, tmp_path):
    """Checksums vouch for the bytes, not that they are a database: when the database
    refuses them, the files stay unpacked aside and are removed, not put in place."""
    source = new_site("source")
    _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")

    def junk_dump(entries):
        manifest = json.loads(entries["manifest.json"])
        dump = manifest["database"]["file"]
        entries[dump] = b"this is no database at all\n" * 100
        manifest["sha256"][dump] = hashlib.sha256(entries[dump]).hexdigest()
        entries["manifest.json"] = json.dumps(manifest).encode()

    junk = _rewrite(archive, tmp_path / "junk.tar.gz", junk_dump)
    target = new_site("target", schema=False)

    result = target.cli("backup", "restore", str(junk))

    assert result.exit_code == 1
    assert result.stderr.startswith("restore FAILED: ")
    assert ("Writing the SQLite database" in result.stderr
            or "pg_restore failed (exit status 1)" in result.stderr), result.stderr
    with target.app.app_context():
        assert databases.table_names() == []
    assert not target.uploads.exists()
    assert [p.name for p in target.uploads.parent.iterdir() if p.name.startswith(".")] == []


def _forced_target(new_site, name="target", stray: bool = True):
    """A site with a member (and a stray file) of its own, for a ``--force`` restore."""
    target = new_site(name)
    with target.app.app_context():
        new_member("latecomer")
        db.session.remove()
    if stray:
        target.uploads.mkdir(parents=True, exist_ok=True)
        (target.uploads / "stray.pdf").write_bytes(PDF)
    return target


def _usernames(site) -> list[str]:
    with site.app.app_context():
        names = sorted(db.session.scalars(select(User.username)))
        db.session.remove()
    return names


def _hidden_beside(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


def test_a_symlinked_upload_folder_keeps_its_link_and_gets_only_the_backups_files(
        new_site, tmp_path):
    """The folder may be a link to a volume: the restored files go into the volume, and
    the files that were there go (they used to stay behind, unseen, in the volume)."""
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = _forced_target(new_site, stray=False)
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "stray.pdf").write_bytes(PDF)
    target.uploads.symlink_to(volume, target_is_directory=True)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 0, result.output
    assert target.uploads.is_symlink() and target.uploads.resolve() == volume.resolve()
    assert sorted(p.name for p in volume.iterdir()) == [world["stored_name"]]
    assert (volume / world["stored_name"]).read_bytes() == SPEC
    assert _usernames(target) == ["performer", "poster"]
    assert _hidden_beside(target.uploads) == [] and _hidden_beside(volume) == []


def test_an_upload_folder_that_cannot_be_renamed_is_restored_in_place(
        new_site, tmp_path, monkeypatch):
    """A mount point (a Docker volume) refuses to be renamed with EBUSY: the restore
    replaces the folder's contents, never the folder."""
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = _forced_target(new_site)
    mount_point = os.path.realpath(target.uploads)
    real_rename = os.rename

    def rename(src, dst, *args, **kwargs):
        if os.path.realpath(src) == mount_point:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(src))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in target.uploads.iterdir()) == [world["stored_name"]]
    assert _usernames(target) == ["performer", "poster"]
    assert _hidden_beside(target.uploads) == []


def test_when_the_files_cannot_be_put_in_place_the_database_is_untouched(
        new_site, tmp_path, monkeypatch):
    """Whatever would stop the files going into the upload folder stops the restore
    before the database is touched: never the backup's database with the old files."""
    source = new_site("source")
    _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = _forced_target(new_site)
    folder = os.path.realpath(target.uploads)
    real_rename = os.rename

    def in_folder(path) -> bool:
        path = os.path.realpath(path)
        return path == folder or path.startswith(folder + os.sep)

    def rename(src, dst, *args, **kwargs):  # e.g. a folder owned by another user
        if in_folder(src) or in_folder(dst):
            raise OSError(errno.EACCES, os.strerror(errno.EACCES), str(src))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 1
    assert result.stderr.startswith("restore FAILED: ")
    assert _usernames(target) == ["latecomer"]
    assert "nothing was restored" in result.stderr.lower(), result.stderr
    assert sorted(p.name for p in target.uploads.iterdir()) == ["stray.pdf"]
    assert _hidden_beside(target.uploads) == []


def test_replaced_files_that_cannot_be_removed_are_reported(new_site, tmp_path, monkeypatch):
    """The restore is done, but the old files it could not remove are named, not kept
    silently."""
    source = new_site("source")
    world = _make_world(source)
    archive = _backup(source, tmp_path / "offload.tar.gz")
    target = _forced_target(new_site)
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if Path(path).name.startswith(".offload-replaced-"):
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY), str(path))
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(shutil, "rmtree", rmtree)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 0, result.output
    assert "The replaced files could not all be removed: " in result.stderr
    (kept,) = [p for p in target.uploads.iterdir() if p.name.startswith(".")]
    assert kept.name in result.stderr and (kept / "stray.pdf").exists()
    assert (target.uploads / world["stored_name"]).read_bytes() == SPEC
