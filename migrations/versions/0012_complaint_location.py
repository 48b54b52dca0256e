"""complaint location: the jurisdiction a complainant names, which tells same-named
projects apart (R-SUP-7)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location_code', sa.String(length=12), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_complaint_location_code_jurisdiction'),
                                    'jurisdiction', ['location_code'], ['code'])


def downgrade():
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_complaint_location_code_jurisdiction'),
                                 type_='foreignkey')
        batch_op.drop_column('location_code')
