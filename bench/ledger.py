"""Ledger throughput: posted transfers per second, one writer and four concurrent writers,
on SQLite and on PostgreSQL. Run with ``make bench-ledger`` (details: bench/README.md).

Each writer is a separate process (spawned, so each has its own interpreter, app,
engine and connection: threads would mostly measure the GIL). A writer posts one
transfer per transaction through ``post_batch``, exactly as the site does, for a fixed
time or number of transfers. Workloads:

- ``own pairs``: each writer moves 1 cent back and forth between two wallets of its
  own, so writers touch no common account;
- ``hot account``: every writer pays the platform revenue account, the row that every
  fee on the site credits, so writers queue for one row lock (PostgreSQL).

After each run ``flask ledger check`` must pass. The table goes to stdout and to
bench/results/ledger-<timestamp>.txt.

PostgreSQL: ``OFFLOAD_BENCH_DATABASE_URL`` if set (a scratch database: tables are
created if missing, nothing is dropped), else a throwaway cluster from
/usr/lib/postgresql/15/bin (override with PG_BIN) on a free 127.0.0.1 port, with the
server's durable defaults (fsync and synchronous_commit on), stopped and removed at
the end even on error.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `config` lives at the repository root
sys.path.insert(0, str(ROOT / "bench"))

from databases import postgresql_database, server_version, sqlite_database  # noqa: E402

WORKLOADS = ("own pairs", "hot account")
RUNS = (("own pairs", 1), ("own pairs", 4), ("hot account", 4))  # (workload, writers)


# --- one writer (a child process) -------------------------------------------------------------

def _writer(url: str, legs: list[tuple[int, int]], seconds: float, max_transfers: int,
            ready, results) -> None:
    """Post transfers alternating over ``legs`` until time or count runs out."""
    from sqlalchemy import text

    from offload import create_app
    from offload.core.db import db
    from offload.ledger.models import TransferKind
    from offload.ledger.services import Cause, Leg, post_batch

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    logging.getLogger("offload.ledger").setLevel(logging.WARNING)  # no log line per transfer
    latencies: list[float] = []
    errors: list[str] = []
    with app.app_context():
        db.session.execute(text("SELECT 1"))  # connect before the clock starts
        db.session.rollback()
        ready.wait(timeout=120)
        start, cpu_start = time.perf_counter(), time.process_time()
        deadline = start + seconds
        n = 0
        while n < max_transfers and time.perf_counter() < deadline:
            debit, credit = legs[n % len(legs)]
            t0 = time.perf_counter()
            try:
                post_batch([Leg(debit, credit, 1, TransferKind.TRANSFER)],
                           cause=Cause("bench"), actor_id=None)
            except Exception as e:  # noqa: BLE001 - reported, and fails the run
                errors.append(f"{type(e).__name__}: {e}"[:200])
            else:
                latencies.append(time.perf_counter() - t0)
            n += 1
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        db.session.remove()
    results.put((len(latencies), elapsed, latencies, errors, cpu))


# --- the parent ------------------------------------------------------------------------------

@dataclass
class Row:
    database: str
    workload: str
    writers: int
    transfers: int
    seconds: float
    p50_ms: float
    p99_ms: float
    writer_cpu: float  # the writers' own CPU time over their wall time, on average
    errors: int
    check: str
    check_seconds: float

    @property
    def per_second(self) -> float:
        return self.transfers / self.seconds if self.seconds else 0.0


def _prepare_accounts(url: str, workload: str, writers: int) -> list[list[tuple[int, int]]]:
    """Fresh members and funded wallets for one run; each writer's list of (debit, credit)."""
    from offload import create_app
    from offload.accounts.models import User
    from offload.core.db import atomic, db
    from offload.ledger.models import AccountKind, TransferKind
    from offload.ledger.services import Cause, Leg, post_batch, system_account, wallet_account

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()  # no-op when the tables exist
        tag = uuid.uuid4().hex[:10]
        users = [User(username=f"b{tag}{i}", email=f"b{tag}{i}@bench.invalid",
                      password_hash="-", display_name="Bench") for i in range(2 * writers)]
        db.session.add_all(users)
        db.session.commit()
        with atomic():
            external = system_account(AccountKind.EXTERNAL).id
            revenue = system_account(AccountKind.PLATFORM_REVENUE).id
            wallets = [wallet_account(u.id).id for u in users]
        for w in wallets:
            post_batch([Leg(external, w, 10**12, TransferKind.TRANSFER)], cause=Cause("bench"),
                       actor_id=None)
        db.session.remove()
        db.engine.dispose()
    pairs = [(wallets[2 * i], wallets[2 * i + 1]) for i in range(writers)]
    if workload == "hot account":
        return [[(a, revenue), (b, revenue)] for a, b in pairs]
    return [[(a, b), (b, a)] for a, b in pairs]


def _ledger_check(url: str) -> tuple[str, float]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "offload", "ledger", "check"],
                          cwd=ROOT, env={**os.environ, "DATABASE_URL": url},
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        print(done.stdout + done.stderr, file=sys.stderr)
        return "FAILED", elapsed
    return "passed", elapsed


def run_one(database: str, url: str, workload: str, writers: int, seconds: float,
            max_transfers: int) -> Row:
    legs = _prepare_accounts(url, workload, writers)
    ctx = mp.get_context("spawn")
    ready, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(url, legs[i], seconds, max_transfers, ready,
                                               results)) for i in range(writers)]
    for p in procs:
        p.start()
    try:
        ready.wait(timeout=120)
        outcomes = [results.get(timeout=seconds + 120) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    latencies = sorted(x for o in outcomes for x in o[2])
    errors = [e for o in outcomes for e in o[3]]
    for e in sorted(set(errors))[:5]:
        print(f"  error: {e}", file=sys.stderr)
    check, check_seconds = _ledger_check(url)
    return Row(database, workload, writers, sum(o[0] for o in outcomes),
               max(o[1] for o in outcomes),
               1000 * statistics.median(latencies) if latencies else 0.0,
               1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else 0.0,
               sum(o[4] for o in outcomes) / sum(o[1] for o in outcomes),
               len(errors), check, check_seconds)


# --- report ------------------------------------------------------------------------------------

def render(rows: list[Row], versions: list[str], seconds: float) -> str:
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    head = [f"Ledger benchmark, {datetime.now().isoformat(timespec='seconds')}",
            f"machine: {platform.machine()}, {cores} cores ({usable} usable), "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}",
            *[f"database: {v}" for v in versions],
            f"writers are processes; one transfer per transaction (post_batch); "
            f"each run {seconds:g} s",
            ""]
    cols = ("database", "workload", "writers", "transfers", "run s", "transfers/s",
            "p50 ms", "p99 ms", "writer CPU", "errors", "ledger check")
    table = [cols] + [(r.database, r.workload, str(r.writers), str(r.transfers),
                       f"{r.seconds:.2f}", f"{r.per_second:,.0f}", f"{r.p50_ms:.2f}",
                       f"{r.p99_ms:.2f}", f"{100 * r.writer_cpu:.0f}%", str(r.errors),
                       f"{r.check} ({r.check_seconds:.1f} s)")
                      for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(line, widths, strict=True)))
             for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(head + lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each run")
    parser.add_argument("--max-transfers", type=int, default=200_000,
                        help="per writer and run, whichever comes first")
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"],
                        choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    logging.getLogger("offload.ledger").setLevel(logging.WARNING)  # no line per transfer
    # SIGTERM (a CI timeout) unwinds like Ctrl-C, so the throwaway cluster is removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sources = {"sqlite": sqlite_database, "postgresql": postgresql_database}
    rows, versions = [], []
    for database in args.databases:
        with sources[database]() as url:
            versions.append(server_version(url))
            for workload, writers in RUNS:
                print(f"{database}: {workload}, {writers} writer(s)...", file=sys.stderr,
                      flush=True)
                rows.append(run_one(database, url, workload, writers, args.seconds,
                                    args.max_transfers))
    report = render(rows, versions, args.seconds)
    print(report)
    out = ROOT / "bench" / "results" / f"ledger-{datetime.now():%Y%m%d-%H%M%S}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(f"written to {out.relative_to(ROOT)}", file=sys.stderr)
    return 0 if all(r.check == "passed" and not r.errors for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
