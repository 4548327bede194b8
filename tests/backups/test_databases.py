"""The database side: the PostgreSQL tools' versions and how they are reached, and a
backup of another database kind refused."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from offload.backups import databases
from offload.backups.archive import BackupError
from offload.backups.databases import Tool, check_tool_version, find_tool, pg_environment
from offload.core.db import db
from tests.support.factories import new_member


def test_a_client_older_than_the_server_is_refused_with_what_to_install():
    with pytest.raises(BackupError) as refused:
        check_tool_version("pg_dump", Tool("/usr/bin/pg_dump", 14), 15)

    assert str(refused.value) == (
        "pg_dump 14 (/usr/bin/pg_dump) is older than the PostgreSQL 15 server, which it "
        "cannot handle: install postgresql-client-15 (or newer) and put its bin directory "
        "on PATH, e.g. /usr/lib/postgresql/15/bin.")
    check_tool_version("pg_dump", Tool("/usr/bin/pg_dump", 15), 15)
    check_tool_version("pg_dump", Tool("/usr/bin/pg_dump", 16), 15)


def test_the_newest_client_found_is_used(monkeypatch):
    majors = {"/usr/bin/pg_dump": 13, "/usr/lib/postgresql/13/bin/pg_dump": 13,
              "/usr/lib/postgresql/16/bin/pg_dump": 16, "/usr/lib/postgresql/9/bin/pg_dump": None}
    monkeypatch.setattr(databases.shutil, "which", lambda name, path=None: "/usr/bin/pg_dump")
    monkeypatch.setattr(databases.glob, "glob", lambda pattern: [
        "/usr/lib/postgresql/13/bin/pg_dump", "/usr/lib/postgresql/16/bin/pg_dump",
        "/usr/lib/postgresql/9/bin/pg_dump"])
    monkeypatch.setattr(databases, "_tool_major", lambda path, env: majors[path])

    assert find_tool("pg_dump", {}) == Tool("/usr/lib/postgresql/16/bin/pg_dump", 16)


def test_no_client_at_all_says_what_to_install(monkeypatch):
    monkeypatch.setattr(databases.shutil, "which", lambda name, path=None: None)
    monkeypatch.setattr(databases.glob, "glob", lambda pattern: [])

    with pytest.raises(BackupError, match=r"pg_restore was not found on PATH nor in "
                                          r"/usr/lib/postgresql/\*/bin: install"):
        find_tool("pg_restore", {})


def test_connection_details_reach_the_tools_through_the_environment():
    url = make_url("postgresql+psycopg://offload:s3cr%40t@db.example:6543/offload_prod"
                   "?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem")

    env = pg_environment(url)

    assert {key: env[key] for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD",
                                      "PGDATABASE", "PGSSLMODE", "PGSSLROOTCERT")} == {
        "PGHOST": "db.example", "PGPORT": "6543", "PGUSER": "offload",
        "PGPASSWORD": "s3cr@t", "PGDATABASE": "offload_prod", "PGSSLMODE": "verify-full",
        "PGSSLROOTCERT": "/etc/ssl/ca.pem"}


def test_an_archive_of_another_database_kind_is_refused(new_site, tmp_path):
    source = new_site("source")
    archive = tmp_path / "offload.tar.gz"
    assert source.cli("backup", "create", str(archive)).exit_code == 0
    with tarfile.open(archive, "r:gz") as tar:
        entries = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = json.loads(entries.pop("manifest.json"))
    mine, other = manifest["database"]["dialect"], {"sqlite": "postgresql",
                                                    "postgresql": "sqlite"}
    dumps = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
    manifest["database"].update(dialect=other[mine], file=dumps[other[mine]])
    manifest["sha256"][dumps[other[mine]]] = manifest["sha256"].pop(dumps[mine])
    entries[dumps[other[mine]]] = entries.pop(dumps[mine])
    entries["manifest.json"] = json.dumps(manifest).encode()
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    target = new_site("target", schema=False)

    result = target.cli("backup", "restore", str(foreign))

    assert result.exit_code == 1
    assert (f"The archive holds a {other[mine]} database; the configured one is {mine}."
            in result.stderr)


@pytest.mark.postgres_only
def test_pg_dump_older_than_the_server_is_refused_and_writes_nothing(
        new_site, tmp_path, monkeypatch):
    source = new_site("source")
    with source.app.app_context():
        server = databases.server_major()
    monkeypatch.setattr(databases, "_tool_major", lambda path, env: server - 1)

    result = source.cli("backup", "create", str(tmp_path / "offload.tar.gz"))

    assert result.exit_code == 1
    assert (f"pg_dump {server - 1} (" in result.stderr
            and f") is older than the PostgreSQL {server} server" in result.stderr)
    assert list(tmp_path.glob("*.tar.gz")) == [] and list(tmp_path.glob(".offload-*")) == []


@pytest.mark.postgres_only
def test_pg_restore_older_than_the_server_is_refused_before_restoring(
        new_site, tmp_path, monkeypatch):
    source = new_site("source")
    archive = tmp_path / "offload.tar.gz"
    assert source.cli("backup", "create", str(archive)).exit_code == 0
    target = new_site("target", schema=False)
    with target.app.app_context():
        server = databases.server_major()
    monkeypatch.setattr(databases, "_tool_major", lambda path, env: server - 1)

    result = target.cli("backup", "restore", str(archive))

    assert result.exit_code == 1
    assert f") is older than the PostgreSQL {server} server" in result.stderr
    assert result.stderr.startswith("restore FAILED: pg_restore ")
    with target.app.app_context():
        assert databases.table_names() == []


@pytest.mark.postgres_only
def test_the_password_never_reaches_a_command_line(new_site, tmp_path, monkeypatch):
    """The tools get the connection from PG* variables; their arguments name files and
    the database only (``ps`` shows arguments to every user of the machine)."""
    source = new_site("source", password="s3cret-pw")
    calls = []
    real_run = subprocess.run

    def recording_run(args, **kwargs):
        calls.append((list(args), kwargs.get("env") or {}))
        return real_run(args, **kwargs)

    monkeypatch.setattr(databases.subprocess, "run", recording_run)
    archive = tmp_path / "offload.tar.gz"

    assert source.cli("backup", "create", str(archive)).exit_code == 0
    target = new_site("target", schema=False, password="s3cret-pw")
    assert target.cli("backup", "restore", str(archive)).exit_code == 0

    runs = [(args, env) for args, env in calls if "--version" not in args]
    assert [args[0].rsplit("/", 1)[-1] for args, _ in runs] == ["pg_dump", "pg_restore",
                                                                "psql"]
    for args, env in runs:
        assert env["PGPASSWORD"] == "s3cret-pw" and env["PGHOST"] and env["PGDATABASE"]
        assert not any("s3cret" in arg or "://" in arg or "host=" in arg
                       for arg in args), args


def _objects(site) -> dict[str, list[str]]:
    """The tables, sequences and types of the site's schema (PostgreSQL)."""
    kinds = {"tables": "SELECT relname FROM pg_class c JOIN pg_namespace n "
                       "ON n.oid = c.relnamespace WHERE nspname = current_schema() "
                       "AND relkind IN ('r', 'p', 'v', 'm')",
             "sequences": "SELECT sequence_name FROM information_schema.sequences "
                          "WHERE sequence_schema = current_schema()",
             "types": "SELECT typname FROM pg_type t JOIN pg_namespace n "
                      "ON n.oid = t.typnamespace WHERE nspname = current_schema() "
                      "AND typtype IN ('e', 'd')"}
    with site.app.app_context(), db.engine.connect() as conn:
        return {kind: sorted(conn.scalars(text(sql))) for kind, sql in kinds.items()}


def _add_newer_objects(site) -> None:
    """What a newer migration (or an operator) left: a table, a sequence, a type."""
    with site.app.app_context(), db.engine.begin() as conn:
        conn.execute(text("CREATE TYPE newer_mood AS ENUM ('calm', 'busy')"))
        conn.execute(text("CREATE SEQUENCE newer_numbers"))
        conn.execute(text("CREATE TABLE newer_things (id serial PRIMARY KEY, "
                          "mood newer_mood, owner_id integer REFERENCES users (id))"))
        conn.execute(text("INSERT INTO newer_things (mood, owner_id) "
                          "SELECT 'calm', id FROM users"))


@pytest.mark.postgres_only
def test_a_forced_restore_leaves_exactly_the_dumps_objects(new_site, tmp_path):
    """``--clean`` drops only what the dump holds: a table a newer migration added would
    survive and break the next ``flask db upgrade``. SQLite replaces the whole file;
    PostgreSQL must end the same way."""
    source = new_site("source")
    archive = tmp_path / "offload.tar.gz"
    assert source.cli("backup", "create", str(archive)).exit_code == 0
    expected = _objects(source)
    target = new_site("target")
    with target.app.app_context():
        new_member("latecomer")
        db.session.remove()
    _add_newer_objects(target)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 0, result.output
    assert _objects(target) == expected
    with target.app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM users")) == 0
        db.session.remove()


@pytest.mark.postgres_only
def test_a_forced_restore_that_fails_at_its_end_leaves_the_database_as_it_was(
        new_site, tmp_path, monkeypatch):
    """The drops and the restore are one transaction: a failure on the restore's last
    statement brings back the tables that were dropped, rows and all."""
    source = new_site("source")
    archive = tmp_path / "offload.tar.gz"
    assert source.cli("backup", "create", str(archive)).exit_code == 0
    target = new_site("target")
    with target.app.app_context():
        new_member("latecomer")
        db.session.remove()
    _add_newer_objects(target)
    before = _objects(target)
    real_run = databases._run

    def failing_last(tool, name, args, env):
        if name == "psql":  # one statement more, after the whole dump, that fails
            args = [*args, "--command=SELECT 1 / 0"]
        return real_run(tool, name, args, env)

    monkeypatch.setattr(databases, "_run", failing_last)

    result = target.cli("backup", "restore", "--force", str(archive))

    assert result.exit_code == 1
    assert "division by zero" in result.stderr, result.stderr
    assert _objects(target) == before
    with target.app.app_context():
        assert db.session.scalar(text("SELECT count(*) FROM newer_things")) == 1
        assert db.session.scalar(text("SELECT username FROM users")) == "latecomer"
        db.session.remove()
