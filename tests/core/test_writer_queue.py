"""SQLite's writers queue on a lock file (``core.db._WriterQueue``): a second writer
waits for the first to let go, and is let in when it does."""

from __future__ import annotations

import threading

from offload.core.db import _WriterQueue


class _Connection:  # what the queue keys on: an object per DB-API connection
    pass


def test_a_second_writer_waits_for_the_first_and_then_goes_at_once(tmp_path):
    queue = _WriterQueue(str(tmp_path / "db-writers"))
    first, second = _Connection(), _Connection()
    queue.join(first)
    joined = threading.Event()
    waiter = threading.Thread(target=lambda: (queue.join(second), joined.set()))
    waiter.start()
    assert not joined.wait(0.2)  # the lock is held: the second writer waits
    queue.leave(first)
    assert joined.wait(5)  # let in once the first lets go
    waiter.join()
    queue.leave(second)
    assert queue.held == {}


def test_leaving_twice_or_without_joining_changes_nothing(tmp_path):
    queue = _WriterQueue(str(tmp_path / "db-writers"))
    connection = _Connection()
    queue.leave(connection)
    queue.join(connection)
    queue.leave(connection)
    queue.leave(connection)
    other = _Connection()
    queue.join(other)  # free again
    queue.leave(other)
