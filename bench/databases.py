"""Scratch databases for the benchmarks: a SQLite file in a temporary folder, or a
throwaway PostgreSQL 15 cluster on a free 127.0.0.1 port (``OFFLOAD_BENCH_DATABASE_URL``
to use a scratch database of your own instead), removed at the end even on error."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="bench-sqlite-") as tmp:
        yield f"sqlite:///{tmp}/bench.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgresql_database(name: str = "offload_bench") -> Iterator[str]:
    if os.environ.get("OFFLOAD_BENCH_DATABASE_URL"):
        yield os.environ["OFFLOAD_BENCH_DATABASE_URL"]
        return
    pgbin = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
    if not (pgbin / "initdb").exists():
        raise FileNotFoundError(f"no PostgreSQL server binaries in {pgbin} (set PG_BIN or "
                                "OFFLOAD_BENCH_DATABASE_URL, or --databases sqlite)")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    data, port = root / "data", free_port()
    started = False
    try:
        if as_postgres:
            shutil.chown(root, "postgres", "postgres")
        subprocess.run([*as_postgres, pgbin / "initdb", "-D", data, "-U", "postgres", "-A",
                        "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], check=True,
                       capture_output=True)
        subprocess.run([*as_postgres, pgbin / "pg_ctl", "-D", data, "-l", root / "server.log",
                        "-w", "-t", "60", "-o", f"-c listen_addresses=127.0.0.1 -c port={port} "
                        f"-c unix_socket_directories={root}", "start"], check=True,
                       capture_output=True)
        started = True
        subprocess.run([pgbin / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U",
                        "postgres", name], check=True, capture_output=True)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
    finally:
        if started:
            subprocess.run([*as_postgres, pgbin / "pg_ctl", "-D", data, "-m", "fast", "-w",
                            "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def server_version(url: str) -> str:
    if url.startswith("sqlite"):
        return f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=FULL)"
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    with engine.connect() as conn:
        version = conn.execute(text("SHOW server_version")).scalar()
        fsync = conn.execute(text("SHOW fsync")).scalar()
        sync = conn.execute(text("SHOW synchronous_commit")).scalar()
    engine.dispose()
    return f"PostgreSQL {version} (fsync={fsync}, synchronous_commit={sync})"
