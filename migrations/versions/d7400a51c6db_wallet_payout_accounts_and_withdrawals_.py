"""wallet: payout accounts and withdrawals through Stripe Connect

With Stripe, a member's withdrawals go to their Connect Express account (kept once
per member with its state), through a Transfer made after the admin's approval; a
withdrawal gains the states of that path (sending, returning, returned), the
Transfer's id, what Stripe said when it failed, and the reversal that returned it.

Revision ID: d7400a51c6db
Revises: 9acf11f47c27
Create Date: 2026-12-03 06:09:50.319993

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7400a51c6db'
down_revision = '9acf11f47c27'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('payout_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=24), nullable=False),
    sa.Column('account_reference', sa.String(length=100), nullable=False),
    sa.Column('is_details_submitted', sa.Boolean(), nullable=False),
    sa.Column('is_payouts_enabled', sa.Boolean(), nullable=False),
    sa.Column('requirements_due', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_payout_accounts_member_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_accounts')),
    sa.UniqueConstraint('member_id', name=op.f('uq_payout_accounts_member_id'))
    )
    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.create_index('uq_payout_accounts_provider_account', ['provider', 'account_reference'], unique=True)

    with op.batch_alter_table('withdrawals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payout_account_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('transfer_reference', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('send_refusals', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('send_failure', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('send_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('return_transfer_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_withdrawals_return_transfer_id'), ['return_transfer_id'])
        batch_op.create_unique_constraint(batch_op.f('uq_withdrawals_transfer_reference'), ['transfer_reference'])
        batch_op.create_foreign_key(batch_op.f('fk_withdrawals_payout_account_id_payout_accounts'), 'payout_accounts', ['payout_account_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_withdrawals_return_transfer_id_transfers'), 'transfers', ['return_transfer_id'], ['id'])
        # by hand: autogenerate doesn't see check constraints
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_state'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_settled_only_when_decided'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_state'),
            "state IN ('requested', 'sending', 'paid', 'rejected', 'returning', 'returned')")
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_settled_only_when_decided'),
            "state NOT IN ('requested', 'sending') OR settle_transfer_id IS NULL")
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_transfer_only_when_paid'),
            "state IN ('paid', 'returning', 'returned') OR transfer_reference IS NULL")
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_return_iff_returned'),
            "(state = 'returned') = (return_transfer_id IS NOT NULL)")



def downgrade():
    with op.batch_alter_table('withdrawals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_return_iff_returned'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_transfer_only_when_paid'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_settled_only_when_decided'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_withdrawals_state'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_state'), "state IN ('requested', 'paid', 'rejected')")
        batch_op.create_check_constraint(
            batch_op.f('ck_withdrawals_settled_only_when_decided'),
            "state <> 'requested' OR settle_transfer_id IS NULL")
        batch_op.drop_constraint(batch_op.f('fk_withdrawals_return_transfer_id_transfers'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_withdrawals_payout_account_id_payout_accounts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_withdrawals_transfer_reference'), type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_withdrawals_return_transfer_id'), type_='unique')
        batch_op.drop_column('return_transfer_id')
        batch_op.drop_column('send_error')
        batch_op.drop_column('send_failure')
        batch_op.drop_column('send_refusals')
        batch_op.drop_column('transfer_reference')
        batch_op.drop_column('payout_account_id')

    with op.batch_alter_table('payout_accounts', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_accounts_provider_account')

    op.drop_table('payout_accounts')
