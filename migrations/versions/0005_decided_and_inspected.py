"""decided and inspected

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 01:07:27.907448

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_decided_at'), ['decided_at'], unique=False)

    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_inspection_application_id_application'), 'application', ['application_id'], ['id'])




def downgrade():

    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_inspection_application_id_application'), type_='foreignkey')
        batch_op.drop_column('application_id')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_decided_at'))
        batch_op.drop_column('decided_at')


