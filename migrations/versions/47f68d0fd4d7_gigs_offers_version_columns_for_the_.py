"""gigs, offers: version columns for the fragment cache

gigs.version and offers.version go up by one with every UPDATE of the row (the
models' onupdate), so a cached row of the board or the ranked offers is keyed by
(id, created_at, version) and is never stale. Existing rows start at 1.

Plain ADD COLUMN on both databases: SQLite adds a column with a constant default in
place, without rebuilding the table (which would drop the gigs' FTS triggers).

Revision ID: 47f68d0fd4d7
Revises: d0a311a7c5b9
Create Date: 2026-12-02 16:01:07.229674

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '47f68d0fd4d7'
down_revision = 'd0a311a7c5b9'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('gigs', sa.Column('version', sa.Integer(), server_default='1',
                                    nullable=False))
    op.add_column('offers', sa.Column('version', sa.Integer(), server_default='1',
                                      nullable=False))


def downgrade():
    op.drop_column('offers', 'version')
    op.drop_column('gigs', 'version')
