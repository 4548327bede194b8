"""invite edge changes by new inviter

Revision ID: 5c3e04f2f2ae
Revises: 6bcb64fc600f
Create Date: 2026-12-02 10:14:27.906578

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5c3e04f2f2ae'
down_revision = '6bcb64fc600f'
branch_labels = None
depends_on = None

def upgrade():
    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.create_index('ix_invite_edge_changes_new_inviter', ['new_inviter_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_invite_edge_changes_new_inviter')
