"""The migrations build the schema the models describe (what `flask db check` checks)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from offload.core.db import db
from offload.gigs.search_ddl import is_search_schema_object
from tests.support.app import make_app


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


def test_the_inbox_migration_gives_both_parties_their_place(tmp_path, empty_database_url):
    """Conversations from before it show in both parties' inboxes: a row for each party
    (the old marks kept, 0 for a party who never read), ending at the newest message."""
    app = make_app(tmp_path, SQLALCHEMY_DATABASE_URI=empty_database_url)
    with app.app_context():
        upgrade(revision="6bcb64fc600f")
        with db.engine.begin() as conn:
            for member_id in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO users (id, username, email, password_hash, display_name, "
                    "account_type, is_admin, session_token, created_at) VALUES (:id, :name, "
                    ":email, 'x', :name, 'individual', false, :token, CURRENT_TIMESTAMP)"),
                    {"id": member_id, "name": f"m{member_id}", "email": f"m{member_id}@x.example",
                     "token": f"t{member_id}"})
            conn.execute(text(
                "INSERT INTO gigs (id, poster_id, kind, title, description, category, "
                "budget_min_minor, budget_max_minor, currency, deadline, state, commission_bps, "
                "platform_commission_bps, published_at) VALUES (1, 1, 'referral', 'A gig', "
                "'Work', 'web', 100, 100, 'USD', '2030-01-01', 'open', 1000, 300, "
                "CURRENT_TIMESTAMP)"))
            for offer_id, member_id in ((1, 2), (2, 3), (3, 2)):  # offer 3: no messages
                conn.execute(text(
                    "INSERT INTO offers (id, gig_id, member_id, state, price_minor, "
                    "days_to_deliver, cover_letter, fee_kind, fee_minor) VALUES (:id, 1, :m, "
                    ":state, 100, 5, 'Me', 'free', 0)"),
                    {"id": offer_id, "m": member_id,
                     "state": "active" if offer_id != 3 else "withdrawn"})
            for message_id, offer_id, sender_id, at in (
                    (1, 1, 2, "2026-01-01 10:00:00"), (2, 1, 1, "2026-01-02 10:00:00"),
                    (3, 2, 3, "2026-01-03 10:00:00"), (4, 1, 2, "2026-01-04 10:00:00")):
                conn.execute(text(
                    "INSERT INTO offer_messages (id, offer_id, sender_id, body, created_at) "
                    "VALUES (:id, :offer, :sender, 'Hi', :at)"),
                    {"id": message_id, "offer": offer_id, "sender": sender_id, "at": at})
            conn.execute(text(  # the poster read offer 1 up to their own answer
                "INSERT INTO conversation_reads (offer_id, member_id, last_read_message_id, "
                "read_at) VALUES (1, 1, 2, CURRENT_TIMESTAMP)"))
        upgrade()
        with db.engine.connect() as conn:
            rows = {(r[0], r[1]): (r[2], r[3], r[4] is None) for r in conn.execute(text(
                "SELECT offer_id, member_id, last_read_message_id, last_message_id, read_at "
                "FROM conversation_reads"))}
            at = conn.execute(text("SELECT last_message_at FROM conversation_reads "
                                   "WHERE offer_id = 2 AND member_id = 1")).scalar()
        assert rows == {(1, 1): (2, 4, False), (1, 2): (0, 4, True),
                        (2, 1): (0, 3, True), (2, 3): (0, 3, True)}
        assert str(at).startswith("2026-01-03 10:00:00")
        downgrade(revision="6bcb64fc600f")  # the rows of those who never read go again
        with db.engine.connect() as conn:
            assert conn.execute(text(
                "SELECT offer_id, member_id FROM conversation_reads")).all() == [(1, 1)]
        db.engine.dispose()
