"""A copy of every table's rows, taken once and put back before each of many tests.

Building a rich data set through the services costs seconds; tests that each need the
same one (the authorization matrix: hundreds of cells) build it once, take a
``Snapshot`` and ``restore()`` it into the emptied tables per test: a few bulk INSERTs.
Rows keep their ids; on PostgreSQL the id sequences are moved past them so rows the
test creates get fresh ids. Database triggers (the search index, the immutable
transfers) see ordinary INSERTs. Files in the upload folder stay where they are.
"""

from __future__ import annotations

from sqlalchemy import Integer, func, select, text

from offload.core.db import db


class Snapshot:
    def __init__(self) -> None:
        self.tables = []
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.computed is None]
            rows = [dict(row._mapping) for row in db.session.execute(
                select(*columns).order_by(*table.primary_key.columns))]
            self.tables.append((table, rows))
        db.session.rollback()

    def restore(self) -> None:
        """Insert the rows into the (empty) tables, in foreign-key order; one commit."""
        for table, rows in self.tables:
            if rows:
                db.session.execute(table.insert(), rows)
        if db.engine.dialect.name == "postgresql":
            for table, rows in self.tables:
                pk = list(table.primary_key.columns)
                if rows and len(pk) == 1 and isinstance(pk[0].type, Integer) \
                        and pk[0].autoincrement in (True, "auto"):
                    db.session.execute(
                        text("SELECT setval(pg_get_serial_sequence(:t, :c), :v)"),
                        {"t": table.name, "c": pk[0].name,
                         "v": db.session.scalar(select(func.max(pk[0])))})
        db.session.commit()
