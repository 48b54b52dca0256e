"""definition activation: the version activated last is the one new instances start

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:10:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engine_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE engine_definition SET activated_at = deployed_at")
    with op.batch_alter_table('engine_definition', schema=None) as batch_op:
        batch_op.alter_column('activated_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_engine_definition_key_activated', ['key', 'activated_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('engine_definition', schema=None) as batch_op:
        batch_op.drop_index('ix_engine_definition_key_activated')
        batch_op.drop_column('activated_at')
