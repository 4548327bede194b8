"""The configured database, dumped and restored: SQLite and PostgreSQL.

SQLite goes through its online backup API both ways: it copies a consistent snapshot
while the site writes (WAL included), and writing into the target through SQLite
leaves no stale ``-wal`` file beside it to be replayed over the restored pages.

PostgreSQL goes through ``pg_dump --format=custom``, and back through ``pg_restore``
(to a script) and ``psql`` (the schema emptied and the script run in one transaction:
the database ends with exactly the dump's objects, or as it was). A client older
than the server cannot dump it (and may fail half-way, or worse, succeed with a dump
that misses what it does not know), so each tool's major version is checked against
``server_version_num`` first. Host, port, user, password and database reach the tools
as ``PG*`` environment variables: a command line is visible to every user in ``ps``.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL

from offload.core.db import db

from .archive import BackupError, Manifest

TOOL_DIRS = "/usr/lib/postgresql/*/bin"
# URL query parameters libpq also reads from the environment
_LIBPQ_QUERY_ENV = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
                    "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "host": "PGHOST",
                    "port": "PGPORT", "connect_timeout": "PGCONNECT_TIMEOUT",
                    "application_name": "PGAPPNAME", "options": "PGOPTIONS"}


def dialect_name() -> str:
    return db.engine.dialect.name


def table_names() -> list[str]:
    """The tables in the configured database (its default schema on PostgreSQL)."""
    return inspect(db.engine).get_table_names()


def current_revision() -> str | None:
    """The Alembic revision the configured database is at (None: never migrated)."""
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _scripts() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def head_revision() -> str | None:
    return _scripts().get_current_head()


def is_known_revision(revision: str) -> bool:
    return any(script.revision == revision for script in _scripts().walk_revisions())


# --- SQLite -------------------------------------------------------------------------

def _sqlite_path() -> Path:
    database = db.engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError(f"The SQLite database {database or '(in memory)'!r} is not a file "
                          "Offload can back up or restore.")
    return Path(database)


def dump_sqlite(target: Path) -> dict:
    """Copy the live database into ``target`` (a new file) through the backup API."""
    source_path = _sqlite_path()
    if not source_path.is_file():
        raise BackupError(f"The SQLite database {source_path} does not exist.")
    source = sqlite3.connect(source_path, timeout=30)  # reads only
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)
        # one self-contained file in the archive, whatever the live database's journal
        copy.execute("PRAGMA journal_mode=DELETE")
        (check,) = copy.execute("PRAGMA quick_check").fetchone()
    except sqlite3.Error as e:
        raise BackupError(f"Copying the SQLite database failed: {e}.") from e
    finally:
        copy.close()
        source.close()
    if check != "ok":
        raise BackupError(f"The copy of the SQLite database fails its check: {check}.")
    return {"sqlite_version": sqlite3.sqlite_version}


def restore_sqlite(dump: Path) -> None:
    """Write ``dump`` over the configured database file (created if missing) in one
    SQLite transaction: it is either the old database or the restored one."""
    target_path = _sqlite_path()
    target_path.parent.mkdir(parents=True, exist_ok=True)
    db.engine.dispose()  # no pooled connection of ours holds a lock on it
    source = sqlite3.connect(f"{dump.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        source.backup(target)
    except sqlite3.Error as e:
        raise BackupError(f"Writing the SQLite database {target_path} failed: {e}. "
                          "It was left as it was.") from e
    finally:
        target.close()
        source.close()


# --- PostgreSQL ---------------------------------------------------------------------

@dataclass(frozen=True)
class Tool:
    path: str
    major: int


def pg_environment(url: URL) -> dict[str, str]:
    """The environment for a libpq tool to reach ``url``'s database: the process's own,
    with the connection details as PG* variables (the password never on a command line)."""
    env = dict(os.environ)
    for key, value in {"PGHOST": url.host, "PGPORT": url.port, "PGUSER": url.username,
                       "PGPASSWORD": url.password, "PGDATABASE": url.database}.items():
        if value is not None:
            env[key] = str(value)
    for name, value in url.query.items():
        if name in _LIBPQ_QUERY_ENV:
            env[_LIBPQ_QUERY_ENV[name]] = value if isinstance(value, str) else value[-1]
    return env


def _tool_major(path: str, env: dict[str, str]) -> int | None:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, env=env,
                             timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def find_tool(name: str, env: dict[str, str]) -> Tool:
    """The newest ``name`` (pg_dump, pg_restore) on PATH or in /usr/lib/postgresql/*/bin:
    a newer client handles every older server, never the other way round."""
    candidates = [shutil.which(name, path=env.get("PATH")),
                  *sorted(glob.glob(f"{TOOL_DIRS}/{name}"))]
    tools = [Tool(path, major) for path in dict.fromkeys(c for c in candidates if c)
             if (major := _tool_major(path, env)) is not None]
    if not tools:
        raise BackupError(f"{name} was not found on PATH nor in {TOOL_DIRS}: install the "
                          "PostgreSQL client tools (Debian: postgresql-client) of the "
                          "server's major version or newer.")
    return max(tools, key=lambda tool: tool.major)


def check_tool_version(name: str, tool: Tool, server_major: int) -> None:
    """Refuse a client older than the server it is to work on."""
    if tool.major < server_major:
        raise BackupError(
            f"{name} {tool.major} ({tool.path}) is older than the PostgreSQL {server_major} "
            f"server, which it cannot handle: install postgresql-client-{server_major} (or "
            f"newer) and put its bin directory on PATH, e.g. "
            f"/usr/lib/postgresql/{server_major}/bin.")


def server_major() -> int:
    with db.engine.connect() as conn:
        return int(conn.scalar(text("SHOW server_version_num"))) // 10000


def _run(tool: Tool, name: str, args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run([tool.path, *args], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-5:]
        raise BackupError(f"{name} failed (exit status {result.returncode}):\n  "
                          + "\n  ".join(detail or ["(no message)"]))


def dump_postgresql(target: Path) -> dict:
    url = db.engine.url
    env = pg_environment(url)
    major = server_major()
    tool = find_tool("pg_dump", env)
    check_tool_version("pg_dump", tool, major)
    _run(tool, "pg_dump", ["--format=custom", "--no-password", f"--file={target}"], env)
    return {"server_major": major, "pg_dump_major": tool.major}


@dataclass(frozen=True)
class RestoreTools:
    pg_restore: Tool
    psql: Tool


def check_postgresql_restore(manifest: Manifest) -> RestoreTools:
    """The pg_restore and psql to use, once they and the server are known to fit the
    dump: a pg_restore at least as new as the server and as the pg_dump that wrote the
    archive (an older one cannot read its format), the psql beside it (it runs the
    script that pg_restore writes), a server at least as new as the one dumped."""
    env = pg_environment(db.engine.url)
    major = server_major()
    tool = find_tool("pg_restore", env)
    check_tool_version("pg_restore", tool, major)
    dumped_by = int(manifest.database.get("pg_dump_major", 0))
    if tool.major < dumped_by:
        raise BackupError(f"The archive was written by pg_dump {dumped_by}; pg_restore "
                          f"{tool.major} ({tool.path}) cannot read it: install "
                          f"postgresql-client-{dumped_by} or newer.")
    dumped_from = int(manifest.database.get("server_major", 0))
    if major < dumped_from:
        raise BackupError(f"The archive comes from a PostgreSQL {dumped_from} server; this one "
                          f"is PostgreSQL {major}, and PostgreSQL does not restore into an "
                          f"older major version: restore into PostgreSQL {dumped_from} or newer.")
    beside = str(Path(tool.path).with_name("psql"))
    psql_major = _tool_major(beside, env)
    psql = Tool(beside, psql_major) if psql_major is not None else find_tool("psql", env)
    check_tool_version("psql", psql, major)
    return RestoreTools(pg_restore=tool, psql=psql)


# Run first, in the restore's transaction: every table, view, sequence, type and routine
# of the database's schema goes (not an extension's), so the database ends with exactly
# the dump's objects. pg_restore --clean drops only what the dump names: a table a newer
# migration added would survive it (or block it, through a foreign key). Names are
# collected before the first DROP, since CASCADE removes some of the later ones.
EMPTY_SCHEMA = """
DO $empty$
DECLARE
  statements text[];
  statement text;
BEGIN
  SELECT coalesce(array_agg(format('DROP ROUTINE IF EXISTS %I.%I(%s) CASCADE', n.nspname,
                                   p.proname, pg_get_function_identity_arguments(p.oid))), '{}')
    INTO statements
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = current_schema()
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                     AND d.objid = p.oid AND d.deptype = 'e');
  SELECT statements || coalesce(array_agg(format('DROP %s IF EXISTS %I.%I CASCADE',
           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
             WHEN 'S' THEN 'SEQUENCE' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
           n.nspname, c.relname)), '{}')
    INTO statements
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                     AND d.objid = c.oid AND d.deptype = 'e');
  SELECT statements || coalesce(array_agg(format('DROP %s IF EXISTS %I.%I CASCADE',
           CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, n.nspname, t.typname)), '{}')
    INTO statements
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = current_schema()
     AND (t.typtype IN ('e', 'd', 'r')  -- a range's multirange goes with it
          OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
     AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                     AND d.objid = t.oid AND d.deptype = 'e');
  FOREACH statement IN ARRAY statements LOOP
    EXECUTE statement;
  END LOOP;
END
$empty$;
"""


def restore_postgresql(dump: Path, tools: RestoreTools) -> None:
    """Replace everything in the configured database's schema with the dump, in one
    transaction (on an error nothing of it stays, and nothing was dropped).

    pg_restore writes the dump out as a script beside it; psql runs the emptying of the
    schema and that script as one transaction. A script cut short by pg_restore is
    never run: psql would commit whatever it had read."""
    url = db.engine.url
    env = pg_environment(url)
    script = dump.with_name(dump.name + ".sql")
    _run(tools.pg_restore, "pg_restore", ["--no-owner", "--exit-on-error", "--no-password",
                                          f"--file={script}", str(dump)], env)
    empty = dump.with_name("empty-schema.sql")
    empty.write_text(EMPTY_SCHEMA)
    db.engine.dispose()  # our idle connections would hold locks its DROPs wait for
    _run(tools.psql, "psql", ["--no-psqlrc", "--quiet", "--no-password",
                              "--single-transaction", "--set=ON_ERROR_STOP=1",
                              f"--dbname={url.database}", f"--file={empty}",
                              f"--file={script}"], env)


# --- either -------------------------------------------------------------------------

def dump_database(target: Path) -> dict:
    """Dump the configured database to ``target``; what the dump came from, for the
    manifest."""
    return dump_sqlite(target) if dialect_name() == "sqlite" else dump_postgresql(target)


def restore_database(dump: Path, manifest: Manifest) -> None:
    """Restore ``dump`` into the configured database, once the tools are known to fit."""
    if dialect_name() == "sqlite":
        restore_sqlite(dump)
    else:
        restore_postgresql(dump, check_postgresql_restore(manifest))
