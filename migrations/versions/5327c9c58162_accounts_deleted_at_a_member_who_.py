"""accounts: deleted_at, a member who deleted their account

``users.deleted_at``: set when a member deletes their account (the row stays,
anonymised, for the ledger, messages, reviews and the invite tree). Nullable, no
default: every existing member is not deleted.

SQLite: ``users`` is referenced by most tables, so batch mode (which recreates the
table) would fail on a database with rows; a nullable column is added in place.

Revision ID: 5327c9c58162
Revises: fa90b4b099a4
Create Date: 2026-12-03 07:33:24.330089

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5327c9c58162'
down_revision = 'fa90b4b099a4'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('deleted_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('users', 'deleted_at')
