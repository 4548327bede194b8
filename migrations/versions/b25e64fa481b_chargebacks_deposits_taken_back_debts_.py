"""chargebacks: deposits taken back, debts and their cases

A Stripe dispute or refund takes a deposit back: a ``chargebacks`` row per dispute or
refund (its Stripe id unique, so a second event moves nothing); what the wallet didn't
cover is owed, kept in a debt account the member owns (the ledger_accounts CHECK that
only wallets have an owner now lets debt accounts have one too); a case about the
member names its chargeback (``cases.chargeback_id``, a unique index), with the new
``chargeback`` case kind and ``deposit`` evidence kind in their CHECKs.

SQLite: ``ledger_accounts`` and ``cases`` are referenced by other tables, so batch mode
(which recreates a table) would fail on a database with rows (DROP TABLE runs an
implicit DELETE that breaks their foreign keys). The new column is added in place, and
the two CHECKs are widened in place in the schema (SQLite's documented procedure for
changes that don't touch stored rows: ``writable_schema``, then a new
``schema_version``), which every row already satisfies since the new lists only add
kinds. PostgreSQL drops and recreates the constraints.

Revision ID: b25e64fa481b
Revises: d7400a51c6db
Create Date: 2026-12-03 06:08:15.508668

"""
from alembic import op
import sqlalchemy as sa

CASE_KINDS = ('unpaid_commission', 'dispute_conduct', 'member_report', 'other')
EVIDENCE_KINDS = ('project', 'offer', 'dispute', 'gig')


def _kinds(kinds) -> str:
    return "kind IN (" + ", ".join(repr(k) for k in kinds) + ")"


# (table, old name, old CHECK, new name, new CHECK)
CHECKS = [
    ('ledger_accounts', 'ck_ledger_accounts_owner_iff_wallet',
     "(kind = 'wallet') = (owner_id IS NOT NULL)",
     'ck_ledger_accounts_owner_iff_member_kind',
     "(kind IN ('wallet', 'debt')) = (owner_id IS NOT NULL)"),
    ('cases', 'ck_cases_kind', _kinds(CASE_KINDS),
     'ck_cases_kind', _kinds(CASE_KINDS[:3] + ('chargeback',) + CASE_KINDS[3:])),
]


# revision identifiers, used by Alembic.
revision = 'b25e64fa481b'
down_revision = 'd7400a51c6db'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('chargebacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('deposit_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('provider', sa.String(length=24), nullable=False),
    sa.Column('provider_reference', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=100), server_default='', nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('covered_minor', sa.BigInteger(), nullable=False),
    sa.Column('debt_minor', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.now(), nullable=False),
    sa.Column('returned_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("(state = 'returned') = (returned_at IS NOT NULL)", name=op.f('ck_chargebacks_returned_at_iff_returned')),
    sa.CheckConstraint("kind IN ('dispute', 'refund')", name=op.f('ck_chargebacks_kind')),
    sa.CheckConstraint("state IN ('taken', 'returned')", name=op.f('ck_chargebacks_state')),
    sa.CheckConstraint('amount_minor >= 0 AND covered_minor >= 0 AND debt_minor >= 0', name=op.f('ck_chargebacks_amounts_not_negative')),
    sa.CheckConstraint('covered_minor + debt_minor = amount_minor', name=op.f('ck_chargebacks_parts_add_up')),
    sa.ForeignKeyConstraint(['deposit_id'], ['deposits.id'], name=op.f('fk_chargebacks_deposit_id_deposits')),
    sa.ForeignKeyConstraint(['member_id'], ['users.id'], name=op.f('fk_chargebacks_member_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chargebacks'))
    )
    with op.batch_alter_table('chargebacks', schema=None) as batch_op:
        batch_op.create_index('ix_chargebacks_deposit', ['deposit_id'], unique=False)
        batch_op.create_index('ix_chargebacks_member_created', ['member_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('uq_chargebacks_provider_reference', ['provider', 'provider_reference'], unique=True)

    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE cases ADD COLUMN chargeback_id INTEGER '
                   'CONSTRAINT fk_cases_chargeback_id_chargebacks REFERENCES chargebacks (id)')
    else:
        op.add_column('cases', sa.Column('chargeback_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_cases_chargeback_id_chargebacks'), 'cases',
                              'chargebacks', ['chargeback_id'], ['id'])
    op.create_index('uq_cases_chargeback_id', 'cases', ['chargeback_id'], unique=True)
    for check in CHECKS:
        _replace_check(*check, upgrade=True)
    with op.batch_alter_table('case_evidence', schema=None) as batch_op:  # referenced by none
        batch_op.drop_constraint(op.f('ck_case_evidence_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_case_evidence_kind'),
                                         _kinds(EVIDENCE_KINDS + ('deposit',)))


def downgrade():
    if op.get_bind().execute(sa.text(
            "SELECT count(*) FROM ledger_accounts WHERE kind = 'debt'")).scalar_one():
        # their transfers are immutable and the old CHECK can't describe them
        raise RuntimeError("members' debt accounts exist: this can't be downgraded")
    # what only the new kinds can say goes with them
    op.execute("DELETE FROM case_evidence WHERE kind = 'deposit'")
    op.execute("DELETE FROM case_evidence WHERE case_id IN "
               "(SELECT id FROM cases WHERE kind = 'chargeback')")
    op.execute("UPDATE member_reports SET case_id = NULL WHERE case_id IN "
               "(SELECT id FROM cases WHERE kind = 'chargeback')")
    op.execute("DELETE FROM cases WHERE kind = 'chargeback'")
    with op.batch_alter_table('case_evidence', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_case_evidence_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_case_evidence_kind'), _kinds(EVIDENCE_KINDS))
    for check in reversed(CHECKS):
        _replace_check(*check, upgrade=False)
    op.drop_index('uq_cases_chargeback_id', table_name='cases')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE cases DROP COLUMN chargeback_id')
    else:
        op.drop_constraint(op.f('fk_cases_chargeback_id_chargebacks'), 'cases',
                           type_='foreignkey')
        op.drop_column('cases', 'chargeback_id')
    with op.batch_alter_table('chargebacks', schema=None) as batch_op:
        batch_op.drop_index('uq_chargebacks_provider_reference')
        batch_op.drop_index('ix_chargebacks_member_created')
        batch_op.drop_index('ix_chargebacks_deposit')
    op.drop_table('chargebacks')


def _replace_check(table: str, old_name: str, old: str, new_name: str, new: str, *,
                   upgrade: bool) -> None:
    """Replace the CHECK ``old_name`` (``old``) on ``table`` by ``new_name`` (``new``), or
    back when not ``upgrade``; in place on SQLite (see the top of this file)."""
    if not upgrade:
        old_name, old, new_name, new = new_name, new, old_name, old
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        op.drop_constraint(op.f(old_name), table, type_='check')
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT {new_name} CHECK ({new})')
        return
    found = bind.execute(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' "
                                 "AND name = :t"), {'t': table}).scalar_one()
    clause = f'CONSTRAINT {old_name} CHECK ({old})'
    if found.count(clause) != 1:
        raise RuntimeError(f'{table}: expected one {clause!r} in its schema')
    version = bind.execute(sa.text('PRAGMA schema_version')).scalar_one()
    bind.execute(sa.text('PRAGMA writable_schema = ON'))
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' "
                         "AND name = :t"),
                 {'sql': found.replace(clause, f'CONSTRAINT {new_name} CHECK ({new})'),
                  't': table})
    bind.execute(sa.text(f'PRAGMA schema_version = {version + 1}'))
    bind.execute(sa.text('PRAGMA writable_schema = OFF'))
