"""A process killed in the middle of an operation leaves no partial transfer.

A child process (crash_child.py) posts three-leg batches against the test database and
is killed with SIGKILL: either while it is stopped at a chosen point inside a batch's
transaction, or at whatever point it happens to be after some batches. Afterwards
every batch has all three legs or none, the counters agree with the transfers, the
killed batch's idempotency key is free again and ``flask ledger check`` passes.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from offload.core.db import db, is_postgresql
from offload.ledger.checks import run_checks
from offload.ledger.models import IdempotencyKey, Transfer, TransferKind
from offload.ledger.services import Cause, Idempotency, Leg, post_batch

from .crash_child import AMOUNTS, APPLICATION_NAME
from .support import Counters, counters, deposit, open_wallet

ROOT = Path(__file__).resolve().parents[2]
PAUSE_AT = 12  # batches 1..11 commit, batch 12 is killed half-way
TIMEOUT = 60


class Child:
    """The child process with a thread reading its stdout into a queue."""

    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.crash_child"], cwd=ROOT,
            env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=log.open("w"),
            text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for(self, prefix: str) -> str:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the child ended early:\n{self.log.read_text()[-3000:]}")
            if line.startswith(prefix):
                return line
        pytest.fail(f"the child printed no {prefix!r} within {TIMEOUT}s")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        assert self.proc.wait(timeout=TIMEOUT) == -signal.SIGKILL


def wait_until_its_connection_is_gone() -> None:
    """PostgreSQL rolls a dead client's transaction back when its backend notices the
    closed socket; wait for that so its row locks don't outlive the test."""
    if not is_postgresql():
        return
    deadline = time.monotonic() + TIMEOUT
    while db.session.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE application_name = :n"), {"n": APPLICATION_NAME}):
        db.session.rollback()
        assert time.monotonic() < deadline, "the killed child's backend is still there"
        time.sleep(0.05)
    db.session.rollback()


@pytest.mark.parametrize("pause", ["between_legs", "before_insert", "before_commit", "anywhere"])
def test_a_killed_process_leaves_no_partial_batch(app, make_member, make_wallet, tmp_path,
                                                  pause):
    member_id = make_member().id
    payer = open_wallet(member_id)
    deposit(payer, 10**6)
    receivers = [make_wallet() for _ in AMOUNTS]
    db.session.commit()

    child = Child({"CRASH_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                   "CRASH_ACCOUNTS": ",".join(map(str, [member_id, payer, *receivers])),
                   "CRASH_PAUSE": "" if pause == "anywhere" else pause,
                   "CRASH_PAUSE_AT": str(PAUSE_AT)},
                  tmp_path / "child.log")
    try:
        if pause != "anywhere":
            assert child.wait_for("paused") == f"paused {PAUSE_AT} {pause}"
        else:
            child.wait_for(f"posted {PAUSE_AT} ")  # then kill it wherever it is
    finally:
        child.kill()
    wait_until_its_connection_is_gone()

    legs = dict(db.session.execute(select(Transfer.batch_id, func.count())
                                   .where(Transfer.cause_type == "crash")
                                   .group_by(Transfer.batch_id)).all())
    assert set(legs.values()) == {len(AMOUNTS)}, f"partial batches: {legs}"
    committed = len(legs)
    if pause != "anywhere":
        assert committed == PAUSE_AT - 1
    else:
        assert committed >= PAUSE_AT
    assert counters(payer) == Counters(0, committed * sum(AMOUNTS), 0, 10**6)
    for to, amount in zip(receivers, AMOUNTS, strict=True):
        assert counters(to) == Counters(0, 0, 0, committed * amount)
    assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == committed
    assert run_checks() == []
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output

    # the killed batch's key was never claimed: sending it again posts it, once
    again = post_batch([Leg(payer, to, amount, TransferKind.TRANSFER)
                        for to, amount in zip(receivers, AMOUNTS, strict=True)],
                       cause=Cause("crash", committed + 1), actor_id=None,
                       idempotency=Idempotency(member_id, f"crash-{committed + 1}",
                                               {"n": committed + 1}))
    assert not again.replayed and len(again.transfer_ids) == len(AMOUNTS)
