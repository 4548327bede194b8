"""offers.closed_reason (why the system closed an offer); invite edge changes by new inviter

Revision ID: 5c3e04f2f2ae
Revises: 6bcb64fc600f
Create Date: 2026-12-02 10:14:27.906578

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c3e04f2f2ae'
down_revision = '6bcb64fc600f'
branch_labels = None
depends_on = None

CLOSED_REASONS = ("closed_reason IS NULL OR closed_reason IN ('member_suspended', "
                  "'poster_suspended', 'gig_cancelled', 'gig_expired', 'another_chosen')")


def upgrade():
    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.create_index('ix_invite_edge_changes_new_inviter', ['new_inviter_id', 'created_at'], unique=False)

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=24), nullable=True))
        batch_op.create_check_constraint('closed_reason', CLOSED_REASONS)


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_constraint('closed_reason', type_='check')
        batch_op.drop_column('closed_reason')

    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_invite_edge_changes_new_inviter')
