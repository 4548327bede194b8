"""offers.closed_reason (why the system closed an offer); invite edge changes by new inviter

Revision ID: 5c3e04f2f2ae
Revises: 6930ba148198
Create Date: 2026-12-02 10:14:27.906578

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5c3e04f2f2ae'
down_revision = '6930ba148198'
branch_labels = None
depends_on = None

CLOSED_REASONS = ("closed_reason IS NULL OR closed_reason IN ('member_suspended', "
                  "'poster_suspended', 'gig_cancelled', 'gig_expired', 'another_chosen')")


def upgrade():
    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.create_index('ix_invite_edge_changes_new_inviter', ['new_inviter_id', 'created_at'], unique=False)

    # Not in batch mode: on SQLite that recreates ``offers``, which projects and others
    # reference (DROP TABLE fails with rows there). SQLite adds a column with its CHECK
    # in place.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE offers ADD COLUMN closed_reason VARCHAR(24) '
                   f'CONSTRAINT ck_offers_closed_reason CHECK ({CLOSED_REASONS})')
    else:
        op.add_column('offers', sa.Column('closed_reason', sa.String(length=24), nullable=True))
        op.create_check_constraint('closed_reason', 'offers', CLOSED_REASONS)


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':  # its own CHECK goes with the column
        op.execute('ALTER TABLE offers DROP COLUMN closed_reason')
    else:
        op.drop_constraint('closed_reason', 'offers', type_='check')
        op.drop_column('offers', 'closed_reason')

    with op.batch_alter_table('invite_edge_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_invite_edge_changes_new_inviter')
