"""exports: data_exports, a member's export of their data

A row per "Export my data" request: requested, building (a worker's claim, with its
lease's start), ready (the zip's generated name, the mailed link's token hash and its
expiry), failed or expired. The partial unique index keeps one request running per
member; a new table, so nothing to fill.

Revision ID: 8eef1857be51
Revises: 5327c9c58162
Create Date: 2026-12-03 09:13:47.300301

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8eef1857be51'
down_revision = '5327c9c58162'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('ready_at', sa.DateTime(), nullable=True),
    sa.Column('expires_at', sa.DateTime(), nullable=True),
    sa.Column('file_name', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('state_changed_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("state <> 'ready' OR (file_name IS NOT NULL AND token_hash IS NOT NULL AND expires_at IS NOT NULL)", name=op.f('ck_data_exports_ready_has_file')),
    sa.CheckConstraint("state IN ('requested', 'building', 'ready', 'failed', 'expired')", name=op.f('ck_data_exports_state')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_data_exports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_exports')),
    sa.UniqueConstraint('file_name', name=op.f('uq_data_exports_file_name'))
    )
    op.create_index('ix_data_exports_state_requested', 'data_exports', ['state', 'requested_at'])
    op.create_index('ix_data_exports_user_requested', 'data_exports',
                    ['user_id', 'requested_at', 'id'])
    running = sa.text("state IN ('requested', 'building')")
    op.create_index('uq_data_exports_running_user', 'data_exports', ['user_id'], unique=True,
                    sqlite_where=running, postgresql_where=running)


def downgrade():
    op.drop_index('uq_data_exports_running_user', table_name='data_exports')
    op.drop_index('ix_data_exports_user_requested', table_name='data_exports')
    op.drop_index('ix_data_exports_state_requested', table_name='data_exports')
    op.drop_table('data_exports')
