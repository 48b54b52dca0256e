"""instance started_by: the person who started an instance, for their list of what they
started (我发起的)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 10:00:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('engine_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_by', sa.String(length=200), nullable=True))
        batch_op.create_index('ix_engine_instance_started_by', ['started_by', 'started_at'],
                              unique=False)
    # the instances people started before: a procedure started by hand has its audit record
    # (process_started, by the starter); an application's procedure was started by the
    # enterprise user who submitted it, whom its history names. What the system started
    # (inspections, monthly samplings) stays NULL.
    op.execute("""
        UPDATE engine_instance SET started_by = (
            SELECT MIN(audit_event.actor) FROM audit_event
            WHERE audit_event.action = 'process_started'
              AND audit_event.object = 'instance:' || engine_instance.id)
        WHERE started_by IS NULL AND EXISTS (
            SELECT 1 FROM audit_event
            WHERE audit_event.action = 'process_started'
              AND audit_event.object = 'instance:' || engine_instance.id)""")
    op.execute("""
        UPDATE engine_instance SET started_by = (
            SELECT MIN(engine_event.actor) FROM engine_event
            JOIN user_account ON user_account.username = engine_event.actor
            WHERE engine_event.instance_id = engine_instance.id
              AND engine_event.kind = 'instance_started')
        WHERE started_by IS NULL AND business_key LIKE 'application-%'""")


def downgrade():
    # in place (SQLite 3.35+ drops a column itself): rebuilding the table, as batch mode
    # would, fails once other tables' rows refer to its rows (foreign keys are on)
    with op.batch_alter_table('engine_instance', schema=None, recreate='never') as batch_op:
        batch_op.drop_index('ix_engine_instance_started_by')
        batch_op.drop_column('started_by')
