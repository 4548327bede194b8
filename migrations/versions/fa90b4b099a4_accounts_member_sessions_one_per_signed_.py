"""accounts: member sessions, one per signed-in device

A ``member_sessions`` row per log-in (the sessions page lists them; the user loader
refuses an ended one). The secret's hash is unique: the loader finds the row by it.
Sessions from before this revision carry no device secret, so the loader lets none of
them in: every member logs in once more after the upgrade.

Revision ID: fa90b4b099a4
Revises: b25e64fa481b
Create Date: 2026-12-03 07:34:54.174198

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa90b4b099a4'
down_revision = 'b25e64fa481b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('member_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=255), server_default='', nullable=False),
    sa.Column('browser', sa.String(length=40), nullable=False),
    sa.Column('os', sa.String(length=40), nullable=False),
    sa.Column('address', sa.String(length=45), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_member_sessions_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_sessions')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_member_sessions_secret_hash'))
    )
    op.create_index('ix_member_sessions_user_id', 'member_sessions', ['user_id', 'ended_at'])


def downgrade():
    op.drop_index('ix_member_sessions_user_id', table_name='member_sessions')
    op.drop_table('member_sessions')
