"""notification reads: which notices each person has read (消息中心, issue 18), and an index
by audience and id for the unread count and the newest-first list

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 10:40:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # notices before this have no read mark: they count as unread until opened or 全部标为已读
    op.create_table('notification_read',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notification.id'],
                            name=op.f('fk_notification_read_notification_id_notification')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_notification_read_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', 'notification_id', name=op.f('pk_notification_read'))
    )
    op.create_table('notification_cursor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_through', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                            name=op.f('fk_notification_cursor_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_cursor'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_audience_id', ['audience', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_audience_id')
    op.drop_table('notification_cursor')
    op.drop_table('notification_read')
