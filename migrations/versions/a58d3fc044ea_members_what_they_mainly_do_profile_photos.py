"""members: what they mainly do (work_role), profile photos

Revision ID: a58d3fc044ea
Revises: 24ac75f12bce
Create Date: 2026-12-02 10:14:54.524349

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a58d3fc044ea'
down_revision = '24ac75f12bce'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_version', sa.String(length=32), nullable=True))

    # members from before the question do both: the server default fills their rows.
    # SQLite takes the CHECK with the new column; a batch rebuild of users would have
    # to drop a table that every other table's rows point at.
    check = "work_role IN ('pass_on', 'take_on', 'both')"
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(sa.text(
            "ALTER TABLE users ADD COLUMN work_role VARCHAR(16) DEFAULT 'both' NOT NULL "
            f"CONSTRAINT ck_users_work_role CHECK ({check})"))
    else:
        op.add_column('users', sa.Column('work_role', sa.String(length=16), server_default='both', nullable=False))
        op.create_check_constraint(op.f('ck_users_work_role'), 'users', check)


def downgrade():
    # SQLite drops a column whose only CHECK is its own in place (no rebuild of users)
    if op.get_bind().dialect.name == 'sqlite':
        op.execute(sa.text("ALTER TABLE users DROP COLUMN work_role"))
    else:
        op.drop_constraint(op.f('ck_users_work_role'), 'users', type_='check')
        op.drop_column('users', 'work_role')

    with op.batch_alter_table('profiles', schema=None) as batch_op:
        batch_op.drop_column('photo_version')
