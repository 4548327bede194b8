"""notifications: outbox letters rendered by the worker

outbox_emails.context: a notification's letter is queued with its template's context
(JSON) and rendered by the mail worker when it sends it, not in the request.

Revision ID: d0a311a7c5b9
Revises: eca6efa76ca6
Create Date: 2026-12-02 16:03:54.935809

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd0a311a7c5b9'
down_revision = 'eca6efa76ca6'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('outbox_emails', sa.Column('context', sa.Text(), nullable=True))


def downgrade():
    op.drop_column('outbox_emails', 'context')
