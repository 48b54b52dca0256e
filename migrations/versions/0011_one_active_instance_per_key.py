"""one active instance per business key: a race to start a second procedure for the same
application ends in a conflict, not in two procedures

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:40:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ACTIVE = "business_key IS NOT NULL AND status IN ('running', 'waiting', 'error', 'suspended')"


def upgrade():
    op.create_index('uq_engine_instance_active_key', 'engine_instance', ['business_key'],
                    unique=True, postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))


def downgrade():
    op.drop_index('uq_engine_instance_active_key', table_name='engine_instance')
