"""jobs: last_succeeded_at, when each job last ran without an error

``job_runs.last_succeeded_at``: the end of the job's last run that raised nothing,
kept through failed runs (``last_finished_at`` moves on every run), for the metric of
each job's last success. A job whose last run succeeded gets that run's end; one whose
last run failed gets nothing (when it last succeeded before is not known).

SQLite: a nullable column is added in place; ``job_runs`` has no foreign keys, so the
downgrade's batch mode (which recreates the table) is safe.

Revision ID: f79666da1cd3
Revises: 9b6e4d69c3c7
Create Date: 2026-12-03 09:18:26.193971

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f79666da1cd3'
down_revision = '9b6e4d69c3c7'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('job_runs', sa.Column('last_succeeded_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE job_runs SET last_succeeded_at = last_finished_at "
               "WHERE last_finished_at IS NOT NULL AND last_outcome NOT LIKE 'FAILED%'")


def downgrade():
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_column('last_succeeded_at')
