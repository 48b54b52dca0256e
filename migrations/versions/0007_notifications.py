"""notifications

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 01:25:56.233237

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('notification',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=250), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_audience', ['audience', 'created_at'], unique=False)




def downgrade():

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_audience')

    op.drop_table('notification')

