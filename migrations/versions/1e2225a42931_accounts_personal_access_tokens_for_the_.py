"""accounts: personal access tokens for the API

One table: a member's tokens for /api/v1, each stored as the SHA-256 of its secret
(unique: the API finds a token by it), its scopes, expiry, last use and revocation.
A new table only, so nothing else is rebuilt on SQLite.

Revision ID: 1e2225a42931
Revises: 47f68d0fd4d7
Create Date: 2026-12-02 20:07:19.648933

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1e2225a42931'
down_revision = '47f68d0fd4d7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('personal_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("scopes <> ''", name=op.f('ck_personal_tokens_scopes_not_empty')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_personal_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_personal_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_personal_tokens_token_hash'))
    )
    op.create_index(op.f('ix_personal_tokens_user_id'), 'personal_tokens', ['user_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_personal_tokens_user_id'), table_name='personal_tokens')
    op.drop_table('personal_tokens')
