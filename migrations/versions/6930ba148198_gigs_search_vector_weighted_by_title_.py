"""gigs: search vector weighted by title, skills, description

PostgreSQL only: ``gigs.search_vector`` is rebuilt with the title's lexemes weighted A,
the skills' B and the description's D, so that ``ts_rank_cd`` ranks a match in the
title above one in the description (the board's relevance sort). The column is
generated, so it is dropped and added again (PostgreSQL recomputes it for every row);
its GIN index goes and comes with it. What matches does not change. SQLite's FTS5
table needs nothing: ``bm25()`` takes its column weights at query time.

Hand-written: the full-text objects are outside ``db.metadata`` (autogenerate finds
no change).

Revision ID: 6930ba148198
Revises: a58d3fc044ea
Create Date: 2026-12-02 10:18:25.233586

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6930ba148198'
down_revision = 'a58d3fc044ea'
branch_labels = None
depends_on = None


def upgrade():
    _run(DROP_SEARCH_VECTOR + WEIGHTED_SEARCH_VECTOR)


def downgrade():
    _run(DROP_SEARCH_VECTOR + PLAIN_SEARCH_VECTOR)


def _run(statements):
    if op.get_bind().dialect.name == 'postgresql':
        for statement in statements:
            op.execute(statement)


# Copied from offload/gigs/search_ddl.py, not imported: a migration must not change
# when the application code does.
DROP_SEARCH_VECTOR = ['DROP INDEX IF EXISTS ix_gigs_search_vector',
                      'ALTER TABLE gigs DROP COLUMN IF EXISTS search_vector']

WEIGHTED_SEARCH_VECTOR = [
    "ALTER TABLE gigs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (CASE WHEN "
    "state = 'open' THEN setweight(to_tsvector('english'::regconfig, regexp_replace(title, "
    "'[^[:alnum:]]+', ' ', 'g')), 'A') || setweight(to_tsvector('english'::regconfig, "
    "regexp_replace(skills_text, '[^[:alnum:]]+', ' ', 'g')), 'B') || "
    "setweight(to_tsvector('english'::regconfig, regexp_replace(description, "
    "'[^[:alnum:]]+', ' ', 'g')), 'D') END) STORED",
    'CREATE INDEX ix_gigs_search_vector ON gigs USING gin (search_vector)']

# as 756ea9cada74 made it
PLAIN_SEARCH_VECTOR = [
    "ALTER TABLE gigs ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (CASE WHEN "
    "state = 'open' THEN to_tsvector('english'::regconfig, regexp_replace(title || ' ' || "
    "skills_text || ' ' || description, '[^[:alnum:]]+', ' ', 'g')) END) STORED",
    'CREATE INDEX ix_gigs_search_vector ON gigs USING gin (search_vector)']
