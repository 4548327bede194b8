"""Gigs: posting, the board and its search, questions.

``models`` (design note there), ``services`` (every change, one transaction each),
``queries`` and ``policies`` (reads), ``filters`` (the board's URL form), ``search``
and ``search_ddl`` (full-text search on SQLite FTS5 and PostgreSQL), ``fake`` (bulk
data for demos and benchmarks). No views yet.
"""
