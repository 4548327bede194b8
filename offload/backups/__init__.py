"""Backups: the whole site in one archive, and back again.

``flask backup create PATH`` writes one ``.tar.gz`` holding ``manifest.json`` (format
version, when, the database's dialect and Alembic revision, the app's version, the
file count and a SHA-256 of every other member), the database dump and the upload
folder; ``flask backup restore PATH`` checks all of that before it touches anything,
moves the files into a hidden folder inside the upload folder, then restores the
database, then exchanges the folder's contents for them, then says whether ``flask db
upgrade`` is needed.

- ``archive.py``: the archive's format (the manifest, writing it, checking and
  unpacking it); knows nothing of databases.
- ``databases.py``: SQLite through its online backup API (consistent while the site
  runs, in both directions); PostgreSQL through ``pg_dump --format=custom``, and
  ``pg_restore`` and ``psql`` (the schema emptied and refilled in one transaction),
  whose versions are checked against the server's, with the connection details in the
  environment, never on a command line (``ps`` shows those).
- ``services.py``: ``create_backup`` and ``restore_backup``, the two operations.

Calls only ``offload.core`` (the database handle) and Alembic; called by its ``cli.py``.
The database is copied first and the files after it: uploads are written before their
row commits and never rewritten, so every file a row of the dump names is in the
archive (a file deleted between the two steps is the only gap).
"""
