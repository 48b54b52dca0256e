"""definition forms and lanes: what a version was deployed with beside its diagram

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:10:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade():
    with op.batch_alter_table('engine_definition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('forms', JSON, nullable=True))
        batch_op.add_column(sa.Column('lanes', JSON, nullable=True))


def downgrade():
    with op.batch_alter_table('engine_definition', schema=None) as batch_op:
        batch_op.drop_column('lanes')
        batch_op.drop_column('forms')
