"""instance area: the label inboxes filter by (the project's jurisdiction)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 04:25:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engine_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('area', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_engine_instance_area'), ['area'], unique=False)
    # file the instances that exist under their project's jurisdiction
    op.execute("""
        UPDATE engine_instance SET area = (
            SELECT project.location_code FROM application
            JOIN project ON project.id = application.project_id
            WHERE 'application-' || application.id = engine_instance.business_key)
        WHERE business_key LIKE 'application-%'""")
    op.execute("""
        UPDATE engine_instance SET area = (
            SELECT project.location_code FROM inspection
            JOIN project ON project.id = inspection.project_id
            WHERE 'inspection-' || inspection.id = engine_instance.business_key)
        WHERE business_key LIKE 'inspection-%'""")


def downgrade():
    with op.batch_alter_table('engine_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_instance_area'))
        batch_op.drop_column('area')
