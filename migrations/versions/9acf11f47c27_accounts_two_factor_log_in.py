"""accounts: two-factor log-in

A member's TOTP secret (encrypted, pending until its first code), the time step of the
last code accepted (no replay), and their one-time backup codes, stored hashed.

Revision ID: 9acf11f47c27
Revises: 6f0b488197b9
Create Date: 2026-12-03 06:08:30.278012

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9acf11f47c27'
down_revision = '6f0b488197b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('two_factors',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('enabled_at', sa.DateTime(), nullable=True),
    sa.Column('last_used_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_two_factors_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factors'))
    )
    op.create_table('backup_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_backup_codes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_codes'))
    )
    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('backup_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_backup_codes_user_id'))
    op.drop_table('backup_codes')
    op.drop_table('two_factors')
