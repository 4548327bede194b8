"""accounts: time_zone, the zone a member's pages and e-mails show times in

``users.time_zone``: an IANA zone name ("Europe/Paris"), guessed from the browser at
sign-up and changed in the settings. NOT NULL with a server default of "UTC", so every
existing member gets UTC, the zone every time was shown in until now. Times themselves
stay stored in UTC.

SQLite: ``users`` is referenced by most tables, so batch mode (which recreates the
table) would fail on a database with rows; a NOT NULL column with a constant default
is added in place.

Revision ID: 9d5fd8f6ad85
Revises: f79666da1cd3
Create Date: 2026-12-03 09:11:35.238486

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9d5fd8f6ad85'
down_revision = 'f79666da1cd3'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('time_zone', sa.String(length=64), server_default='UTC',
                                     nullable=False))


def downgrade():
    op.drop_column('users', 'time_zone')
