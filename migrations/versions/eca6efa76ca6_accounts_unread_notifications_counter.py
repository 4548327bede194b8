"""users.unread_notifications: the top bar's badge as a counter

Every logged-in page showed the count of the member's unread notifications, a COUNT
per request; the member's row now carries it (notify() and the read marks keep it),
filled here from that COUNT. Never negative (a CHECK).

Revision ID: eca6efa76ca6
Revises: d85760fc2a0f
Create Date: 2026-12-02 16:05:28.309448

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'eca6efa76ca6'
down_revision = 'd85760fc2a0f'
branch_labels = None
depends_on = None

CHECK = 'ck_users_unread_notifications_not_negative'


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # the CHECK goes with the column: batch mode would copy the users table, which
        # nearly every table references
        op.execute(f"ALTER TABLE users ADD COLUMN unread_notifications INTEGER DEFAULT '0' "
                   f"NOT NULL CONSTRAINT {CHECK} CHECK (unread_notifications >= 0)")
    else:
        op.add_column('users', sa.Column('unread_notifications', sa.Integer(),
                                         server_default='0', nullable=False))
        op.create_check_constraint(op.f(CHECK), 'users', 'unread_notifications >= 0')
    op.execute(sa.text(
        "UPDATE users SET unread_notifications = (SELECT count(*) FROM notifications "
        "WHERE notifications.user_id = users.id AND notifications.read_at IS NULL)"))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("ALTER TABLE users DROP COLUMN unread_notifications")
    else:
        op.drop_column('users', 'unread_notifications')  # and its CHECK
