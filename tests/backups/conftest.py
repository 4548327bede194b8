"""Backup fixtures: new databases of the kind the suite runs on, each with its own app
(and upload folder), to back up from and restore into."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import stamp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from offload.core.db import db
from tests.support.app import DATABASE_URL_ENV, make_app


@dataclass
class Site:
    """An app on a database and upload folder of its own."""

    app: Flask
    url: str
    uploads: Path

    def cli(self, *args: str):
        """``flask ARGS`` on this site (inside its app context, which the command uses)."""
        with self.app.app_context():
            return self.app.test_cli_runner().invoke(args=list(args))

    def drop(self) -> None:
        """Remove its database and uploaded files: what a lost machine leaves."""
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        _drop_database(self.url)
        for path in sorted(self.uploads.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink()


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
        return
    admin = create_engine(os.environ[DATABASE_URL_ENV], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def new_site(tmp_path):
    """``new_site(name, schema=True, password=None)``: a site on a new database (with
    the models' schema stamped at the migration head, as ``flask db upgrade`` leaves it;
    or empty), dropped after the test. On PostgreSQL ``password`` goes in its URL (the
    suite's cluster trusts every connection, so any password is accepted)."""
    made: list[Site] = []
    base = os.environ.get(DATABASE_URL_ENV)

    def make(name: str, schema: bool = True, password: str | None = None) -> Site:
        folder = tmp_path / name
        folder.mkdir()
        if base:
            url = make_url(base).set(database=f"offload_bk_{uuid.uuid4().hex[:8]}")
            if password:
                url = url.set(password=password)
            url = url.render_as_string(hide_password=False)
            admin = create_engine(base, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{make_url(url).database}"'))
            admin.dispose()
        else:
            url = f"sqlite:///{folder}/{name}.db"
        app = make_app(folder, SQLALCHEMY_DATABASE_URI=url)
        site = Site(app=app, url=url, uploads=Path(app.config["UPLOAD_FOLDER"]))
        made.append(site)
        if schema:
            with app.app_context():
                db.create_all()
                stamp()
                db.session.remove()
        return site

    yield make
    for site in made:
        with site.app.app_context():
            db.session.remove()
            db.engine.dispose()
        _drop_database(site.url)
