"""Gigs: posting, the board and its search, questions, attachments, expiry.

``models`` (design note there), ``services`` (every change, one transaction each),
``lifecycle`` (the state moves), ``queries``, ``board`` and ``policies`` (reads),
``filters`` (the board's URL form), ``search`` and ``search_ddl`` (full-text search
on SQLite FTS5 and PostgreSQL), ``fake`` (bulk data for demos and benchmarks),
``views``. Calls ``profiles`` (skills), ``cases`` (the hook), ``moderation`` (an
admin's cancellation) and ``notifications``; expiry and cancellation close the gig's
offers through ``offers``. Called by ``offers``, ``projects``, ``alerts``,
``milestones``, ``commissions``, the jobs (``expire_gigs``) and the demo.
"""
