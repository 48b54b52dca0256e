"""scheduled runs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 01:20:47.354624

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('engine_scheduled_run',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', 'period', name=op.f('pk_engine_scheduled_run'))
    )



def downgrade():

    op.drop_table('engine_scheduled_run')

