"""The migrations build the schema the models describe (what `flask db check` checks)."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from offload.core.db import db
from offload.gigs.search_ddl import is_search_schema_object
from tests.conftest import make_app


@pytest.fixture
def empty_database_url(tmp_path):
    """A new, empty database of the kind the suite runs on."""
    base = os.environ.get("OFFLOAD_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/migrations.db"
        return
    name = f"offload_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_match_the_models_and_go_both_ways(tmp_path, empty_database_url):
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True,
                # as migrations/env.py does: the full-text index is not in the models
                "include_name": lambda name, type_, parents: not is_search_schema_object(
                    name, type_)})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()


def test_migrated_database_passes_the_ledger_check(tmp_path, empty_database_url):
    """The immutability triggers come with the migration too (invariant 7)."""
    from offload.ledger.checks import check_immutability

    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade()
        assert check_immutability() == []
        db.session.remove()
        db.engine.dispose()


def test_the_accountability_migration_counts_the_branches_of_existing_members(
        tmp_path, empty_database_url):
    """Members from before it get their branch sizes (what accounts.lineage keeps after)."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="7f155fea6a29")
        with db.engine.begin() as conn:
            for member_id, inviter in ((1, None), (2, 1), (3, 2), (4, 2), (5, 1)):
                conn.execute(text(
                    "INSERT INTO users (id, username, email, password_hash, display_name, "
                    "account_type, is_admin, session_token, invited_by_id, created_at) VALUES "
                    "(:id, :name, :email, 'x', :name, 'individual', :admin, :token, :inviter, "
                    "CURRENT_TIMESTAMP)"),
                    {"id": member_id, "name": f"m{member_id}", "email": f"m{member_id}@x.example",
                     "admin": member_id == 1, "token": f"t{member_id}", "inviter": inviter})
        upgrade()
        with db.engine.connect() as conn:
            sizes = dict(conn.execute(text("SELECT id, branch_size FROM users")).all())
        assert sizes == {1: 4, 2: 2, 3: 0, 4: 0, 5: 0}
        db.engine.dispose()
