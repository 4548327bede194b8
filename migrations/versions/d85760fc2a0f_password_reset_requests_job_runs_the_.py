"""password reset requests, job runs (the worker's claims)

password_reset_requests: the reset form writes one row for any address; the mail
worker resolves it. job_runs: one row per periodic job, its schedule and lease.

Revision ID: d85760fc2a0f
Revises: 5c3e04f2f2ae
Create Date: 2026-12-02 13:08:04.260795

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd85760fc2a0f'
down_revision = '5c3e04f2f2ae'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_runs',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('next_run_at', sa.DateTime(), nullable=True),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_started_at', sa.DateTime(), nullable=True),
    sa.Column('last_finished_at', sa.DateTime(), nullable=True),
    sa.Column('last_outcome', sa.String(length=300), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_runs'))
    )
    op.create_table('password_reset_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_password_reset_requests'))
    )


def downgrade():
    op.drop_table('password_reset_requests')
    op.drop_table('job_runs')
