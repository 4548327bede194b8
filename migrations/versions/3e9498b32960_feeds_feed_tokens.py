"""feeds: feed tokens

One table: a member's feed token, kept as the salt it is derived from (an HMAC under
SECRET_KEY) and its SHA-256 (unique: a feed request finds the member by it); at most
one per member (the primary key). A new table only, so nothing else is rebuilt on
SQLite.

Revision ID: 3e9498b32960
Revises: 0a2417c3b46e
Create Date: 2026-12-03 00:26:36.196113

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3e9498b32960'
down_revision = '0a2417c3b46e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feed_tokens',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('salt', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feed_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_feed_tokens_token_hash'))
    )


def downgrade():
    op.drop_table('feed_tokens')
