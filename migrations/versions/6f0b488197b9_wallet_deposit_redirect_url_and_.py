"""wallet: deposit redirect url and provider events

A real payment provider (Stripe) answers a deposit with the page where the member
pays (kept on the deposit), and confirms it by webhook events, each recorded once so a
redelivery changes nothing.

Revision ID: 6f0b488197b9
Revises: 59ef41bfb642
Create Date: 2026-12-03 02:18:18.526184

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6f0b488197b9'
down_revision = '59ef41bfb642'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=24), nullable=False),
    sa.Column('event_id', sa.String(length=255), nullable=False),
    sa.Column('event_type', sa.String(length=100), nullable=False),
    sa.Column('received_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_events'))
    )
    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.create_index('uq_provider_events_provider_event', ['provider', 'event_id'], unique=True)

    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.add_column(sa.Column('redirect_url', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('payment_reference', sa.String(length=100), nullable=True))



def downgrade():
    with op.batch_alter_table('deposits', schema=None) as batch_op:
        batch_op.drop_column('payment_reference')
        batch_op.drop_column('redirect_url')

    with op.batch_alter_table('provider_events', schema=None) as batch_op:
        batch_op.drop_index('uq_provider_events_provider_event')

    op.drop_table('provider_events')
