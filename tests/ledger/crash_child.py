"""The process that test_crash.py kills: it posts three-leg batches in a loop.

Run as ``python -m tests.ledger.crash_child`` from the repository root. Environment:

- ``CRASH_DATABASE_URL``: the test database (the parent's ``SQLALCHEMY_DATABASE_URI``);
- ``CRASH_ACCOUNTS``: ``member,payer,a,b,c``: the member whose keys are used, the
  paying wallet and the three receiving accounts;
- ``CRASH_PAUSE``: where, inside batch number ``CRASH_PAUSE_AT``'s transaction, to stop
  and wait to be killed: ``between_legs`` (the first leg's counters changed, the
  others' not), ``before_insert`` (every counter changed, no transfer row yet),
  ``before_commit`` (everything written, nothing committed); empty: never stop.

Batch n is posted with idempotency key ``crash-<n>``. Prints ``posted <n> <batch_id>``
after each commit and ``paused <n> <where>`` when it stops.
"""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import event

from offload import create_app
from offload.core.db import db
from offload.ledger.models import TransferKind
from offload.ledger.services import Cause, Idempotency, Leg, post_batch

APPLICATION_NAME = "ledger-crash-child"
AMOUNTS = (3, 5, 7)


def main() -> None:
    url = os.environ["CRASH_DATABASE_URL"]
    member, payer, *receivers = map(int, os.environ["CRASH_ACCOUNTS"].split(","))
    pause, pause_at = os.environ.get("CRASH_PAUSE", ""), int(os.environ.get("CRASH_PAUSE_AT", 0))
    options = {"connect_args": {"application_name": APPLICATION_NAME}} \
        if url.startswith("postgresql") else {}
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": options,
                      "TESTING": True, "SECRET_KEY": "crash", "MAIL_BACKEND": "log"})
    state = {"batch": 0, "updates": 0, "inserted": False}

    def stop(where: str) -> None:
        print(f"paused {state['batch']} {where}", flush=True)
        time.sleep(600)  # until the parent's SIGKILL
        sys.exit(3)

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "before_cursor_execute")
        def _before_statement(conn, cursor, statement, parameters, context, executemany):
            if state["batch"] != pause_at:
                return
            head = statement.lstrip().upper()
            if head.startswith("UPDATE LEDGER_ACCOUNTS"):
                state["updates"] += 1  # two per leg: the payer's, then the receiver's
                if pause == "between_legs" and state["updates"] == 3:
                    stop(pause)
            elif head.startswith("INSERT INTO TRANSFERS"):
                if pause == "before_insert":
                    stop(pause)
                state["inserted"] = True

        @event.listens_for(engine, "commit")
        def _before_commit(conn):
            if pause == "before_commit" and state["batch"] == pause_at and state["inserted"]:
                stop(pause)

        for n in range(1, 100_000):
            state.update(batch=n, updates=0, inserted=False)
            legs = [Leg(payer, to, amount, TransferKind.TRANSFER)
                    for to, amount in zip(receivers, AMOUNTS, strict=True)]
            batch = post_batch(legs, cause=Cause("crash", n), actor_id=None,
                               idempotency=Idempotency(member, f"crash-{n}", {"n": n}))
            print(f"posted {n} {batch.batch_id}", flush=True)


if __name__ == "__main__":
    main()
