"""A copy of every table's rows, taken once and put back before each of many tests.

Building a rich data set through the services costs seconds; tests that each need the
same one (the authorization matrix: hundreds of cells) build it once, take a
``Snapshot`` and ``restore()`` it into the emptied tables per test: a few bulk INSERTs.
Rows keep their ids; on PostgreSQL the id sequences are moved past them so rows the
test creates get fresh ids. Database triggers (the search index, the immutable
transfers) see ordinary INSERTs. Files in the upload folder stay where they are.

``put_back()`` does the same from whatever the tables hold, changing only the rows that
differ from the snapshot, and reading only the tables written since it last matched:
every statement the engine runs is watched, and a table counts as written after an
INSERT, UPDATE or DELETE on it, a DELETE on a table it refers to (a cascade), or any
statement that is not plainly a read or one of those (DDL: then every table). Writes
that bypass this process's engine (another process) are not seen; the tests that put
a snapshot back make none.
"""

from __future__ import annotations

import functools
import re
from itertools import count

from sqlalchemy import Integer, and_, event, func, select, text
from sqlalchemy.exc import DBAPIError

from offload.core.cache import cache
from offload.core.db import atomic, db
from tests.support.app import empty_tables, transfers_writable


class Snapshot:
    def __init__(self) -> None:
        self.tables = []
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.computed is None]
            rows = [dict(row._mapping) for row in db.session.execute(
                select(*columns).order_by(*table.primary_key.columns))]
            self.tables.append((table, rows))
        db.session.rollback()
        self.keyed = [_keyed(table, rows) for table, rows in self.tables]
        if not event.contains(db.engine, "before_cursor_execute", _watch):
            event.listen(db.engine, "before_cursor_execute", _watch)
        self.clean_at = next(_statements)  # the tables hold the snapshot now

    def restore(self) -> None:
        """Insert the rows into the (empty) tables, in foreign-key order; one commit."""
        for table, rows in self.tables:
            if rows:
                db.session.execute(table.insert(), rows)
        _move_sequences([table for table, rows in self.tables if rows])
        db.session.commit()
        self.clean_at = next(_statements)

    def put_back(self) -> None:
        """Make the tables hold the snapshot again, whatever they hold now (empty, the
        snapshot, or the snapshot as a test changed it): rows the snapshot lacks are
        deleted, rows it holds otherwise are written back, rows missing are inserted;
        one commit. The fragment cache is emptied, as ``empty_tables()`` does.

        Should the database refuse that order of statements (a foreign key or a unique
        index, on a change that crossed the tables), or anything still differ after
        it, the tables are emptied and the snapshot restored in full.
        """
        cache.clear()
        db.session.rollback()
        try:
            with atomic():
                if db.engine.dialect.name == "sqlite":  # checked at the commit instead
                    db.session.execute(text("PRAGMA defer_foreign_keys = ON"))
                diffs = self._differences()
                if diffs:
                    with transfers_writable(any(t.name == "transfers" for t, *_ in diffs)):
                        _apply(diffs)
                    _move_sequences([table for table, *_, missing in diffs if missing])
            same = not diffs or not self._differences()
        except DBAPIError:  # refused: the full restore below
            same = False
        db.session.rollback()
        if same:
            self.clean_at = next(_statements)
        else:
            empty_tables()
            self.restore()

    def _differences(self) -> list[tuple]:
        """Per table that differs: (table, keys to delete, rows to update, rows to insert)."""
        diffs = []
        for (table, _rows), then in zip(self.tables, self.keyed, strict=True):
            if not _written_since(table, self.clean_at):
                continue
            now = _keyed(table, [dict(row._mapping) for row in db.session.execute(
                select(*[c for c in table.columns if c.computed is None]))])
            if now == then:
                continue
            diffs.append((table, [key for key in now if key not in then],
                          [row for key, row in then.items() if key in now and now[key] != row],
                          [row for key, row in then.items() if key not in now]))
        return diffs


_statements = count(1)  # numbers the statements the engine runs
_written: dict[str, int] = {}  # table name: the number of its last INSERT, UPDATE, DELETE
_deleted: dict[str, int] = {}  # table name: the number of its last DELETE
_unknown = [0]  # the number of the last statement that might have written anything
_DML = re.compile(r'\s*(?:(INSERT)\s+(?:OR\s+\w+\s+)?INTO|(UPDATE)|(DELETE)\s+FROM)\s+"?(\w+)',
                  re.IGNORECASE)
_READ = re.compile(r"\s*(?:SELECT|PRAGMA|SAVEPOINT|RELEASE|ROLLBACK|BEGIN|COMMIT|SHOW)\b",
                   re.IGNORECASE)


def _watch(_conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    number = next(_statements)
    dml = _DML.match(statement)
    if dml:
        _written[dml[4]] = number
        if dml[3]:
            _deleted[dml[4]] = number
    elif not _READ.match(statement):
        _unknown[0] = number


@functools.cache
def _referred(table) -> frozenset[str]:
    """The tables ``table`` refers to, directly or through others (a DELETE there may
    cascade into it)."""
    found: set[str] = set()
    todo = [table]
    while todo:
        for fk in todo.pop().foreign_keys:
            if fk.column.table.name not in found:
                found.add(fk.column.table.name)
                todo.append(fk.column.table)
    return frozenset(found)


def _written_since(table, mark: int) -> bool:
    return _unknown[0] > mark or _written.get(table.name, 0) > mark or any(
        _deleted.get(name, 0) > mark for name in _referred(table))


def _keyed(table, rows: list[dict]) -> dict[tuple, dict]:
    names = [c.name for c in table.primary_key.columns]
    return {tuple(row[n] for n in names): row for row in rows}


def _apply(diffs: list[tuple]) -> None:
    """Deletes children first, then updates, then inserts parents first (diffs are in
    foreign-key order)."""
    for table, gone, _changed, _missing in reversed(diffs):
        pk = list(table.primary_key.columns)
        for key in gone:
            db.session.execute(table.delete().where(
                and_(*[c == v for c, v in zip(pk, key, strict=True)])))
    for table, _gone, changed, _missing in diffs:
        pk = list(table.primary_key.columns)
        for row in changed:
            db.session.execute(table.update().where(
                and_(*[c == row[c.name] for c in pk])).values(row))
    for table, _gone, _changed, missing in diffs:
        if missing:
            db.session.execute(table.insert(), missing)


def _move_sequences(tables) -> None:
    """On PostgreSQL, move the id sequences of ``tables`` to their highest id, so rows
    the test creates get fresh ids (SQLite takes the highest id plus one by itself)."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in tables:
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and isinstance(pk[0].type, Integer) \
                and pk[0].autoincrement in (True, "auto"):
            db.session.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                {"t": table.name, "c": pk[0].name,
                 "v": db.session.scalar(select(func.max(pk[0])))})
