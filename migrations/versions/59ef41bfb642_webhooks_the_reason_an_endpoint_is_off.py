"""webhooks: the reason an endpoint is off

One nullable column, ``webhook_endpoints.disabled_reason``: an endpoint is now turned
off by its member's suspension as well as by repeated failures, and the member's page
says which. Endpoints already off were turned off by failures, and say so.

Revision ID: 59ef41bfb642
Revises: 3e9498b32960
Create Date: 2026-12-03 01:17:17.077719

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '59ef41bfb642'
down_revision = '3e9498b32960'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_reason', sa.String(length=200), nullable=True))
    op.execute("UPDATE webhook_endpoints SET disabled_reason = "
               "'Turned off after repeated failed deliveries.' WHERE disabled_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_column('disabled_reason')
