"""The database: the SQLAlchemy handle, the transaction boundary and engine set-up.

Rule: one service call is one transaction. A service opens it with ``atomic()``;
services called from inside join the outer transaction; nothing else commits.

On SQLite a write transaction starts with ``BEGIN IMMEDIATE`` so that it takes the
write lock up front and waits (busy timeout) instead of failing with "database is
locked" when it upgrades a read lock under concurrency. Reads outside ``atomic()``
use a plain deferred ``BEGIN``.

``read_snapshot()`` is for reads that must agree with each other across many
statements (the money checks): one read-only snapshot on a session of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import wraps

from flask import current_app
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, registry
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("offload.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A datetime stored as naive UTC and always returned timezone-aware.

    SQLite keeps no time zone, so every value is normalised at the boundary.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use offload.core.db.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime()})


db = SQLAlchemy(model_class=Base)

_depth: ContextVar[int] = ContextVar("offload_atomic_depth", default=0)
_writing: ContextVar[bool] = ContextVar("offload_atomic_writing", default=False)


@contextmanager
def atomic() -> Iterator:
    """Run the block as one transaction; nested blocks join the outer one.

    The outermost block first ends any read-only transaction the request opened
    (expiring loaded objects, so they are re-read under the write lock), then
    commits on success and rolls back on error. Callbacks registered with
    ``on_commit`` run after a successful commit.
    """
    depth = _depth.get()
    if depth:
        token = _depth.set(depth + 1)
        try:
            yield db.session
        finally:
            _depth.reset(token)
        return
    session = db.session()  # the request's Session behind the scoped proxy
    if session.in_transaction():
        session.commit()
    depth_token, writing_token = _depth.set(1), _writing.set(True)
    try:
        with session.begin():
            yield session
    except BaseException:
        session.info.pop("on_commit", None)
        _run_callbacks(session.info.pop("on_rollback", []), "rollback")
        raise
    finally:
        _depth.reset(depth_token)
        _writing.reset(writing_token)
    session.info.pop("on_rollback", None)
    _run_callbacks(session.info.pop("on_commit", []), "commit")


def _run_callbacks(callbacks: list[Callable[[], None]], after: str) -> None:
    """Run every callback even if one fails: after a commit the work is done (the
    caller must not see an error for it); after a rollback the original error is the
    one to raise. A failure is logged with its traceback."""
    for callback in callbacks:
        try:
            callback()
        except Exception:
            log.exception("a callback after %s failed", after)


# PostgreSQL: serialization failure and deadlock; the whole transaction may be re-run.
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 3


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)


def is_retryable(error: BaseException) -> bool:
    """A serialization failure or deadlock: the whole transaction may be re-run."""
    return isinstance(error, DBAPIError) and _sqlstate(error) in RETRYABLE_SQLSTATES


def transactional(fn: Callable) -> Callable:
    """Run ``fn`` as one transaction, re-run up to 3 times on 40001/40P01 (PostgreSQL).

    Called inside another transaction it simply joins it: only the outermost call can
    retry, since only it owns the whole transaction.
    """

    @wraps(fn)
    def wrapper(*args, **kwargs):
        if in_atomic():
            return fn(*args, **kwargs)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with atomic():
                    return fn(*args, **kwargs)
            except DBAPIError as error:
                if attempt == MAX_ATTEMPTS or not is_retryable(error):
                    raise
                log.warning("retrying %s after %s (attempt %d)", fn.__name__,
                            _sqlstate(error), attempt)
        raise AssertionError("unreachable")

    return wrapper


@contextmanager
def read_snapshot() -> Iterator[Session]:
    """Run the block's reads in one read-only snapshot of committed data, on a session
    and connection of their own: ``db.session`` inside the block is that session.

    Never the caller's transaction (even inside ``atomic()``): its unfinished writes are
    not part of the snapshot, and on SQLite the read doesn't queue for its write lock.
    PostgreSQL: REPEATABLE READ, READ ONLY; every statement sees the data as of the
    first one, so a transaction that commits meanwhile is seen wholly or not at all.
    (Not SERIALIZABLE READ ONLY DEFERRABLE: writers run at READ COMMITTED, so it would
    add nothing but a possible wait for a "safe" snapshot.) It takes no locks and
    can't fail with a serialization error. SQLite: one deferred ``BEGIN``; in WAL mode
    the snapshot is taken at the first read and kept until the end.
    The transaction is rolled back at the end: the block must not write.
    """
    writing_token = _writing.set(False)  # a read: plain BEGIN on SQLite, never IMMEDIATE
    try:
        # a new app context is a new scope of ``db.session``: a fresh Session, removed
        # (its connection returned to the pool) when the context ends
        with current_app.app_context():
            session = db.session()
            if session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                                      "postgresql_readonly": True})
            try:
                yield session
            finally:
                session.rollback()
    finally:
        _writing.reset(writing_token)


def on_rollback(callback: Callable[[], None]) -> None:
    """Run ``callback`` if the current ``atomic()`` block rolls back (or its commit fails):
    undo what isn't in the database, such as a file written for a row."""
    if not _depth.get():
        raise RuntimeError("on_rollback() outside atomic()")
    db.session.info.setdefault("on_rollback", []).append(callback)


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current ``atomic()`` block commits (never if it rolls back)."""
    if not _depth.get():
        raise RuntimeError("on_commit() outside atomic()")
    db.session.info.setdefault("on_commit", []).append(callback)


def in_atomic() -> bool:
    return _depth.get() > 0


def known_id(row) -> int:
    """A row's id without a trip to the database: from the identity map for an ORM row
    (reading ``.id`` of an expired one would reload it), else its ``id`` attribute (a
    read model, such as the signed-in member behind ``current_user``)."""
    state = inspect(row, raiseerr=False)
    if state is not None and getattr(state, "identity", None):
        return state.identity[0]
    return row.id


def dialect_insert(model):
    """An INSERT with the session's dialect's ``on_conflict_do_*`` methods (both SQLite
    and PostgreSQL have them, with the same signatures)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)


def insert_ignoring_conflicts(model):
    """``INSERT ... ON CONFLICT DO NOTHING`` for the session's dialect.

    Add ``.returning(...)`` to learn whether a row was inserted.
    """
    return dialect_insert(model).on_conflict_do_nothing()


def is_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def configure_engine(engine: Engine) -> None:
    """Install per-dialect connection settings (SQLite pragmas and BEGIN IMMEDIATE)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin hook issue BEGIN
        cur = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "busy_timeout=10000", "foreign_keys=ON",
                       "synchronous=FULL"):
            cur.execute("PRAGMA " + pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _writing.get() else "BEGIN")
